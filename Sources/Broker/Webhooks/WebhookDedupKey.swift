import BrokerCore
import Crypto
import Foundation

/// The identity of a webhook across MX's redeliveries.
///
/// Most MX payloads carry no delivery id, so data webhooks are identified by
/// `(type, action, member_guid, completed_at)`, `initial_data_ready` by its `guid`, and anything
/// else by a SHA-256 of its canonical JSON (keys sorted), which MX's identical retries share.
enum WebhookDedupKey {
    static func of(_ body: [String: JSONValue]) -> String {
        let type = body["type"]?.stringValue ?? ""
        if let member = body["member_guid"]?.stringValue, let completedAt = body["completed_at"], completedAt != .null {
            let stamp: String
            if case .integer(let seconds) = completedAt {
                stamp = String(seconds)
            } else {
                stamp = canonical(completedAt)
            }
            return "\(type)|\(body["action"]?.stringValue ?? "")|\(member)|\(stamp)"
        }
        if let guid = body["guid"]?.stringValue {
            return "\(type)|guid|\(guid)"
        }
        let digest = SHA256.hash(data: Data(canonical(.object(body)).utf8))
        return "sha256:" + Hex.string(Array(digest))
    }

    private static func canonical(_ value: JSONValue) -> String {
        BrokerJSON.text(of: value)
    }
}
