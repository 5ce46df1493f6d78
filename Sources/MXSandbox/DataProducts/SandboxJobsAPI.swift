import Foundation
import HTTPTypes
import Hummingbird

/// MX's premium jobs on a member: verification, identification, balance checks, extended
/// history and statements. Each runs for the sandbox's delay (see ``SandboxJob``) and is
/// announced by its webhook when MX has one.
extension MXSandbox {
    func addJobRoutes<Context: RequestContext>(to group: RouterGroup<Context>) {
        // MX's documents answer a verification with 200 and every other job with 202.
        let jobs: [(path: String, kind: SandboxJob.Kind, status: Int)] = [
            ("verify", .verification, 200), ("identify", .identification, 202), ("check_balance", .balanceCheck, 202),
            ("extend_history", .historyExtension, 202), ("fetch_statements", .statementFetch, 202),
        ]
        for job in jobs {
            group.post(RouterPath("users/:user/members/:member/\(job.path)")) { request, context in
                try await apiStatus(request, context, status: job.status) { version in
                    try await startJob(job.kind, context: context, version: version)
                }
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
}
