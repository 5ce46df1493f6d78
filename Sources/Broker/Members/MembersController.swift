import BrokerCore
import BrokerStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MXPlatform
import NIOCore

/// The caller's members: listed from the store (refreshed from MX when stale), refreshed,
/// disconnected, and MX's jobs started on them (aggregation, verification, identification,
/// balance checks, extended history, statements);
/// and `DELETE /v1/me`, which erases the caller.
struct MembersController {
    let provisioner: UserProvisioner
    let store: any MemberStore & UserStore
    let sync: MemberSync
    let mx: MXClient
    /// How old the store's view of a user's members may get before a read goes to MX again.
    let refreshInterval: TimeInterval

    /// How soon a member that is connecting or needs the user may be read from MX again (MX
    /// asks for no faster than every 3 seconds).
    let pollInterval: TimeInterval
    /// The products whose jobs a caller may start.
    let products: EnabledProducts
    let identifications: IdentificationFollower

    init(
        provisioner: UserProvisioner,
        store: any MemberStore & UserStore,
        sync: MemberSync,
        mx: MXClient,
        changes: UserChanges,
        settings: ConnectSettings
    ) {
        self.provisioner = provisioner
        self.store = store
        self.sync = sync
        self.mx = mx
        refreshInterval = settings.memberRefreshInterval.timeInterval
        pollInterval = settings.memberPollInterval.timeInterval
        products = settings.enabledProducts
        identifications = IdentificationFollower(
            sync: sync,
            store: store,
            changes: changes,
            pollInterval: settings.memberPollInterval,
            limit: .seconds(600)
        )
    }

    /// The routes of an app's front end: the app backend's, and disconnecting and erasure.
    func addRoutes(to routes: UserRoutes) {
        addBackendRoutes(to: routes)
        let group = routes.spending(.reads)
        group.delete("members/:member_guid", use: disconnect)
        group.delete("me", use: erase)
    }

    /// The routes the app's backend has too: reading members and starting jobs.
    func addBackendRoutes(to routes: UserRoutes) {
        let group = routes.spending(.reads)
        group.get("members", use: list)
        group.get("members/:member_guid", use: read)
        for job in MXMemberJob.allCases {
            group.post(RouterPath("members/:member_guid/\(job.rawValue)")) { request, context in
                try await start(job, context: context)
            }
        }
    }

    @Sendable func list(_ request: Request, context: BrokerRequestContext) async throws -> Response {
        let query = try ReadQuery(request, dates: false)
        guard let user = try await provisioner.existingUser(subject: try context.requireSubject()) else {
            return JSONAnswer.read(MemberList(members: [], query: query), to: request)
        }
        var members = try await store.members(mxUserGUID: user.mxUserGUID)
        if needsSync(user: user, members: members) {
            try await sync.syncAll(mxUserGUID: user.mxUserGUID)
            members = try await store.members(mxUserGUID: user.mxUserGUID)
        }
        return JSONAnswer.read(MemberList(members: members, query: query), to: request)
    }

    @Sendable func read(_ request: Request, context: BrokerRequestContext) async throws -> Response {
        let (user, guid) = try await context.callerAndMember(provisioner)
        if let stored = try await store.member(guid: guid, mxUserGUID: user.mxUserGUID), isFresh(stored) {
            return JSONAnswer.read(["member": MemberView(member: stored)], to: request)
        }
        return JSONAnswer.read(["member": MemberView(member: try await sync.refresh(memberGUID: guid, mxUserGUID: user.mxUserGUID))], to: request)
    }

    /// Starts `job` on the caller's member: 202 with `"started"` or `"already_running"` under the
    /// job's name (`{"verification": "started", "member": {...}}`).
    func start(_ job: MXMemberJob, context: BrokerRequestContext) async throws -> Response {
        try products.check([job.product])
        let (user, guid) = try await context.callerAndMember(provisioner)
        let before = try await store.member(guid: guid, mxUserGUID: user.mxUserGUID)
        let answer: MXMember
        do {
            answer = try await mx.startJob(job, userGUID: user.mxUserGUID, memberGUID: guid)
        } catch let error as MXError where error.kind == .conflict {
            throw BrokerError(.conflict, .jobConflict, "Another job is running on this member; try again when it has finished.")
        } catch let error as MXError where error.httpStatus == 400 && job != .aggregate {
            throw BrokerError.badRequest(.productNotSupported, "This member's institution does not offer \(job.product.rawValue).")
        }
        let member = try await sync.apply(answer, mxUserGUID: user.mxUserGUID)
        let started = !(before?.isBeingAggregated ?? false) || before?.aggregatedAt != member.aggregatedAt
        if started, job == .identify { identifications.follow(memberGUID: guid, mxUserGUID: user.mxUserGUID) }
        let body = JobAnswer(job: job, state: started ? "started" : "already_running", member: MemberView(member: member))
        return JSONAnswer.response(body, status: .accepted, caching: .revalidate)
    }

    @Sendable func disconnect(_ request: Request, context: BrokerRequestContext) async throws -> Response {
        let (user, guid) = try await context.callerAndMember(provisioner)
        do {
            try await mx.deleteMember(userGUID: user.mxUserGUID, memberGUID: guid)
        } catch let error as MXError where error.kind == .notFound {
            guard try await sync.forget(memberGUID: guid, mxUserGUID: user.mxUserGUID) else {
                throw BrokerError.notFound("No such member for this user.")
            }
            return Response(status: .noContent)
        }
        try await sync.forget(memberGUID: guid, mxUserGUID: user.mxUserGUID)
        context.logger.info("Disconnected member", metadata: ["mx.member.guid": "\(guid)"])
        return Response(status: .noContent)
    }

    @Sendable func erase(_ request: Request, context: BrokerRequestContext) async throws -> Response {
        let subject = try context.requireSubject()
        if let user = try await provisioner.existingUser(subject: subject) {
            provisioner.forget(subject: subject)
            do {
                try await mx.deleteUser(userGUID: user.mxUserGUID)
            } catch let error as MXError where error.kind == .notFound {
                context.logger.info("MX user already gone", metadata: ["mx.user.guid": "\(user.mxUserGUID)"])
            }
            try await store.deleteUser(subject: subject)
            provisioner.forget(subject: subject)
            context.logger.info("Erased user", metadata: ["mx.user.guid": "\(user.mxUserGUID)"])
        }
        return Response(status: .noContent)
    }

    /// A whole-list read from MX is due when the last one is older than the refresh interval, or
    /// older than MX's polling interval while a member is still connecting.
    private func needsSync(user: StoredUser, members: [MemberRecord]) -> Bool {
        guard let synced = user.membersSyncedAt else { return true }
        let age = Date().timeIntervalSince(synced)
        return age >= refreshInterval || (age >= pollInterval && members.contains(where: Self.isSettling))
    }

    private func isFresh(_ member: MemberRecord) -> Bool {
        let age = Date().timeIntervalSince(member.refreshedAt)
        return age < (Self.isSettling(member) ? pollInterval : refreshInterval)
    }

    /// Connecting, aggregating, or waiting for the user: its status may change any moment.
    private static func isSettling(_ member: MemberRecord) -> Bool {
        let action = ActionRequired(connectionStatus: member.connectionStatus)
        return member.isBeingAggregated || (action != .none && action != .terminal)
    }

}

/// `{"members": [...], "pagination": {...}}` over the store's members, paged like MX.
private struct MemberList: Encodable {
    let members: [MemberView]
    let pagination: [String: Int]

    init(members all: [MemberRecord], query: ReadQuery) {
        let perPage = query.recordsPerPage ?? 25
        let page = query.page ?? 1
        let start = min((page - 1) * perPage, all.count)
        members = all[start..<min(start + perPage, all.count)].map(MemberView.init(member:))
        pagination = [
            "current_page": page, "per_page": perPage, "total_entries": all.count,
            "total_pages": max(1, (all.count + perPage - 1) / perPage),
        ]
    }
}

/// `{"<job>": "started" | "already_running", "member": {...}}`, the job named as a noun.
private struct JobAnswer: Encodable {
    let job: MXMemberJob
    let state: String
    let member: MemberView

    private struct Key: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        let name =
            switch job {
            case .aggregate: "aggregation"
            case .verify: "verification"
            case .identify: "identification"
            case .checkBalance: "balance_check"
            case .extendHistory: "history_extension"
            case .fetchStatements: "statement_fetch"
            }
        try container.encode(state, forKey: Key(stringValue: name))
        try container.encode(member, forKey: Key(stringValue: "member"))
    }
}
