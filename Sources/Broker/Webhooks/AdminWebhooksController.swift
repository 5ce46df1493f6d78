import BrokerCore
import BrokerStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The webhook inbox for operators, behind `Authorization: Bearer <ADMIN_TOKEN>`: list (paged,
/// by status, with a total), read one, replay one, and counts by status.
struct AdminWebhooksController {
    let inbox: any WebhookInbox
    let adminToken: Secret
    let wakeUp: WebhookWakeUp

    func addRoutes(to group: RouterGroup<BrokerRequestContext>) {
        let admin = group.add(
            middleware: OperatorTokenMiddleware(token: adminToken, purpose: "admin API", key: "ADMIN_TOKEN", wrongTokenCode: .invalidAdminToken)
        )
        admin.get("webhooks", use: list)
        admin.get("webhooks/counts", use: counts)
        admin.get("webhooks/:id", use: read)
        admin.post("webhooks/:id/replay", use: replay)
    }

    @Sendable func list(_ request: Request, context: BrokerRequestContext) async throws -> Response {
        let query = try ReadQuery(request, dates: false)
        let status: WebhookStatus?
        switch request.uri.queryParameters.get("status") ?? "all" {
        case "all": status = nil
        case let text:
            guard let parsed = WebhookStatus(rawValue: text) else {
                let names = (["all"] + WebhookStatus.allCases.map(\.rawValue)).joined(separator: ", ")
                throw BrokerError.badRequest(.invalidStatus, "status must be one of: \(names).")
            }
            status = parsed
        }
        let page = query.page ?? 1
        let perPage = query.recordsPerPage ?? 25
        let (items, total) = try await inbox.webhooks(status: status, page: page, perPage: perPage)
        let body = WebhookPage(
            webhooks: items.map { InboxView(item: $0, withBody: false) },
            total: total,
            pagination: ["current_page": page, "per_page": perPage, "total_entries": total, "total_pages": max(1, (total + perPage - 1) / perPage)]
        )
        return JSONAnswer.response(body, caching: .revalidate)
    }

    @Sendable func counts(_ request: Request, context: BrokerRequestContext) async throws -> Response {
        let counts = try await inbox.webhookCounts()
        return JSONAnswer.response(["counts": Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, $0.value) })], caching: .revalidate)
    }

    @Sendable func read(_ request: Request, context: BrokerRequestContext) async throws -> Response {
        JSONAnswer.response(["webhook": InboxView(item: try await item(context), withBody: true)], caching: .revalidate)
    }

    @Sendable func replay(_ request: Request, context: BrokerRequestContext) async throws -> Response {
        let existing = try await item(context)
        guard try await inbox.replayWebhook(id: existing.id, now: Date()) else {
            throw BrokerError(.conflict, .webhookProcessing, "This webhook is being processed; replay it when it is done.")
        }
        wakeUp.signal()
        context.logger.info("Webhook replayed", metadata: ["webhook.id": "\(existing.id)"])
        return JSONAnswer.response(["webhook": InboxView(item: try await item(context), withBody: false)], status: .accepted, caching: .revalidate)
    }

    private func item(_ context: BrokerRequestContext) async throws -> InboxItem {
        guard let id = Int64(try context.parameters.require("id")), let item = try await inbox.webhook(id: id) else {
            throw BrokerError.notFound("No such webhook.")
        }
        return item
    }
}

/// Requires the admin token as a bearer token (compared in constant time).
private struct WebhookPage: Encodable {
    let webhooks: [InboxView]
    let total: Int
    let pagination: [String: Int]
}

/// An inbox entry as the admin API shows it.
private struct InboxView: Encodable {
    let item: InboxItem
    let withBody: Bool

    enum CodingKeys: String, CodingKey {
        case id, status, type, action, attempts, duplicates, note, body
        case userGUID = "user_guid"
        case memberGUID = "member_guid"
        case receivedAt = "received_at"
        case nextAttemptAt = "next_attempt_at"
        case processedAt = "processed_at"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(item.id, forKey: .id)
        try container.encode(item.status.rawValue, forKey: .status)
        try container.encode(item.delivery.type, forKey: .type)
        try container.encode(item.delivery.action, forKey: .action)
        try container.encode(item.delivery.mxUserGUID, forKey: .userGUID)
        try container.encode(item.delivery.memberGUID, forKey: .memberGUID)
        try container.encode(item.attempts, forKey: .attempts)
        try container.encode(item.duplicates, forKey: .duplicates)
        try container.encode(item.note, forKey: .note)
        try container.encode(Self.iso(item.delivery.receivedAt), forKey: .receivedAt)
        try container.encode(item.status == .pending ? Self.iso(item.nextAttemptAt) : nil, forKey: .nextAttemptAt)
        try container.encode(item.processedAt.map(Self.iso), forKey: .processedAt)
        if withBody {
            try container.encode(JSONValue.parse(item.delivery.body), forKey: .body)
        }
    }

    private static func iso(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
