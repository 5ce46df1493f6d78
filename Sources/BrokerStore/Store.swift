import Foundation

/// Durable state of the broker, made of one narrow protocol per concern so that code names only
/// the part it uses. Implementations: ``SQLiteStore`` (embedded default) and ``PostgresStore``
/// (several replicas on one database); both pass the same conformance suite.
///
/// Every method is safe to call concurrently from any task. Member changes and the events that
/// announce them are written in one transaction, so an event is never published for a change
/// that was not stored, nor a change stored without its event.
public protocol Store: StoreSchema, UserStore, MemberStore, EventLog, WidgetEventLog, WebhookInbox, AuditLog {}

/// The store's schema and its readiness.
public protocol StoreSchema: Sendable {
    /// Brings the schema up to date; safe to call on every start.
    func migrate() async throws
    /// Throws when the store cannot serve requests (unreachable, or migrations not applied).
    func checkReady() async throws
}

/// App users and the MX users made for them.
public protocol UserStore: Sendable {
    /// The MX user mapped to an app user, if one was made.
    func user(subject: String) async throws -> StoredUser?
    /// The app user mapped to an MX user guid.
    func user(mxUserGUID: String) async throws -> StoredUser?
    /// Records a mapping unless the subject has one already; returns the mapping that is stored.
    func insertUser(_ user: StoredUser) async throws -> StoredUser
    /// Records when the user's member list was last read whole from MX.
    func markMembersSynced(mxUserGUID: String, at date: Date) async throws
    /// Records the digest of the profile last sent to MX for the user.
    func setProfileDigest(_ digest: String, mxUserGUID: String) async throws
    /// Removes the user and every row about them: members, events, relayed widget events.
    func deleteUser(subject: String) async throws
}

/// Each user's members, written with the events that announce their changes.
public protocol MemberStore: Sendable {
    /// The user's members, oldest first.
    func members(mxUserGUID: String) async throws -> [MemberRecord]
    /// One of the user's members.
    func member(guid: String, mxUserGUID: String) async throws -> MemberRecord?
    /// Reads the stored member (or `nil`), lets `change` decide its new record and the events
    /// that announce the change, and writes both (returning them) — in one transaction that no other writer of
    /// the same member, in any process, can interleave with. Nothing is written (and no event
    /// appended) for a user who is not stored, or a member that was deleted: a read of MX that
    /// raced a deletion cannot bring the member back.
    func updateMember(
        guid: String,
        mxUserGUID: String,
        _ change: @escaping @Sendable (MemberRecord?) -> (record: MemberRecord, events: [NewEvent])
    ) async throws -> (record: MemberRecord, events: [StoredEvent])
    /// Removes one of the user's members for good and appends `events`, atomically; `nil` when
    /// there was none.
    func deleteMember(guid: String, mxUserGUID: String, events: [NewEvent]) async throws -> [StoredEvent]?
}

/// The events streams replay, numbered per store.
public protocol EventLog: Sendable {
    /// The user's events with a sequence number above `sequence`, oldest first, at most `limit`.
    func events(mxUserGUID: String, after sequence: Int64, limit: Int) async throws -> [StoredEvent]
    /// Calls `handler` with the MX user guid of each event another process stores, until the
    /// task is cancelled (a store only one process uses has none to report).
    func followEvents(_ handler: @escaping @Sendable (String) async -> Void) async
    /// Appends `events` to a stored user's stream, announcing what is not a member's change (a
    /// microdeposit's new status); nothing is appended for a user who is not stored.
    func appendEvents(_ events: [NewEvent], mxUserGUID: String) async throws -> [StoredEvent]
    /// The highest event sequence number of the user, or 0.
    func lastEventSequence(mxUserGUID: String) async throws -> Int64
    /// Deletes relayed widget events received before `widgetEventsBefore` and events created
    /// before `eventsBefore`; returns how many rows went.
    func prune(widgetEventsBefore: Date, eventsBefore: Date) async throws -> Int
}

/// The widget events front ends relayed, kept for support and audit.
public protocol WidgetEventLog: Sendable {
    /// Records relayed widget events.
    func recordWidgetEvents(_ records: [WidgetEventRecord]) async throws
}

/// Who read account numbers and owners, kept for operators (and beyond a user's erasure: an
/// entry holds guids and a keyed hash, never the data read).
public protocol AuditLog: Sendable {
    /// Records one read durably, before its data is answered.
    func recordAudit(_ entry: AuditEntry) async throws
    /// One page of the entries matching `filter`, newest first, and how many match.
    func auditEntries(matching filter: AuditFilter, page: Int, perPage: Int) async throws -> (items: [AuditRecord], total: Int)
    /// Deletes entries recorded before `date`; returns how many went.
    func pruneAudit(before date: Date) async throws -> Int
}

/// MX's webhook deliveries, committed before they are acknowledged and worked through later.
public protocol WebhookInbox: Sendable {
    /// Commits a delivery, or counts it as a duplicate when its dedup key is known.
    func enqueueWebhook(_ delivery: WebhookDelivery) async throws -> EnqueueResult
    /// Leases up to `limit` due deliveries (pending and due, or processing with an expired lease)
    /// to the caller for `lease` seconds, counting an attempt on each.
    func claimWebhooks(limit: Int, lease: TimeInterval, now: Date) async throws -> [InboxItem]
    /// Ends processing of a delivery as `processed`, `ignored` or `dead`, with a note.
    func finishWebhook(id: Int64, status: WebhookStatus, note: String?, now: Date) async throws
    /// Puts a failed delivery back, due again at `date`.
    func retryWebhook(id: Int64, error: String, at date: Date) async throws
    /// One page of the inbox, newest first, optionally of one status; and how many match.
    func webhooks(status: WebhookStatus?, page: Int, perPage: Int) async throws -> (items: [InboxItem], total: Int)
    /// One delivery of the inbox.
    func webhook(id: Int64) async throws -> InboxItem?
    /// Makes a delivery due again with its attempts reset; false when it is unknown or being processed.
    func replayWebhook(id: Int64, now: Date) async throws -> Bool
    /// How many deliveries are in each status.
    func webhookCounts() async throws -> [WebhookStatus: Int]
}

extension StoreSchema {
    /// Returns once the store is reachable and its migrations have run (this process's start-up,
    /// or `connect-broker migrate` elsewhere, may still be applying them), looking again after a
    /// wait that grows from 50 ms to 5 s; throws `CancellationError` when cancelled.
    public func waitUntilReady() async throws {
        var wait = Duration.milliseconds(50)
        while true {
            try Task.checkCancellation()
            if (try? await checkReady()) != nil { return }
            try await Task.sleep(for: wait)
            wait = min(wait * 2, .seconds(5))
        }
    }
}

extension MemberStore {
    /// Inserts or replaces a member and appends `events` for its user, atomically (see
    /// ``updateMember(guid:mxUserGUID:_:)``).
    public func saveMember(_ member: MemberRecord, events: [NewEvent]) async throws -> [StoredEvent] {
        try await updateMember(guid: member.guid, mxUserGUID: member.mxUserGUID) { _ in (member, events) }.events
    }
}

/// Why the store could not do what it was asked.
public enum StoreError: Error, Sendable, Equatable {
    /// The schema is older than this build expects.
    case migrationsPending
    /// A row the store had just written or found could not be read back (another writer
    /// removed it in between).
    case rowVanished
}
