import Foundation

/// A simulated MX user.
struct SandboxUser: Codable, Sendable {
    let guid: String
    var id: String?
    var email: String?
    var metadata: String?
    var isDisabled: Bool

    var json: SandboxJSON {
        .object([
            ("email", .string(email)), ("guid", .string(guid)), ("id", .string(id)),
            ("is_disabled", .bool(isDisabled)), ("metadata", .string(metadata)),
        ])
    }
}

/// A simulated member: one user's connection to one institution.
struct SandboxMember: Codable, Sendable {
    let guid: String
    let userGUID: String
    var id: String?
    var metadata: String?
    let institutionCode: String
    let createdAt: Date
    let credentialsAccepted: Bool
    var aggregationStartedAt: Date

    /// The day (since 1970, UTC) the member was created; its history ends there.
    var createdDay: Int { SandboxClock.day(of: createdAt) }
}

/// Where a member stands at one moment, derived from its timestamps.
struct SandboxMemberStatus: Sendable {
    let connectionStatus: String
    let connectionStatusID: Int
    let isBeingAggregated: Bool
    let successfullyAggregatedAt: Date?
    let aggregatedAt: Date

    /// Whether the member has connected at least once, so its accounts exist.
    var hasData: Bool { successfullyAggregatedAt != nil }

    /// A member moves CREATED → CONNECTED (or DENIED) once `delay` has passed since creation; each
    /// later aggregation runs for `delay` too.
    init(member: SandboxMember, now: Date, delay: TimeInterval) {
        let firstResultAt = member.createdAt.addingTimeInterval(delay)
        aggregatedAt = member.aggregationStartedAt
        guard now >= firstResultAt else {
            (connectionStatus, connectionStatusID, isBeingAggregated, successfullyAggregatedAt) = ("CREATED", 0, true, nil)
            return
        }
        guard member.credentialsAccepted else {
            (connectionStatus, connectionStatusID, isBeingAggregated, successfullyAggregatedAt) = ("DENIED", 2, false, nil)
            return
        }
        let latestEndsAt = member.aggregationStartedAt.addingTimeInterval(delay)
        connectionStatus = "CONNECTED"
        connectionStatusID = 6
        isBeingAggregated = now < latestEndsAt
        successfullyAggregatedAt = now >= latestEndsAt ? latestEndsAt : firstResultAt
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
    /// The page language: the first tag of the `Accept-Language` the URL was minted with.
    let language: String
}
