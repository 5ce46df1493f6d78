import Foundation

/// Durable state of the broker. Implementations: ``SQLiteStore`` (embedded default).
///
/// Every method is safe to call concurrently from any task. Member changes and the events that
/// announce them are written in one transaction, so an event is never published for a change
/// that was not stored, nor a change stored without its event.
public protocol Store: Sendable {
    /// Brings the schema up to date; safe to call on every start.
    func migrate() async throws
    /// Throws when the store cannot serve requests (unreachable, or migrations not applied).
    func checkReady() async throws

    // MARK: Users

    /// The MX user mapped to an app user, if one was made.
    func user(subject: String) async throws -> StoredUser?
    /// Records a mapping unless the subject has one already; returns the mapping that is stored.
    func insertUser(_ user: StoredUser) async throws -> StoredUser
    /// Records when the user's member list was last read whole from MX.
    func markMembersSynced(mxUserGUID: String, at date: Date) async throws
    /// Removes the user and every row about them: members, events, relayed widget events.
    func deleteUser(subject: String) async throws

    // MARK: Members

    /// The user's members, oldest first.
    func members(mxUserGUID: String) async throws -> [MemberRecord]
    /// One of the user's members.
    func member(guid: String, mxUserGUID: String) async throws -> MemberRecord?
    /// Inserts or replaces a member and appends `events` for its user, atomically.
    func saveMember(_ member: MemberRecord, events: [NewEvent]) async throws -> [StoredEvent]
    /// Removes one of the user's members and appends `events`, atomically; `nil` when there was none.
    func deleteMember(guid: String, mxUserGUID: String, events: [NewEvent]) async throws -> [StoredEvent]?

    // MARK: Events

    /// The user's events with a sequence number above `sequence`, oldest first, at most `limit`.
    func events(mxUserGUID: String, after sequence: Int64, limit: Int) async throws -> [StoredEvent]
    /// The highest event sequence number of the user, or 0.
    func lastEventSequence(mxUserGUID: String) async throws -> Int64
    /// Records relayed widget events.
    func recordWidgetEvents(_ records: [WidgetEventRecord]) async throws
    /// Deletes relayed widget events received before `widgetEventsBefore` and events created
    /// before `eventsBefore`; returns how many rows went.
    func prune(widgetEventsBefore: Date, eventsBefore: Date) async throws -> Int
}
