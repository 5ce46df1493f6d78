import Foundation
import HTTPTypes
import Hummingbird

/// A user's transactions: all of them, an account's or a member's, filtered by date and paged.
extension MXSandbox {
    func addTransactionRoutes<Context: RequestContext>(to group: RouterGroup<Context>) {
        group.get("users/:user/transactions") { request, context in
            try await api(request, context) { version in
                let user = try await user(context, version)
                let all = try await accounts(of: user).flatMap(SandboxLedger.transactions(of:))
                return try transactionList(all, user: user, request: request, version: version)
            }
        }
        group.get("users/:user/accounts/:account/transactions") { request, context in
            try await api(request, context) { version in
                let user = try await user(context, version)
                let account = try await account(context, of: user)
                return try transactionList(SandboxLedger.transactions(of: account), user: user, request: request, version: version)
            }
        }
        group.get("users/:user/members/:member/transactions") { request, context in
            try await api(request, context) { version in
                let (user, member) = try await member(context, version)
                let all = accounts(of: member).flatMap(SandboxLedger.transactions(of:))
                return try transactionList(all, user: user, request: request, version: version)
            }
        }
    }

    /// Filters by `from_date` / `to_date` (`YYYY-MM-DD` in v20111101, unix timestamps in
    /// v20250224; defaults 120 days back and 5 days ahead) and by `from_updated_at` /
    /// `to_updated_at` (the same formats), newest first, then pages; `includes` adds MX's
    /// enhancements it names.
    func transactionList(_ all: [SandboxTransaction], user: SandboxUser, request: Request, version: SandboxAPIVersion) throws -> SandboxJSON {
        let query = request.uri.queryParameters
        let now = Int64(Date().timeIntervalSince1970)
        func bound(_ name: String, default value: Int64, endOfDay: Bool) throws -> Int64 {
            guard let text = query.get(name) else { return value }
            switch version {
            case .v20111101:
                guard let day = SandboxClock.day(parsing: text) else { throw SandboxFailure(400, "\(name) must be YYYY-MM-DD.") }
                return Int64(day) * 86_400 + (endOfDay ? 86_399 : 0)
            case .v20250224:
                guard let seconds = Int64(text) else { throw SandboxFailure(400, "\(name) must be a unix timestamp.") }
                return seconds
            }
        }
        let from = try bound("from_date", default: now - 120 * 86_400, endOfDay: false)
        let to = try bound("to_date", default: now + 5 * 86_400, endOfDay: true)
        let updatedFrom = try bound("from_updated_at", default: .min, endOfDay: false)
        let updatedTo = try bound("to_updated_at", default: .max, endOfDay: true)
        let matching = all.filter { transaction in
            let updated = Int64(transaction.updatedAt.timeIntervalSince1970)
            return transaction.timestamp >= from && transaction.timestamp <= to && updated >= updatedFrom && updated <= updatedTo
        }
        .sorted { ($0.day, $0.guid) > ($1.day, $1.guid) }
        let page = SandboxPage(page: query.get("page"), recordsPerPage: query.get("records_per_page"), maximum: 1000).slice(matching)
        let render = rendering(version)
        let includes = Set((query.get("includes") ?? "").split(separator: ",").map(String.init))
        return .object([
            ("transactions", .array(page.items.map { render.transaction($0, user: user, includes: includes) })), ("pagination", page.pagination),
        ])
    }
}
