import Foundation
import Logging

/// The sandbox's users, members and widget grants; persisted to a file when one is configured.
actor SandboxState {
    private struct Snapshot: Codable {
        var users: [SandboxUser]
        var members: [SandboxMember]
        var microdeposits: [SandboxMicrodeposit]?
    }

    private var users: [String: SandboxUser] = [:]
    private var members: [String: SandboxMember] = [:]
    private var microdeposits: [String: SandboxMicrodeposit] = [:]
    private var widgetGrants: [String: WidgetGrant] = [:]
    private var widgetSessions: [String: WidgetSession] = [:]
    private let stateFile: URL?
    private let logger: Logger

    init(stateFile: String?, logger: Logger) {
        self.stateFile = stateFile.map { URL(fileURLWithPath: $0) }
        self.logger = logger
        if let url = self.stateFile, let data = try? Data(contentsOf: url) {
            do {
                let snapshot = try JSONDecoder().decode(Snapshot.self, from: data)
                users = Dictionary(snapshot.users.map { ($0.guid, $0) }, uniquingKeysWith: { first, _ in first })
                members = Dictionary(snapshot.members.map { ($0.guid, $0) }, uniquingKeysWith: { first, _ in first })
                microdeposits = Dictionary((snapshot.microdeposits ?? []).map { ($0.guid, $0) }, uniquingKeysWith: { first, _ in first })
            } catch {
                logger.warning("Sandbox state file unreadable; starting empty", metadata: ["sandbox.state_file": "\(url.path)"])
            }
        }
    }

    // MARK: Users

    func createUser(id: String?, email: String?, metadata: String?, isDisabled: Bool) throws(SandboxFailure) -> SandboxUser {
        if let id, users.values.contains(where: { Self.sameBytes($0.id, id) }) {
            throw SandboxFailure(409, "A user with this id already exists.")
        }
        let user = SandboxUser(guid: Self.newGUID("USR"), id: id, email: email, metadata: metadata, isDisabled: isDisabled)
        users[user.guid] = user
        save()
        return user
    }

    func updateUser(_ guid: String, id: String?, email: String?, metadata: String?, isDisabled: Bool?) throws(SandboxFailure) -> SandboxUser {
        guard var user = users[guid] else { throw SandboxFailure(404, "User not found.") }
        if let id, users.values.contains(where: { Self.sameBytes($0.id, id) && $0.guid != guid }) {
            throw SandboxFailure(409, "A user with this id already exists.")
        }
        if let id { user.id = id }
        if let email { user.email = email }
        if let metadata { user.metadata = metadata }
        if let isDisabled { user.isDisabled = isDisabled }
        users[guid] = user
        save()
        return user
    }

    /// All users, oldest first, optionally only those with `id` / `email`.
    func listUsers(id: String?, email: String?) -> [SandboxUser] {
        users.values
            .filter { user in (id == nil || Self.sameBytes(user.id, id)) && (email == nil || Self.sameBytes(user.email, email)) }
            .sorted { $0.guid < $1.guid }
    }

    /// The user whose guid — or, when `byIDToo`, whose partner id — is `identifier`.
    func user(_ identifier: String, byIDToo: Bool) -> SandboxUser? {
        if let user = users[identifier] { return user }
        guard byIDToo else { return nil }
        return users.values.first { Self.sameBytes($0.id, identifier) }
    }

    func deleteUser(_ guid: String) {
        users[guid] = nil
        members = members.filter { $0.value.userGUID != guid }
        microdeposits = microdeposits.filter { $0.value.userGUID != guid }
        widgetGrants = widgetGrants.filter { $0.value.userGUID != guid }
        save()
    }

    // MARK: Members

    /// Creates a member; MX allows one member per user, institution and set of credentials, so
    /// a second one with the same `credentialsDigest` is refused with 409.
    func createMember(
        userGUID: String,
        id: String?,
        metadata: String?,
        institutionCode: String,
        credentialsAccepted: Bool,
        credentialsDigest: String?,
        oauthReturnURL: String?,
        now: Date
    ) throws(SandboxFailure) -> SandboxMember {
        if let credentialsDigest,
            members.values.contains(where: {
                $0.userGUID == userGUID && $0.institutionCode == institutionCode && $0.credentialsDigest == credentialsDigest
            })
        {
            throw SandboxFailure(409, "A member with these credentials already exists for this user and institution.")
        }
        let member = SandboxMember(
            guid: Self.newGUID("MBR"),
            userGUID: userGUID,
            id: id,
            metadata: metadata,
            institutionCode: institutionCode,
            createdAt: now,
            credentialsAccepted: credentialsAccepted,
            credentialsDigest: credentialsDigest,
            aggregationStartedAt: now,
            oauthReturnURL: oauthReturnURL
        )
        members[member.guid] = member
        save()
        return member
    }

    /// Replaces a member's credentials: the connection is attempted again from `now`, and MFA
    /// questions are asked again.
    func updateCredentials(_ guid: String, accepted: Bool, digest: String, now: Date) -> SandboxMember? {
        guard var member = members[guid] else { return nil }
        member.credentialsAccepted = accepted
        member.credentialsDigest = digest
        member.credentialsSetAt = now
        member.aggregationStartedAt = now
        member.challengeAnswer = nil
        members[guid] = member
        save()
        return member
    }

    /// Updates a member's partner `id` and `metadata` where given.
    func updateMember(_ guid: String, id: String?, metadata: String?) -> SandboxMember? {
        guard var member = members[guid] else { return nil }
        if let id { member.id = id }
        if let metadata { member.metadata = metadata }
        members[guid] = member
        save()
        return member
    }

    /// Sets where an OAuth member's authorization page sends the user back to (nil: nowhere).
    func setOAuthReturn(_ guid: String, url: String?) -> SandboxMember? {
        guard var member = members[guid] else { return nil }
        member.oauthReturnURL = url
        members[guid] = member
        save()
        return member
    }

    func members(ofUser userGUID: String) -> [SandboxMember] {
        members.values.filter { $0.userGUID == userGUID }.sorted { $0.createdAt < $1.createdAt }
    }

    /// The user's member whose guid — or, when `byIDToo`, whose partner id — is `identifier`.
    func member(_ identifier: String, ofUser userGUID: String, byIDToo: Bool) -> SandboxMember? {
        if let member = members[identifier], member.userGUID == userGUID { return member }
        guard byIDToo else { return nil }
        return members.values.first { $0.userGUID == userGUID && Self.sameBytes($0.id, identifier) }
    }

    func deleteMember(_ guid: String) {
        members[guid] = nil
        save()
    }

    /// Starts an aggregation unless one is running; returns the member as it is afterwards. Another
    /// job running is MX's 409.
    func aggregate(_ guid: String, now: Date, delay: TimeInterval) throws(SandboxFailure) -> SandboxMember {
        guard var member = members[guid] else { throw SandboxFailure(404, "Member not found.") }
        switch SandboxMemberStatus(member: member, now: now, delay: delay).runningJob {
        case .aggregation: return member
        case .premium: throw SandboxFailure(409, "Another job is running on this member.")
        case nil:
            member.aggregationStartedAt = now
            members[guid] = member
            save()
            return member
        }
    }

    /// Starts a premium job as MX does: 400 when the institution does not offer its product, the
    /// member as it is when the same job runs (`alreadyRunning`), 409 when another job does.
    func startJob(
        _ kind: SandboxJob.Kind,
        on guid: String,
        now: Date,
        delay: TimeInterval
    ) throws(SandboxFailure) -> (
        member: SandboxMember, alreadyRunning: Bool
    ) {
        guard var member = members[guid] else { throw SandboxFailure(404, "Member not found.") }
        guard member.institution?.products.contains(kind.product) == true else {
            throw SandboxFailure(400, "This member's institution does not support \(kind.product.rawValue).")
        }
        let status = SandboxMemberStatus(member: member, now: now, delay: delay)
        switch status.runningJob {
        case .premium(kind): return (member, true)
        case .some: throw SandboxFailure(409, "Another job is running on this member.")
        case nil: break
        }
        if let previous = member.job, case .succeeded(let at) = status.jobProgress {
            member.succeededJobs = (member.succeededJobs ?? [:]).merging([previous.kind: at]) { _, latest in latest }
            if previous.kind == .balanceCheck { member.balanceChecks = (member.balanceChecks ?? 0) + 1 }
        }
        member.job = SandboxJob(kind: kind, startedAt: now)
        members[guid] = member
        save()
        return (member, false)
    }

    /// Records the answer to a challenged member's MFA questions: the running job's, when it is
    /// the job that asks, else the connection's.
    func answerChallenges(_ guid: String, isRight: Bool, now: Date, delay: TimeInterval) -> SandboxMember? {
        guard var member = members[guid] else { return nil }
        let answer = SandboxMember.ChallengeAnswer(answeredAt: now, isRight: isRight)
        if SandboxMemberStatus(member: member, now: now, delay: delay).jobProgress == .challenged {
            member.job?.challengeAnswer = answer
        } else {
            member.challengeAnswer = answer
        }
        members[guid] = member
        save()
        return member
    }

    /// Records that the user authorized an OAuth member at the institution.
    func authorizeOAuth(_ guid: String, now: Date) -> SandboxMember? {
        guard var member = members[guid], member.oauthAuthorizedAt == nil else { return members[guid] }
        member.oauthAuthorizedAt = now
        member.aggregationStartedAt = now
        members[guid] = member
        save()
        return member
    }

    /// Whether two partner-chosen ids are the same, as MX compares them: by their bytes, where
    /// Swift's `==` would call `"\u{212A}"` (KELVIN SIGN) and `"K"` equal.
    private static func sameBytes(_ lhs: String?, _ rhs: String?) -> Bool {
        switch (lhs, rhs) {
        case (let lhs?, let rhs?): lhs.utf8.elementsEqual(rhs.utf8)
        case (nil, nil): true
        default: false
        }
    }

    func member(guid: String) -> SandboxMember? {
        members[guid]
    }

    // MARK: Microdeposits

    func addMicrodeposit(_ microdeposit: SandboxMicrodeposit) {
        microdeposits[microdeposit.guid] = microdeposit
        save()
    }

    /// The user's microdeposits, oldest first.
    func microdeposits(ofUser userGUID: String) -> [SandboxMicrodeposit] {
        microdeposits.values.filter { $0.userGUID == userGUID }.sorted { ($0.createdAt, $0.guid) < ($1.createdAt, $1.guid) }
    }

    /// A microdeposit by guid, of any user when `userGUID` is `nil` (MX's verify route names none).
    func microdeposit(_ guid: String, ofUser userGUID: String?) -> SandboxMicrodeposit? {
        guard let found = microdeposits[guid], userGUID == nil || found.userGUID == userGUID else { return nil }
        return found
    }

    func deleteMicrodeposit(_ guid: String) {
        microdeposits[guid] = nil
        save()
    }

    /// Records the user's confirmation of the deposited amounts: 409 unless they have landed
    /// and nothing was confirmed yet.
    func confirmMicrodeposit(_ guid: String, isRight: Bool, now: Date, delay: TimeInterval) throws(SandboxFailure) -> SandboxMicrodeposit {
        guard var microdeposit = microdeposits[guid] else { throw SandboxFailure(404, "Microdeposit not found.") }
        guard microdeposit.state(now: now, delay: delay).status == .deposited else {
            throw SandboxFailure(409, "This microdeposit is not waiting for its amounts.")
        }
        microdeposit.confirmed = .init(at: now, isRight: isRight)
        microdeposits[guid] = microdeposit
        save()
        return microdeposit
    }

    // MARK: Widget URLs

    func grantWidget(_ grant: WidgetGrant) -> String {
        let token = Self.randomHex(bytes: 24)
        widgetGrants[token] = grant
        return token
    }

    /// Uses up a widget token: the grant if it exists and has not expired, once.
    func redeemWidget(token: String, now: Date) -> (session: String, grant: WidgetGrant)? {
        guard let grant = widgetGrants.removeValue(forKey: token), grant.expiresAt > now else { return nil }
        let session = Self.newGUID("SES")
        widgetSessions[session] = WidgetSession(grant: grant)
        return (session, grant)
    }

    func widgetSession(_ session: String) -> WidgetGrant? {
        widgetSessions[session]?.grant
    }

    /// Notes what a widget session has told its host about a member; answers whether the status
    /// is new to the session and whether the member has just become reportable as connected.
    func report(session: String, member: String, status: SandboxMemberStatus) -> (statusIsNew: Bool, connectedNow: Bool) {
        guard var state = widgetSessions[session] else { return (false, false) }
        let statusIsNew = state.reportedStatus[member] != status.connectionStatusID
        state.reportedStatus[member] = status.connectionStatusID
        let isDone = status.connectionStatus == "CONNECTED" && !status.isBeingAggregated
        let connectedNow = isDone && state.reportedConnected.insert(member).inserted
        widgetSessions[session] = state
        return (statusIsNew, connectedNow)
    }

    // MARK: Persistence

    private func save() {
        guard let stateFile else { return }
        let snapshot = Snapshot(users: Array(users.values), members: Array(members.values), microdeposits: Array(microdeposits.values))
        do {
            try JSONEncoder().encode(snapshot).write(to: stateFile, options: .atomic)
        } catch {
            logger.error("Sandbox state not saved", metadata: ["sandbox.state_file": "\(stateFile.path)"])
        }
    }

    static func newGUID(_ prefix: String) -> String {
        "\(prefix)-\(UUID().uuidString.lowercased())"
    }

    static func randomHex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}

/// What one widget session has shown its host so far.
struct WidgetSession: Sendable {
    let grant: WidgetGrant
    var reportedStatus: [String: Int] = [:]
    var reportedConnected: Set<String> = []
}

/// A refusal of the simulated API: an HTTP status, a message, and for the widget page the
/// events it must still emit.
struct SandboxFailure: Error, Sendable {
    let status: Int
    let message: String
    let events: [SandboxJSON]

    init(_ status: Int, _ message: String, events: [SandboxJSON] = []) {
        self.status = status
        self.message = message
        self.events = events
    }
}
