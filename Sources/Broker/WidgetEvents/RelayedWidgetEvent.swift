import BrokerCore
import Foundation

/// A widget event as a front end relays it, parsed and checked against MX's catalogue.
///
/// Two forms are accepted: the web form `{"mx": true, "type": "mx/connect/…", "metadata": {…}}`
/// and the mobile form `{"url": "<scheme>://connect/memberConnected?metadata=<JSON>"}` (the
/// scheme is ignored, a missing `metadata` is `{}`). Types MX's catalogue lacks are kept as
/// unknown; anything that is not an `mx/…` event is refused.
struct RelayedWidgetEvent: Sendable {
    /// The catalogue's spelling of the type, or the type as sent when it is not catalogued.
    let type: String
    /// Whether the type is in MX's catalogue.
    let known: Bool
    let metadata: [String: JSONValue]
    /// The metadata as JSON, as it is stored.
    let metadataText: String

    /// What one event's metadata may take, written as JSON: MX's widget events carry a few guids
    /// and short strings, and every relayed event is stored.
    static let maxMetadataBytes = 4096

    /// The `user_guid` the event claims to be about, if it names one.
    var claimedUserGUID: JSONValue? { metadata["user_guid"] }

    init(_ value: JSONValue) throws(BrokerError) {
        guard let object = value.objectValue else {
            throw Self.invalid("Each widget event must be a JSON object.")
        }
        let rawType: String
        let metadata: JSONValue
        if let url = object["url"] {
            guard let text = url.stringValue else { throw Self.invalid("url must be a string such as mx://connect/memberConnected?metadata=….") }
            (rawType, metadata) = try Self.parse(url: text)
        } else {
            guard let type = object["type"]?.stringValue else {
                throw Self.invalid("Send {\"mx\": true, \"type\": \"mx/…\", \"metadata\": {…}} or {\"url\": \"mx://…\"}.")
            }
            if let flag = object["mx"], flag != .bool(true) {
                throw Self.invalid("mx must be true for an MX widget event.")
            }
            rawType = type
            metadata = object["metadata"] ?? .object([:])
        }
        guard rawType.lowercased().hasPrefix("mx/"), rawType.count > 3, rawType.utf8.count <= 128 else {
            throw Self.invalid("'\(rawType.prefix(64))' is not an MX widget event: types start with mx/.")
        }
        guard let fields = metadata.objectValue else {
            throw Self.invalid("metadata must be a JSON object.")
        }
        metadataText = BrokerJSON.text(of: metadata)
        guard metadataText.utf8.count <= Self.maxMetadataBytes else {
            throw Self.invalid("The metadata of one event may take at most \(Self.maxMetadataBytes) bytes.")
        }
        if let canonical = WidgetEventCatalogue.canonicalType(rawType) {
            if let problem = WidgetEventCatalogue.problem(in: fields, of: canonical) {
                throw Self.invalid("\(canonical): \(problem).")
            }
            type = canonical
            known = true
        } else {
            type = rawType
            known = false
        }
        self.metadata = fields
    }

    /// `scheme://host/path?metadata=…` → (`mx/host/path`, metadata), as MX's SDKs read it.
    private static func parse(url text: String) throws(BrokerError) -> (String, JSONValue) {
        guard let components = URLComponents(string: text), components.scheme != nil, let host = components.host, !host.isEmpty else {
            throw invalid("url must look like mx://connect/memberConnected?metadata=….")
        }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        let type = "mx/" + host + (path.isEmpty ? "" : "/" + path)
        let values = (components.queryItems ?? []).filter { $0.name == "metadata" }.compactMap(\.value)
        guard !values.isEmpty else { return (type, .object([:])) }
        guard let metadata = try? JSONDecoder().decode(JSONValue.self, from: Data(values.joined().utf8)) else {
            throw invalid("The metadata of \(type) is not valid JSON.")
        }
        return (type, metadata)
    }

    private static func invalid(_ message: String) -> BrokerError {
        BrokerError.badRequest(.invalidWidgetEvent, message)
    }
}
