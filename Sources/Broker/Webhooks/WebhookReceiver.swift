import BrokerCore
import BrokerStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// `POST /v1/webhooks/mx`: MX's webhook deliveries, committed to the inbox before the 204.
///
/// A delivery must come from an allowed source (when `MX_WEBHOOK_ALLOWED_CIDRS` is set) and carry
/// the configured HTTP Basic credentials (none → 401, wrong → 403, compared in constant time). A
/// duplicate of a stored delivery answers 204 too and is only counted. Processing happens later,
/// in ``WebhookProcessor``.
struct WebhookReceiver {
    let inbox: any WebhookInbox
    let credentials: WebhookCredentials?
    let sources: WebhookSourcePolicy
    let maxBodyBytes: Int
    let wakeUp: WebhookWakeUp

    init(inbox: any WebhookInbox, settings: WebhookSettings, maxBodyBytes: Int, wakeUp: WebhookWakeUp) {
        self.inbox = inbox
        credentials = settings.credentials
        sources = settings.sources
        self.maxBodyBytes = maxBodyBytes
        self.wakeUp = wakeUp
    }

    func addRoutes(to group: RouterGroup<BrokerRequestContext>) {
        group.post("webhooks/mx", use: receive)
    }

    @Sendable func receive(_ request: Request, context: BrokerRequestContext) async throws -> Response {
        guard sources.allows(request: request, peer: context.peerAddress) else {
            context.logger.warning("Webhook from a source outside the allow-list", metadata: ["net.peer.ip": "\(context.peerAddress ?? "?")"])
            throw BrokerError(.forbidden, .sourceNotAllowed, "Webhooks are not accepted from this address.")
        }
        guard let credentials else {
            throw BrokerError(.serviceUnavailable, .webhooksNotConfigured, "This broker has no webhook credentials configured.")
        }
        try credentials.check(request.headers[.authorization])
        let (body, bytes) = try await JSONBody.readWithBytes(request, limit: maxBodyBytes)
        guard let object = body.objectValue else {
            throw BrokerError.badRequest(.invalidWebhook, "A webhook body must be a JSON object.")
        }
        let delivery = WebhookDelivery(
            dedupKey: WebhookDedupKey.of(object),
            type: object["type"]?.stringValue,
            action: object["action"]?.stringValue,
            mxUserGUID: object["user_guid"]?.stringValue,
            memberGUID: object["member_guid"]?.stringValue,
            body: String(buffer: bytes),
            receivedAt: Date()
        )
        switch try await inbox.enqueueWebhook(delivery) {
        case .accepted(let id):
            context.logger.info("Webhook received", metadata: ["webhook.id": "\(id)", "webhook.type": "\(delivery.type ?? "?")"])
            wakeUp.signal()
        case .duplicate(let id):
            context.logger.info("Duplicate webhook", metadata: ["webhook.id": "\(id)", "webhook.type": "\(delivery.type ?? "?")"])
        }
        return Response(status: .noContent)
    }
}

/// The HTTP Basic credentials MX sends with each webhook.
struct WebhookCredentials: Sendable {
    private let digest: SecretDigest

    init(username: String, password: Secret) {
        digest = SecretDigest("\(username):\(password.value)")
    }

    /// Throws 401 without credentials and 403 with wrong ones; compares hashes in constant time.
    func check(_ header: String?) throws(BrokerError) {
        guard let header, header.lowercased().hasPrefix("basic "),
            let decoded = Data(base64Encoded: String(header.dropFirst(6).trimmingOptionalWhitespace))
        else {
            throw BrokerError(
                .unauthorized,
                .missingCredentials,
                "Webhooks need HTTP Basic credentials.",
                headers: [.wwwAuthenticate: "Basic realm=\"mx-webhooks\""]
            )
        }
        guard digest.matches(decoded) else {
            throw BrokerError(.forbidden, .invalidCredentials, "The webhook credentials are wrong.")
        }
    }
}

/// Which addresses may deliver webhooks, and which proxies' `X-Forwarded-For` is believed.
struct WebhookSourcePolicy: Sendable {
    let allowed: [CIDRRange]
    let trustedProxies: [CIDRRange]

    /// Without an allow-list every source may deliver.
    func allows(request: Request, peer: String?) -> Bool {
        guard !allowed.isEmpty else { return true }
        guard let source = clientAddress(request: request, peer: peer) else { return false }
        return allowed.contains { $0.contains(source) }
    }

    /// The peer, or — when the peer is a trusted proxy — the right-most address in
    /// `X-Forwarded-For` that is not itself a trusted proxy.
    func clientAddress(request: Request, peer: String?) -> String? {
        guard let peer else { return nil }
        guard trustedProxies.contains(where: { $0.contains(peer) }), let forwarded = request.headers[.xForwardedFor] else { return peer }
        let hops = forwarded.split(separator: ",").map { String($0.trimmingOptionalWhitespace) }
        return hops.last { hop in !trustedProxies.contains { $0.contains(hop) } } ?? hops.first ?? peer
    }
}

extension HTTPField.Name {
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
}
