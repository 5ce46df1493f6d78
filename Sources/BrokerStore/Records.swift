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
    /// A digest of the profile (email, names) last sent to MX for this user, if one was.
    public var profileDigest: String?

    public init(
        subject: String,
        mxUserID: String,
        mxUserGUID: String,
        createdAt: Date,
        membersSyncedAt: Date? = nil,
        profileDigest: String? = nil
    ) {
        self.subject = subject
        self.mxUserID = mxUserID
        self.mxUserGUID = mxUserGUID
        self.createdAt = createdAt
        self.profileDigest = profileDigest
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
    /// The `completed_at` (unix seconds) of the newest data webhook applied to this member.
    public var lastCompletedAt: Int64?

    public init(
        guid: String,
        mxUserGUID: String,
        institutionCode: String?,
        name: String?,
        connectionStatus: String?,
        isBeingAggregated: Bool,
        aggregatedAt: String?,
        successfullyAggregatedAt: String?,
        refreshedAt: Date,
        lastCompletedAt: Int64? = nil
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
        self.lastCompletedAt = lastCompletedAt
    }
}

/// An event to append to a user's stream.
public struct NewEvent: Sendable, Equatable {
    /// `member.updated`, `member.deleted`, `aggregation.completed`, `connection.action_required`,
    /// `verification.completed`, `identity.completed`, `balances.updated`, `history.extended`, `statements.ready`.
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

/// A webhook delivery from MX, as received.
public struct WebhookDelivery: Sendable, Equatable {
    /// Identifies the delivery across MX's retries: `(type, action, member_guid, completed_at)`,
    /// or a hash of the canonical body when those are missing.
    public let dedupKey: String
    public let type: String?
    public let action: String?
    public let mxUserGUID: String?
    public let memberGUID: String?
    /// The body as MX sent it.
    public let body: String
    public let receivedAt: Date

    public init(dedupKey: String, type: String?, action: String?, mxUserGUID: String?, memberGUID: String?, body: String, receivedAt: Date) {
        self.dedupKey = dedupKey
        self.type = type
        self.action = action
        self.mxUserGUID = mxUserGUID
        self.memberGUID = memberGUID
        self.body = body
        self.receivedAt = receivedAt
    }
}

/// Where a webhook stands in the inbox.
public enum WebhookStatus: String, Sendable, CaseIterable, Codable {
    /// Waiting to be processed (first time, or again after a failure).
    case pending
    /// Claimed by a worker until its lease expires.
    case processing
    /// Done: its effects are stored and announced.
    case processed
    /// Done: about nothing the broker knows (an unknown user or member, an unhandled type).
    case ignored
    /// Failed too often; kept for inspection and replay.
    case dead
}

/// Whether an enqueued delivery was new.
public enum EnqueueResult: Sendable, Equatable {
    /// Stored for processing, with its inbox id.
    case accepted(Int64)
    /// Seen before (MX retried it); counted, not processed again.
    case duplicate(Int64)
}

/// A webhook in the inbox.
public struct InboxItem: Sendable, Equatable {
    public let id: Int64
    public let delivery: WebhookDelivery
    public let status: WebhookStatus
    /// Processing attempts so far.
    public let attempts: Int
    /// How many times MX delivered it again.
    public let duplicates: Int
    public let nextAttemptAt: Date
    /// The last failure, or why it was ignored.
    public let note: String?
    public let processedAt: Date?

    public init(
        id: Int64,
        delivery: WebhookDelivery,
        status: WebhookStatus,
        attempts: Int,
        duplicates: Int,
        nextAttemptAt: Date,
        note: String?,
        processedAt: Date?
    ) {
        self.id = id
        self.delivery = delivery
        self.status = status
        self.attempts = attempts
        self.duplicates = duplicates
        self.nextAttemptAt = nextAttemptAt
        self.note = note
        self.processedAt = processedAt
    }
}

/// One read of account numbers or owners as the audit log keeps it: who read whose data, when and
/// through which route; never the data itself.
public struct AuditEntry: Sendable, Equatable {
    public let at: Date
    /// The method and route template (`GET /v1/members/{member_guid}/account_numbers`).
    public let route: String
    public let memberGUID: String?
    public let accountGUID: String?
    public let microdepositGUID: String?
    /// The keyed hash of the app user whose data was read (the log's `user.hash`).
    public let userHash: String
    /// `user` for the app's user with their token, `backend:<key name>` for the app's backend.
    public let caller: String
    public let requestID: String

    public init(
        at: Date,
        route: String,
        memberGUID: String?,
        accountGUID: String?,
        microdepositGUID: String? = nil,
        userHash: String,
        caller: String,
        requestID: String
    ) {
        self.at = at
        self.route = route
        self.memberGUID = memberGUID
        self.accountGUID = accountGUID
        self.microdepositGUID = microdepositGUID
        self.userHash = userHash
        self.caller = caller
        self.requestID = requestID
    }
}

/// An audit entry as stored, numbered in the order it was recorded.
public struct AuditRecord: Sendable, Equatable {
    public let id: Int64
    public let entry: AuditEntry

    public init(id: Int64, entry: AuditEntry) {
        self.id = id
        self.entry = entry
    }
}

/// Which audit entries an operator asks for; `nil` fields match every entry.
public struct AuditFilter: Sendable, Equatable {
    public var userHash: String?
    public var memberGUID: String?
    /// Entries at or after this time.
    public var from: Date?
    /// Entries before this time.
    public var until: Date?

    public init(userHash: String? = nil, memberGUID: String? = nil, from: Date? = nil, until: Date? = nil) {
        self.userHash = userHash
        self.memberGUID = memberGUID
        self.from = from
        self.until = until
    }
}
