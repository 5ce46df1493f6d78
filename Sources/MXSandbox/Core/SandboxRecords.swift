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

    /// The day (since 1970, UTC) the member was created; its history ends there.
    var createdDay: Int { SandboxClock.day(of: createdAt) }

    var institution: SandboxInstitution? { SandboxInstitution.named(institutionCode) }
}

/// Where a member stands at one moment, derived from its timestamps.
///
/// Every step takes the configured delay: creation → CONNECTED (standard), → CHALLENGED then,
/// once answered, RESUMED → CONNECTED or REJECTED (MFA), authorization → CONNECTED (OAuth), or
/// creation → DENIED (wrong credentials). Later aggregations run for the delay too.
struct SandboxMemberStatus: Sendable {
    let connectionStatus: String
    let connectionStatusID: Int
    let isBeingAggregated: Bool
    let successfullyAggregatedAt: Date?
    let aggregatedAt: Date

    /// Whether the member has connected at least once, so its accounts exist.
    var hasData: Bool { successfullyAggregatedAt != nil }

    var isChallenged: Bool { connectionStatus == "CHALLENGED" }

    init(member: SandboxMember, now: Date, delay: TimeInterval) {
        let state = Self.derive(member: member, now: now, delay: delay)
        (connectionStatus, connectionStatusID, isBeingAggregated, successfullyAggregatedAt) = state
        aggregatedAt = member.aggregationStartedAt
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
}
