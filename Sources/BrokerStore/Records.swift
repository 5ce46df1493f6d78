import Foundation

/// The broker's mapping of an app user (the token's `sub`) to the MX user made for them.
public struct StoredUser: Sendable, Equatable {
    /// The app's user id: the `sub` claim of the caller's token.
    public let subject: String
    /// The partner-defined `id` the MX user was created with (derived from the subject, no PII).
    public let mxUserID: String
    /// MX's guid of that user, `USR-…`.
    public let mxUserGUID: String
    public let createdAt: Date
    /// When the user's member list was last read whole from MX.
    public var membersSyncedAt: Date?

    public init(subject: String, mxUserID: String, mxUserGUID: String, createdAt: Date, membersSyncedAt: Date? = nil) {
        self.subject = subject
        self.mxUserID = mxUserID
        self.mxUserGUID = mxUserGUID
        self.createdAt = createdAt
        self.membersSyncedAt = membersSyncedAt
    }
}

/// What the broker knows of one member (a connection to one institution).
public struct MemberRecord: Sendable, Equatable {
    public var guid: String
    public var mxUserGUID: String
    public var institutionCode: String?
    public var name: String?
    /// MX's connection status (`CONNECTED`, `CHALLENGED`, …), `nil` for members without credentials.
    public var connectionStatus: String?
    public var isBeingAggregated: Bool
    /// MX's `aggregated_at`: when the latest aggregation started (ISO 8601, as MX wrote it).
    public var aggregatedAt: String?
    /// MX's `successfully_aggregated_at` (ISO 8601, as MX wrote it).
    public var successfullyAggregatedAt: String?
    /// When this record was last confirmed with MX.
    public var refreshedAt: Date

    public init(
        guid: String,
        mxUserGUID: String,
        institutionCode: String?,
        name: String?,
        connectionStatus: String?,
        isBeingAggregated: Bool,
        aggregatedAt: String?,
        successfullyAggregatedAt: String?,
        refreshedAt: Date
    ) {
        self.guid = guid
        self.mxUserGUID = mxUserGUID
        self.institutionCode = institutionCode
        self.name = name
        self.connectionStatus = connectionStatus
        self.isBeingAggregated = isBeingAggregated
        self.aggregatedAt = aggregatedAt
        self.successfullyAggregatedAt = successfullyAggregatedAt
        self.refreshedAt = refreshedAt
    }
}

/// An event to append to a user's stream.
public struct NewEvent: Sendable, Equatable {
    /// `member.updated`, `member.deleted`, `aggregation.completed`, `connection.action_required`.
    public let kind: String
    /// The event's JSON data.
    public let payload: String

    public init(kind: String, payload: String) {
        self.kind = kind
        self.payload = payload
    }
}

/// An event in a user's stream, numbered by the store.
public struct StoredEvent: Sendable, Equatable {
    /// Increases with every event in the store: the SSE event id.
    public let sequence: Int64
    public let mxUserGUID: String
    public let kind: String
    public let payload: String
    public let createdAt: Date

    public init(sequence: Int64, mxUserGUID: String, kind: String, payload: String, createdAt: Date) {
        self.sequence = sequence
        self.mxUserGUID = mxUserGUID
        self.kind = kind
        self.payload = payload
        self.createdAt = createdAt
    }
}

/// A widget event relayed by a front end.
public struct WidgetEventRecord: Sendable, Equatable {
    public let mxUserGUID: String
    /// The event type, canonical when it is in MX's catalogue (`mx/connect/memberConnected`).
    public let type: String
    /// Whether the type is in MX's catalogue.
    public let known: Bool
    /// The event's metadata as JSON text.
    public let metadata: String
    public let receivedAt: Date

    public init(mxUserGUID: String, type: String, known: Bool, metadata: String, receivedAt: Date) {
        self.mxUserGUID = mxUserGUID
        self.type = type
        self.known = known
        self.metadata = metadata
        self.receivedAt = receivedAt
    }
}
