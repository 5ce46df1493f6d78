import Foundation
import HTTPTypes
import Hummingbird

/// Instant account verification and account-owner identification: MX's `verify` and `identify`
/// jobs on a member, then the account numbers and owners they fetched.
extension MXSandbox {
    func addVerificationRoutes<Context: RequestContext>(to group: RouterGroup<Context>) {
        // MX's documents answer a verification with 200 and an identification with 202.
        group.post("users/:user/members/:member/verify") { request, context in
            try await apiStatus(request, context, status: 200) { version in
                try await startJob(.verification, context: context, version: version)
            }
        }
        group.post("users/:user/members/:member/identify") { request, context in
            try await apiStatus(request, context, status: 202) { version in
                try await startJob(.identification, context: context, version: version)
            }
        }
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

    private func startJob<Context: RequestContext>(_ kind: SandboxJob.Kind, context: Context, version: SandboxAPIVersion) async throws -> SandboxJSON
    {
        let (user, found) = try await member(context, version)
        let (member, alreadyRunning) = try await state.startJob(kind, on: found.guid, now: Date(), delay: delay)
        if !alreadyRunning { webhooks.watch(memberGUID: member.guid, after: delay) }
        return .object([("member", rendering(version).member(member, user: user))])
    }

    private func hasSucceeded(_ kind: SandboxJob.Kind, on member: SandboxMember) -> Bool {
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
