import BrokerStore
import Foundation

/// Follows an identification, which MX announces with no webhook: reads the member from MX every
/// poll interval until the job has stopped, then announces `identity.completed` when it ended
/// connected (a member that needs the user is announced by its own `member.updated` and
/// `connection.action_required`).
///
/// It runs in the process that started the job, for at most `limit`; a restart in between
/// leaves the owners readable but unannounced.
struct IdentificationFollower: Sendable {
    let sync: MemberSync
    let store: any MemberStore
    let changes: UserChanges
    let pollInterval: Duration
    let limit: Duration

    func follow(memberGUID: String, mxUserGUID: String) {
        Task {
            let deadline = ContinuousClock.now + limit
            while ContinuousClock.now < deadline {
                try await Task.sleep(for: max(pollInterval, .milliseconds(100)))
                let member = try await sync.refresh(memberGUID: memberGUID, mxUserGUID: mxUserGUID)
                guard member.isBeingAggregated else {
                    if ActionRequired(connectionStatus: member.connectionStatus) == .none { try await announce(member) }
                    return
                }
            }
        }
    }

    private func announce(_ member: MemberRecord) async throws {
        let event = NewEvent(kind: EventKind.identityCompleted, payload: BrokerJSON.text(of: ["member_guid": member.guid]))
        let (_, stored) = try await store.updateMember(guid: member.guid, mxUserGUID: member.mxUserGUID) { previous in
            (previous ?? member, [event])
        }
        if !stored.isEmpty { await changes.changed(mxUserGUID: member.mxUserGUID) }
    }
}
