import BrokerCore
import BrokerStore
import Foundation
import Hummingbird

/// The audit log for operators, behind `Authorization: Bearer <ADMIN_TOKEN>`:
/// `GET /v1/admin/audit`, newest first, paged, filtered by `user_id` (the app's user id, matched
/// through its keyed hash), `member_guid`, `from` and `until` (ISO 8601 times).
struct AdminAuditController {
    let log: any AuditLog
    let hasher: SubjectHasher
    let adminToken: Secret

    func addRoutes(to group: RouterGroup<BrokerRequestContext>) {
        group.add(
            middleware: OperatorTokenMiddleware(token: adminToken, purpose: "admin API", key: "ADMIN_TOKEN", wrongTokenCode: .invalidAdminToken)
        )
        .get("audit", use: list)
    }

    @Sendable func list(_ request: Request, context: BrokerRequestContext) async throws -> Response {
        let query = try ReadQuery(request, dates: false)
        let parameters = request.uri.queryParameters
        var filter = AuditFilter()
        if let userID = parameters.get("user_id") {
            filter.userHash = hasher.hash(userID)
        }
        if let memberGUID = parameters.get("member_guid") {
            guard Identifier.isValid(memberGUID) else { throw BrokerError.badRequest(.badRequest, "member_guid must be an MX guid.") }
            filter.memberGUID = memberGUID
        }
        filter.from = try Self.time(parameters.get("from"), name: "from")
        filter.until = try Self.time(parameters.get("until"), name: "until")
        let page = query.page ?? 1
        let perPage = query.recordsPerPage ?? 25
        let (items, total) = try await log.auditEntries(matching: filter, page: page, perPage: perPage)
        let body = AuditPage(
            audit: items.map(AuditView.init),
            pagination: ["current_page": page, "per_page": perPage, "total_entries": total, "total_pages": max(1, (total + perPage - 1) / perPage)]
        )
        return JSONAnswer.response(body, caching: .never)
    }

    private static func time(_ text: String?, name: String) throws(BrokerError) -> Date? {
        guard let text else { return nil }
        guard let date = try? Date(text, strategy: .iso8601) else {
            throw BrokerError.badRequest(.invalidDate, "\(name) must be an ISO 8601 time such as 2026-01-31T12:00:00Z.")
        }
        return date
    }
}

private struct AuditPage: Encodable {
    let audit: [AuditView]
    let pagination: [String: Int]
}

/// An audit entry as operators see it.
private struct AuditView: Encodable {
    let id: Int64
    let at: String
    let route: String
    let member_guid: String?
    let account_guid: String?
    let micro_deposit_guid: String?
    let user_hash: String
    let caller: String
    let request_id: String

    init(_ record: AuditRecord) {
        id = record.id
        at = record.entry.at.formatted(.iso8601)
        route = record.entry.route
        member_guid = record.entry.memberGUID
        account_guid = record.entry.accountGUID
        micro_deposit_guid = record.entry.microdepositGUID
        user_hash = record.entry.userHash
        caller = record.entry.caller
        request_id = record.entry.requestID
    }
}
