import Foundation

/// A simulated MX user.
struct SandboxUser: Codable, Sendable {
    let guid: String
    var id: String?
    var email: String?
    var metadata: String?
    var isDisabled: Bool

    /// MX's `UserResponse`; `email` is left out when the user has none (v20250224 types it a
    /// string that is never null).
    var json: SandboxJSON {
        .object(
            (email.map { [("email", SandboxJSON.string($0))] } ?? []) + [
                ("guid", .string(guid)), ("id", .string(id)), ("is_disabled", .bool(isDisabled)), ("metadata", .string(metadata)),
            ]
        )
    }
}

/// A simulated member: one user's connection to one institution.
struct SandboxMember: Codable, Sendable {
    /// An answer to the member's MFA challenges.
    struct ChallengeAnswer: Codable, Sendable {
        let answeredAt: Date
        let isRight: Bool
    }

    let guid: String
    let userGUID: String
    var id: String?
    var metadata: String?
    let institutionCode: String
    let createdAt: Date
    var credentialsAccepted: Bool
    /// When the credentials were last replaced (`PUT …/members/{guid}`); the connection
    /// attempt runs from then, or from creation.
    var credentialsSetAt: Date?
    /// A digest of the username and password, to refuse a duplicate member (never the values).
    var credentialsDigest: String?
    var aggregationStartedAt: Date
    var challengeAnswer: ChallengeAnswer?
    var oauthAuthorizedAt: Date?
    /// Where the OAuth page sends the user once they authorize (an app scheme or a redirect URL).
    var oauthReturnURL: String?
    /// The latest premium job (verify, identify, …) run on the member.
    var job: SandboxJob?
    /// When each kind of premium job before the latest last succeeded, by ``SandboxJob/Kind``.
    var succeededJobs: [SandboxJob.Kind: Date]?
    /// How many balance checks before the latest job succeeded; each moves the balances.
    var balanceChecks: Int?

    /// The day (since 1970, UTC) the member was created; its history ends there.
    var createdDay: Int { SandboxClock.day(of: createdAt) }

    var institution: SandboxInstitution? { SandboxInstitution.named(institutionCode) }
}

/// A premium job on a member: MX's `verify`, `identify`, ….
struct SandboxJob: Codable, Sendable {
    enum Kind: String, Codable, Sendable, CodingKeyRepresentable {
        case verification
        case identification
        case balanceCheck
        case historyExtension
        case statementFetch

        /// The institution product the job needs; MX sells balance checks with verification.
        var product: SandboxProduct {
            switch self {
            case .verification, .balanceCheck: .accountVerification
            case .identification: .identityVerification
            case .historyExtension: .transactionHistory
            case .statementFetch: .statements
            }
        }

        /// Whether a multi-factor institution asks its questions again for this job (MX notes
        /// that extended history may ask).
        var asksForMFA: Bool { self == .verification || self == .historyExtension }
    }

    let kind: Kind
    let startedAt: Date
    var challengeAnswer: SandboxMember.ChallengeAnswer?

    /// How far the job has got at `now`: it fetches for the delay, then, where it asks for MFA,
    /// waits for the answers and checks them for the delay again.
    enum Progress: Equatable {
        case running
        case challenged
        case resumed
        case rejected
        case succeeded(at: Date)

        var isInProgress: Bool { self == .running || self == .challenged || self == .resumed }
    }

    func progress(at institution: SandboxInstitution?, now: Date, delay: TimeInterval) -> Progress {
        let fetchedAt = startedAt.addingTimeInterval(delay)
        guard now >= fetchedAt else { return .running }
        guard kind.asksForMFA, institution?.scenario == .multiFactor else { return .succeeded(at: fetchedAt) }
        guard let answer = challengeAnswer else { return .challenged }
        let checkedAt = answer.answeredAt.addingTimeInterval(delay)
        if now < checkedAt { return .resumed }
        return answer.isRight ? .succeeded(at: checkedAt) : .rejected
    }
}

/// Where a member stands at one moment, derived from its timestamps.
///
/// Every step takes the configured delay: creation → CONNECTED (standard), → CHALLENGED then,
/// once answered, RESUMED → CONNECTED or REJECTED (MFA), authorization → CONNECTED (OAuth), or
/// creation → DENIED (wrong credentials). Later aggregations run for the delay too, and so does
/// a premium job on a connected member, which may ask for MFA again (see ``SandboxJob``).
struct SandboxMemberStatus: Sendable {
    let connectionStatus: String
    let connectionStatusID: Int
    let isBeingAggregated: Bool
    let successfullyAggregatedAt: Date?
    let aggregatedAt: Date
    /// The latest premium job's progress, once the member has connected.
    let jobProgress: SandboxJob.Progress?
    private let job: SandboxJob?
    private let succeededJobs: [SandboxJob.Kind: Date]
    private let balanceChecksBefore: Int

    /// Whether the member has connected at least once, so its accounts exist.
    var hasData: Bool { successfullyAggregatedAt != nil }

    var isChallenged: Bool { connectionStatus == "CHALLENGED" }

    init(member: SandboxMember, now: Date, delay: TimeInterval) {
        var state = Self.derive(member: member, now: now, delay: delay)
        let progress = member.job.flatMap { job in
            state.status == "CONNECTED" ? job.progress(at: member.institution, now: now, delay: delay) : nil
        }
        switch progress {
        case .running: state.isBeingAggregated = true
        case .challenged: (state.status, state.id, state.isBeingAggregated) = ("CHALLENGED", 3, false)
        case .resumed: (state.status, state.id, state.isBeingAggregated) = ("RESUMED", 18, true)
        case .rejected: (state.status, state.id, state.isBeingAggregated) = ("REJECTED", 4, false)
        case .succeeded, nil: break
        }
        (connectionStatus, connectionStatusID, isBeingAggregated, successfullyAggregatedAt) = state
        aggregatedAt = member.aggregationStartedAt
        jobProgress = progress
        job = member.job
        succeededJobs = member.succeededJobs ?? [:]
        balanceChecksBefore = member.balanceChecks ?? 0
    }

    /// When a job of `kind` last succeeded on the member, if one has.
    func lastSuccess(of kind: SandboxJob.Kind) -> Date? {
        if job?.kind == kind, case .succeeded(let at) = jobProgress { return at }
        return succeededJobs[kind]
    }

    /// When a job of `kind` succeeded before the latest job, if one did: a job repeated adds
    /// nothing new (no history, no statements).
    func successBeforeLatest(of kind: SandboxJob.Kind) -> Date? {
        succeededJobs[kind]
    }

    /// What the member's data looks like now: balances moved by each completed balance check,
    /// and two years of history once an extension has completed.
    var ledgerView: SandboxLedger.View {
        var checks = balanceChecksBefore
        if job?.kind == .balanceCheck, case .succeeded = jobProgress { checks += 1 }
        let extendedAt = lastSuccess(of: .historyExtension)
        return SandboxLedger.View(
            balanceChecks: checks,
            historyDays: extendedAt == nil ? SandboxLedger.historyDays : SandboxLedger.extendedHistoryDays,
            historyExtendedAt: extendedAt
        )
    }

    /// A job on a member, as MX tells them apart to answer 202 for the same and 409 for another.
    enum RunningJob: Equatable {
        /// An aggregation, the connection's first included.
        case aggregation
        case premium(SandboxJob.Kind)
    }

    /// The job running now, if one is.
    var runningJob: RunningJob? {
        if let job, jobProgress?.isInProgress == true { return .premium(job.kind) }
        if isBeingAggregated || isChallenged || connectionStatus == "RESUMED" { return .aggregation }
        return nil
    }

    private typealias State = (status: String, id: Int, isBeingAggregated: Bool, successfullyAggregatedAt: Date?)

    private static func derive(member: SandboxMember, now: Date, delay: TimeInterval) -> State {
        let afterCreation = (member.credentialsSetAt ?? member.createdAt).addingTimeInterval(delay)
        let connectsAt: Date
        switch member.institution?.scenario ?? .standard {
        case _ where !member.credentialsAccepted:
            return now < afterCreation ? ("CREATED", 0, true, nil) : ("DENIED", 2, false, nil)
        case .standard, .denied:
            connectsAt = afterCreation
        case .oauth:
            guard let authorizedAt = member.oauthAuthorizedAt else { return ("CREATED", 0, false, nil) }
            connectsAt = authorizedAt.addingTimeInterval(delay)
        case .multiFactor:
            guard now >= afterCreation else { return ("CREATED", 0, true, nil) }
            guard let answer = member.challengeAnswer else { return ("CHALLENGED", 3, false, nil) }
            connectsAt = answer.answeredAt.addingTimeInterval(delay)
            if now < connectsAt { return ("RESUMED", 18, true, nil) }
            if !answer.isRight { return ("REJECTED", 4, false, nil) }
        }
        guard now >= connectsAt else { return ("CREATED", 0, true, nil) }
        let latestEndsAt = max(connectsAt, member.aggregationStartedAt.addingTimeInterval(delay))
        return ("CONNECTED", 6, now < latestEndsAt, now >= latestEndsAt ? latestEndsAt : connectsAt)
    }
}

/// A minted widget URL, good for one page load before it expires.
struct WidgetGrant: Sendable {
    let userGUID: String
    let expiresAt: Date
    let widgetType: String
    let isMobileWebview: Bool
    let webviewURLScheme: String
    let currentMemberGUID: String?
    let currentInstitutionCode: String?
    let clientRedirectURL: String?
    /// `APP` sends the user back to the app after OAuth; `BROWSER` only tells the widget.
    let oauthReferralSource: String
    /// The page language: the first tag of the `Accept-Language` the URL was minted with.
    let language: String
    /// The premium jobs each connection runs before it is reported connected, in order.
    var jobs: [SandboxJob.Kind] = []
    /// The microdeposit whose flow the widget resumes, if one was named.
    var currentMicrodepositGUID: String? = nil
}
