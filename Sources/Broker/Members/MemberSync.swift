import BrokerStore
import Foundation
import Logging
import MXPlatform

/// Keeps the store's members in step with MX and announces each change as events.
///
/// Every change is read from MX with the caller's own user guid, written to the store together
/// with its events, and only then published to open event streams.
struct MemberSync: Sendable {
    let store: any Store
    let mx: MXClient
    let hub: EventHub

    /// Stores MX's view of a member and appends the events its change warrants.
    @discardableResult
    func apply(_ mxMember: MXMember, mxUserGUID: String) async throws -> MemberRecord {
        let current = MemberRecord(
            guid: mxMember.guid,
            mxUserGUID: mxUserGUID,
            institutionCode: mxMember.institutionCode,
            name: mxMember.name,
            connectionStatus: mxMember.connectionStatus,
            isBeingAggregated: mxMember.isBeingAggregated ?? false,
            aggregatedAt: mxMember.aggregatedAt,
            successfullyAggregatedAt: mxMember.successfullyAggregatedAt,
            refreshedAt: Date()
        )
        let previous = try await store.member(guid: current.guid, mxUserGUID: mxUserGUID)
        let stored = try await store.saveMember(current, events: Self.events(from: previous, to: current))
        if !stored.isEmpty { await hub.publish(mxUserGUID: mxUserGUID) }
        return current
    }

    /// Reads one member from MX and applies it; a member MX does not know is forgotten and not found.
    func refresh(memberGUID: String, mxUserGUID: String) async throws -> MemberRecord {
        do {
            return try await apply(try await mx.readMember(userGUID: mxUserGUID, memberGUID: memberGUID), mxUserGUID: mxUserGUID)
        } catch let error as MXError where error.kind == .notFound {
            try await forget(memberGUID: memberGUID, mxUserGUID: mxUserGUID)
            throw BrokerError.notFound("No such member for this user.")
        }
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
        let event = NewEvent(kind: EventKind.memberDeleted, payload: jsonText(["member_guid": memberGUID]))
        guard try await store.deleteMember(guid: memberGUID, mxUserGUID: mxUserGUID, events: [event]) != nil else { return false }
        await hub.publish(mxUserGUID: mxUserGUID)
        return true
    }

    /// The events announcing the change from `previous` (nil: first seen) to `current`.
    static func events(from previous: MemberRecord?, to current: MemberRecord) -> [NewEvent] {
        var unchanged = current
        unchanged.refreshedAt = previous?.refreshedAt ?? current.refreshedAt
        guard unchanged != previous else { return [] }
        var events = [NewEvent(kind: EventKind.memberUpdated, payload: jsonText(["member": MemberView(member: current)]))]
        if let completedAt = current.successfullyAggregatedAt, !current.isBeingAggregated,
            completedAt != previous?.successfullyAggregatedAt
        {
            events.append(
                NewEvent(
                    kind: EventKind.aggregationCompleted,
                    payload: jsonText(["member_guid": current.guid, "successfully_aggregated_at": completedAt])
                )
            )
        }
        let action = ActionRequired(connectionStatus: current.connectionStatus)
        if action.needsUser, action != previous.map({ ActionRequired(connectionStatus: $0.connectionStatus) }) {
            events.append(
                NewEvent(
                    kind: EventKind.connectionActionRequired,
                    payload: jsonText([
                        "member_guid": current.guid, "action_required": action.rawValue,
                        "connection_status": current.connectionStatus ?? "",
                    ])
                )
            )
        }
        return events
    }
}

/// The kinds of events the broker streams to front ends.
enum EventKind {
    static let memberUpdated = "member.updated"
    static let memberDeleted = "member.deleted"
    static let aggregationCompleted = "aggregation.completed"
    static let connectionActionRequired = "connection.action_required"
}
