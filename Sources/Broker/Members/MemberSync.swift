import BrokerCore
import BrokerStore
import Foundation
import Logging
import MXPlatform

/// Keeps the store's members in step with MX and announces each change as events.
///
/// Every change is read from MX with the caller's own user guid, written to the store together
/// with its events, and only then published to open event streams.
struct MemberSync: Sendable {
    let store: any MemberStore & UserStore
    let mx: MXClient
    let changes: UserChanges
    /// Applies to one member run one at a time, so two reads of MX applied together cannot both
    /// announce the same change.
    let serial = KeyedSerialQueue()

    /// Stores MX's view of a member and appends the events its change warrants; `completion`
    /// is the data webhook that prompted the read, if one did.
    @discardableResult
    func apply(_ mxMember: MXMember, mxUserGUID: String, completion: DataCompletion? = nil) async throws -> MemberRecord {
        try await serial.run(mxMember.guid) {
            try await store(mxMember, mxUserGUID: mxUserGUID, completion: completion)
        }
    }

    /// Reads one member from MX and applies it; a member MX does not know is forgotten and not
    /// found. Reads of one member are made and applied in turn, each a call of its own, so an
    /// older read never overwrites a newer one and every refresh sees what the caller was told
    /// of (a webhook, a relay).
    func refresh(memberGUID: String, mxUserGUID: String, completion: DataCompletion? = nil) async throws -> MemberRecord {
        let found: MemberRecord? = try await serial.run(memberGUID) {
            do {
                let member = try await mx.readMember(userGUID: mxUserGUID, memberGUID: memberGUID)
                return try await store(member, mxUserGUID: mxUserGUID, completion: completion)
            } catch let error as MXError where error.kind == .notFound {
                return nil
            }
        }
        guard let found else {
            try await forget(memberGUID: memberGUID, mxUserGUID: mxUserGUID)
            throw BrokerError.notFound("No such member for this user.")
        }
        return found
    }

    /// Writes MX's view of a member, deciding what to announce against the stored member inside
    /// the store's transaction, so concurrent writers in other replicas cannot both announce it.
    private func store(_ mxMember: MXMember, mxUserGUID: String, completion: DataCompletion?) async throws -> MemberRecord {
        let refreshedAt = Date()
        let (current, stored) = try await store.updateMember(guid: mxMember.guid, mxUserGUID: mxUserGUID) { previous in
            let record = MemberRecord(
                guid: mxMember.guid,
                mxUserGUID: mxUserGUID,
                institutionCode: mxMember.institutionCode,
                name: mxMember.name,
                connectionStatus: mxMember.connectionStatus,
                isBeingAggregated: mxMember.isBeingAggregated ?? false,
                aggregatedAt: mxMember.aggregatedAt,
                successfullyAggregatedAt: mxMember.successfullyAggregatedAt,
                refreshedAt: refreshedAt,
                lastCompletedAt: [previous?.lastCompletedAt, completion?.completedAt].compactMap { $0 }.max()
            )
            return (record, Self.events(from: previous, to: record, completion: completion))
        }
        if !stored.isEmpty { await changes.changed(mxUserGUID: mxUserGUID) }
        return current
    }

    /// Reads the user's whole member list from MX: applies each member, forgets those MX no longer has.
    func syncAll(mxUserGUID: String) async throws {
        let fromMX = try await mx.listMembers(userGUID: mxUserGUID)
        for member in fromMX {
            try await apply(member, mxUserGUID: mxUserGUID)
        }
        let kept = Set(fromMX.map(\.guid))
        for member in try await store.members(mxUserGUID: mxUserGUID) where !kept.contains(member.guid) {
            try await forget(memberGUID: member.guid, mxUserGUID: mxUserGUID)
        }
        try await store.markMembersSynced(mxUserGUID: mxUserGUID, at: Date())
    }

    /// Removes a member's local data and announces `member.deleted`; false when there was none.
    @discardableResult
    func forget(memberGUID: String, mxUserGUID: String) async throws -> Bool {
        let event = NewEvent(kind: EventKind.memberDeleted, payload: BrokerJSON.text(of: ["member_guid": memberGUID]))
        guard try await store.deleteMember(guid: memberGUID, mxUserGUID: mxUserGUID, events: [event]) != nil else { return false }
        await changes.changed(mxUserGUID: mxUserGUID)
        return true
    }

    /// The events announcing the change from `previous` (nil: first seen) to `current`.
    ///
    /// `member.updated` when anything MX reports changed; `aggregation.completed` when a new
    /// successful aggregation shows (with the counts of the webhook that prompted the read, if
    /// any); the webhook's own event (``DataCompletion/eventKind``) when it tells of other
    /// finished work (balances, history, statements, verification) newer than any applied
    /// before — an older or repeated one announces nothing; `connection.action_required` when
    /// the user newly has to act.
    static func events(from previous: MemberRecord?, to current: MemberRecord, completion: DataCompletion? = nil) -> [NewEvent] {
        var comparable = current
        comparable.refreshedAt = previous?.refreshedAt ?? current.refreshedAt
        comparable.lastCompletedAt = previous?.lastCompletedAt
        var events: [NewEvent] = []
        if comparable != previous {
            events.append(NewEvent(kind: EventKind.memberUpdated, payload: BrokerJSON.text(of: ["member": MemberView(member: current)])))
        }
        func completed(_ kind: String, webhook: JSONValue?) {
            let payload = DataCompleted(memberGUID: current.guid, successfullyAggregatedAt: current.successfullyAggregatedAt, webhook: webhook)
            events.append(NewEvent(kind: kind, payload: BrokerJSON.text(of: payload)))
        }
        let otherWork = completion.flatMap { completion -> DataCompletion? in
            guard !completion.movesLastSuccess else { return nil }
            guard let completedAt = completion.completedAt, let last = previous?.lastCompletedAt else { return completion }
            return completedAt > last ? completion : nil
        }
        if Self.finishedNewAggregation(previous: previous, current: current), otherWork?.eventKind != EventKind.aggregationCompleted {
            completed(EventKind.aggregationCompleted, webhook: completion?.movesLastSuccess == true ? completion?.details : nil)
        }
        if let otherWork {
            completed(otherWork.eventKind, webhook: otherWork.details)
        }
        let action = ActionRequired(connectionStatus: current.connectionStatus)
        if action.needsUser, action != previous.map({ ActionRequired(connectionStatus: $0.connectionStatus) }) {
            events.append(
                NewEvent(
                    kind: EventKind.connectionActionRequired,
                    payload: BrokerJSON.text(of: [
                        "member_guid": current.guid, "action_required": action.rawValue,
                        "connection_status": current.connectionStatus ?? "",
                    ])
                )
            )
        }
        return events
    }
}

extension MemberSync {
    /// Whether `current` shows a successful aggregation `previous` did not: a new
    /// `successfully_aggregated_at`, or — as MX's timestamps have whole seconds — an aggregation
    /// seen running that has stopped with a success no older than its start.
    static func finishedNewAggregation(previous: MemberRecord?, current: MemberRecord) -> Bool {
        guard let succeeded = current.successfullyAggregatedAt, !current.isBeingAggregated else { return false }
        if succeeded != previous?.successfullyAggregatedAt { return true }
        guard previous?.isBeingAggregated == true, let started = current.aggregatedAt else { return false }
        return succeeded >= started
    }
}

/// A data webhook's news of finished work on a member (aggregation, balances, history, …).
struct DataCompletion: Sendable {
    /// MX's `completed_at` (unix seconds), when the webhook has one.
    let completedAt: Int64?
    /// Whether the work is an aggregation, which MX also records as the member's
    /// `successfully_aggregated_at` (`AGGREGATION`, `initial_data_ready`).
    let movesLastSuccess: Bool
    /// What MX said: its `type` and counts (`transactions_created_count`, …), without identifiers.
    let details: JSONValue
    /// The event that announces the work.
    let eventKind: String

    /// The news of a data webhook of MX's `type` (upper case), with its `completed_at` and details.
    init(webhookType type: String, completedAt: Int64?, details: JSONValue) {
        self.completedAt = completedAt
        self.details = details
        movesLastSuccess = type == "AGGREGATION" || type == "INITIAL_DATA_READY"
        eventKind =
            switch type {
            case "BALANCE": EventKind.balancesUpdated
            case "HISTORY": EventKind.historyExtended
            case "STATEMENT": EventKind.statementsReady
            case "VERIFICATION": EventKind.verificationCompleted
            default: EventKind.aggregationCompleted
            }
    }
}

/// The data of the events of finished work: `aggregation.completed`, `verification.completed`, ….
private struct DataCompleted: Encodable {
    let memberGUID: String
    let successfullyAggregatedAt: String?
    let webhook: JSONValue?

    enum CodingKeys: String, CodingKey {
        case memberGUID = "member_guid"
        case successfullyAggregatedAt = "successfully_aggregated_at"
        case webhook
    }
}

/// The kinds of events the broker streams to front ends.
enum EventKind {
    static let memberUpdated = "member.updated"
    static let memberDeleted = "member.deleted"
    static let aggregationCompleted = "aggregation.completed"
    static let balancesUpdated = "balances.updated"
    static let historyExtended = "history.extended"
    static let statementsReady = "statements.ready"
    static let verificationCompleted = "verification.completed"
    static let identityCompleted = "identity.completed"
    static let microdepositUpdated = "micro_deposit.updated"
    static let connectionActionRequired = "connection.action_required"
}
