import Foundation
import HTTPTypes
import Hummingbird

/// A user's accounts, all of them, one, or a member's.
extension MXSandbox {
    func addAccountRoutes<Context: RequestContext>(to group: RouterGroup<Context>) {
        group.get("users/:user/accounts") { request, context in
            try await api(request, context) { version in
                let user = try await user(context, version)
                return accountList(try await accounts(of: user), user: user, request: request, version: version)
            }
        }
        group.get("users/:user/accounts/:account") { request, context in
            try await api(request, context) { version in
                let user = try await user(context, version)
                let account = try await account(context, of: user)
                return .object([("account", rendering(version).account(account, user: user))])
            }
        }
        group.get("users/:user/members/:member/accounts") { request, context in
            try await api(request, context) { version in
                let (user, member) = try await member(context, version)
                return accountList(accounts(of: member), user: user, request: request, version: version)
            }
        }
    }

    func accounts(of user: SandboxUser) async throws -> [SandboxAccount] {
        await state.members(ofUser: user.guid).flatMap(accounts(of:))
    }

    /// A member's accounts as its completed jobs left them, once its first aggregation has
    /// succeeded.
    func accounts(of member: SandboxMember) -> [SandboxAccount] {
        let status = SandboxMemberStatus(member: member, now: Date(), delay: delay)
        return status.hasData ? SandboxLedger.accounts(of: member, view: status.ledgerView) : []
    }

    func account<Context: RequestContext>(_ context: Context, of user: SandboxUser) async throws -> SandboxAccount {
        let guid = try context.parameters.require("account")
        guard let account = try await accounts(of: user).first(where: { $0.guid == guid }) else {
            throw SandboxFailure(404, "Account not found.")
        }
        return account
    }

    func accountList(_ accounts: [SandboxAccount], user: SandboxUser, request: Request, version: SandboxAPIVersion) -> SandboxJSON {
        let query = request.uri.queryParameters
        let page = SandboxPage(page: query.get("page"), recordsPerPage: query.get("records_per_page"), maximum: 1000).slice(accounts)
        let render = rendering(version)
        return .object([("accounts", .array(page.items.map { render.account($0, user: user) })), ("pagination", page.pagination)])
    }
}
