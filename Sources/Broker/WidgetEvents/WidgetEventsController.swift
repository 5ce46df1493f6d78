import BrokerCore
import BrokerStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// `POST /v1/widget_events`: widget events relayed by the front end, one or a batch of up to 50.
///
/// Relayed events are untrusted: an event naming another user's `user_guid` is refused (403), and
/// the member events (`memberConnected`, `memberStatusUpdate`, `memberDeleted`) only change
/// anything after the member is read again from MX under the caller's own user guid.
struct WidgetEventsController {
    let provisioner: UserProvisioner
    let store: any MemberStore & WidgetEventLog
    let sync: MemberSync
    let maxBodyBytes: Int

    static let maxBatch = 50

    func addRoutes(to routes: UserRoutes) {
        routes.spending(.relays).post("widget_events", use: relay)
    }

    @Sendable func relay(_ request: Request, context: BrokerRequestContext) async throws -> Response {
        let body = try await JSONBody.read(request, limit: maxBodyBytes)
        let isBatch: Bool
        let events: [RelayedWidgetEvent]
        switch body {
        case .array(let items):
            guard (1...Self.maxBatch).contains(items.count) else {
                throw BrokerError.badRequest(.invalidBatch, "A batch holds 1 to \(Self.maxBatch) events.")
            }
            isBatch = true
            var parsed: [RelayedWidgetEvent] = []
            for (index, item) in items.enumerated() {
                do {
                    parsed.append(try RelayedWidgetEvent(item))
                } catch {
                    throw BrokerError(error.status, error.code, "Event \(index): \(error.message)")
                }
            }
            events = parsed
        default:
            isBatch = false
            events = [try RelayedWidgetEvent(body)]
        }
        let user = try await provisioner.user(subject: try context.requireSubject(), profile: context.profile)
        for event in events where event.claimedUserGUID != nil && event.claimedUserGUID != .string(user.mxUserGUID) {
            throw BrokerError(.forbidden, .foreignUserGUID, "\(event.type) names a user_guid that is not the caller's.")
        }
        var outcomes: [Outcome] = []
        var reads = MemberReads()
        for event in events {
            do {
                outcomes.append(try await handle(event, user: user, reads: &reads, logger: context.logger))
            } catch let error as BrokerError where isBatch && error.status == .notFound {
                outcomes.append(
                    Outcome(type: event.type, known: event.known, recorded: false, action: "rejected", member: nil, error: error.code.rawValue)
                )
            }
        }
        return JSONAnswer.response(["events": outcomes], status: .accepted, caching: .never)
    }

    /// Acts on one event (members are confirmed with MX first), then records it.
    private func handle(_ event: RelayedWidgetEvent, user: StoredUser, reads: inout MemberReads, logger: Logger) async throws -> Outcome {
        var action = "recorded"
        var member: MemberRecord?
        switch event.known ? event.type : "" {
        case "mx/connect/memberConnected", "mx/connect/memberStatusUpdate":
            member = try await reads.read(try memberGUID(of: event), of: user, sync: sync).result.get()
            action = "member_refreshed"
        case "mx/connect/memberDeleted":
            let read = try await reads.read(try memberGUID(of: event), of: user, sync: sync)
            switch read.result {
            case .success(let found):
                member = found
                action = "member_still_exists"
            case .failure(let error) where error.status == .notFound && read.wasKnown:
                action = "member_deleted"
            case .failure(let error):
                throw error
            }
        default:
            break
        }
        try await store.recordWidgetEvents([
            WidgetEventRecord(
                mxUserGUID: user.mxUserGUID,
                type: event.type,
                known: event.known,
                metadata: event.metadataText,
                receivedAt: Date()
            )
        ])
        logger.debug("Relayed widget event", metadata: ["widget.event.type": "\(event.type)", "widget.event.action": "\(action)"])
        return Outcome(type: event.type, known: event.known, recorded: true, action: action, member: member.map(MemberView.init(member:)), error: nil)
    }

    private func memberGUID(of event: RelayedWidgetEvent) throws(BrokerError) -> String {
        guard let guid = event.metadata["member_guid"]?.stringValue, Identifier.isValid(guid) else {
            throw BrokerError.notFound("No such member for this user.")
        }
        return guid
    }

    /// The members a request's events name, each read from MX once however many of its events
    /// a batch holds: fifty events about one member make one MX read, not fifty.
    private struct MemberReads {
        /// Whether the store knew the member before it was read, and what the read found.
        typealias Read = (wasKnown: Bool, result: Result<MemberRecord, BrokerError>)

        private var done: [ByteKey: Read] = [:]

        /// The member read from MX under the caller's own user, or what an earlier read of it in
        /// this request found; a read that fails other than "not found" is not kept.
        mutating func read(_ guid: String, of user: StoredUser, sync: MemberSync) async throws -> Read {
            if let earlier = done[ByteKey(guid)] { return earlier }
            let wasKnown = try await sync.store.member(guid: guid, mxUserGUID: user.mxUserGUID) != nil
            let read: Read
            do {
                read = (wasKnown, .success(try await sync.refresh(memberGUID: guid, mxUserGUID: user.mxUserGUID)))
            } catch let error as BrokerError where error.status == .notFound {
                read = (wasKnown, .failure(error))
            }
            done[ByteKey(guid)] = read
            return read
        }
    }

    /// What became of one relayed event.
    struct Outcome: Encodable {
        let type: String
        let known: Bool
        let recorded: Bool
        /// `recorded`, `member_refreshed`, `member_deleted`, `member_still_exists` or `rejected`.
        let action: String
        let member: MemberView?
        let error: String?
    }
}
