import Foundation
import HTTPTypes
import Hummingbird

/// The account numbers and owners that MX's `verify` and `identify` jobs fetched.
extension MXSandbox {
    func addVerificationRoutes<Context: RequestContext>(to group: RouterGroup<Context>) {
        group.get("users/:user/members/:member/account_numbers") { request, context in
            try await api(request, context) { version in
                let (_, member) = try await member(context, version, byGUIDOnly: true)
                return accountNumberList(verifiedAccounts(accounts(of: member)), request: request, version: version)
            }
        }
        group.get("users/:user/accounts/:account/account_numbers") { request, context in
            try await api(request, context) { version in
                let account = try await account(context, of: try await user(context, version))
                return accountNumberList(verifiedAccounts([account]), request: request, version: version)
            }
        }
        group.get("users/:user/members/:member/account_owners") { request, context in
            try await api(request, context) { version in
                let (_, member) = try await member(context, version)
                let identified = hasSucceeded(.identification, on: member) ? accounts(of: member) : []
                let page = SandboxPage(
                    page: request.uri.queryParameters.get("page"),
                    recordsPerPage: request.uri.queryParameters.get("records_per_page"),
                    maximum: 1000
                )
                .slice(identified)
                let render = rendering(version)
                return .object([
                    ("account_owners", .array(page.items.map { render.accountOwner(SandboxAccountDetails.owner(of: $0), of: $0) })),
                    ("pagination", page.pagination),
                ])
            }
        }
    }

    func hasSucceeded(_ kind: SandboxJob.Kind, on member: SandboxMember) -> Bool {
        SandboxMemberStatus(member: member, now: Date(), delay: delay).lastSuccess(of: kind) != nil
    }

    /// The accounts among `accounts` whose numbers a verification has fetched.
    private func verifiedAccounts(_ accounts: [SandboxAccount]) -> [(SandboxAccount, SandboxAccountDetails.Numbers)] {
        accounts.compactMap { account in
            guard hasSucceeded(.verification, on: account.member), let numbers = SandboxAccountDetails.numbers(of: account) else { return nil }
            return (account, numbers)
        }
    }

    private func accountNumberList(
        _ verified: [(SandboxAccount, SandboxAccountDetails.Numbers)],
        request: Request,
        version: SandboxAPIVersion
    ) -> SandboxJSON {
        let query = request.uri.queryParameters
        let page = SandboxPage(page: query.get("page"), recordsPerPage: query.get("records_per_page"), maximum: 1000).slice(verified)
        let render = rendering(version)
        return .object([
            ("account_numbers", .array(page.items.map { render.accountNumbers($0.1, of: $0.0) })), ("pagination", page.pagination),
        ])
    }
}
