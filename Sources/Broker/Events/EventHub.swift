import BrokerCore
import BrokerStore
import Foundation
import ServiceLifecycle

/// Wakes a user's open event streams when the store has new events for them.
///
/// The hub carries no event data: streams read events from the store by sequence number, so a
/// wake-up can be coalesced or lost without losing an event. It also ticks each stream for its
/// heartbeat, from one timer that takes the streams in turns so their store reads spread over
/// the interval, and ends every stream at shutdown.
actor EventHub {
    /// Why a stream wakes up.
    enum Signal: Sendable {
        case newEvents
        case heartbeat
    }

    /// How many streams may be open: per user, so one user cannot hold the broker's file
    /// descriptors, and in all, short of the process's open-file limit.
    struct Limits: Sendable {
        /// Streams one user may hold open; `nil` for no limit.
        var perUser: Int?
        /// Streams the broker holds open at most.
        var total: Int

        static let none = Limits(perUser: nil, total: .max)
    }

    /// Why a stream was not opened.
    enum Refusal: Error {
        /// The user has `perUser` streams open already.
        case userAtLimit(Int)
        /// The broker holds as many streams as it may.
        case brokerAtLimit
    }

    private struct Subscriber {
        let continuation: AsyncStream<Signal>.Continuation
        /// Which of the ticker's turns heartbeats this stream.
        let turn: Int
    }

    /// Each heartbeat interval is split into this many turns.
    private static let turns = 16

    /// Streams by their user's MX guid, compared by its bytes (``ByteKey``) like every map of
    /// the broker's keyed by text.
    private var subscribers: [ByteKey: [UUID: Subscriber]] = [:]
    private var isClosed = false
    /// Per user with open streams: how many times they were woken, so a shared read is joined
    /// only by streams woken before it started.
    private var wakeUps: [ByteKey: UInt64] = [:]
    private var reads: [ByteKey: (wakeUp: UInt64, task: Task<[StoredEvent], any Error>)] = [:]
    /// The turn the next stream gets: streams are dealt round the turns as they open.
    private var nextTurn = 0
    private var ticker: Task<Void, Never>?
    /// Streams open, over every user.
    private(set) var openStreams = 0
    let heartbeat: Duration
    let limits: Limits

    init(heartbeat: Duration, limits: Limits = .none) {
        self.heartbeat = heartbeat
        self.limits = limits
    }

    /// A hub with the heartbeat and limits of `settings`.
    init(_ settings: EventSettings) {
        self.init(heartbeat: settings.heartbeat, limits: settings.hubLimits)
    }

    /// Opens a stream of signals for a user's events; end it with ``unsubscribe(_:mxUserGUID:)``.
    /// Refused when the user, or the broker, holds as many streams as ``limits`` allow.
    func subscribe(mxUserGUID: String) throws(Refusal) -> (id: UUID, signals: AsyncStream<Signal>) {
        let (stream, continuation) = AsyncStream<Signal>.makeStream(bufferingPolicy: .bufferingNewest(2))
        let id = UUID()
        guard !isClosed else {
            continuation.finish()
            return (id, stream)
        }
        let key = ByteKey(mxUserGUID)
        if let perUser = limits.perUser, subscribers[key]?.count ?? 0 >= perUser { throw .userAtLimit(perUser) }
        guard openStreams < limits.total else { throw .brokerAtLimit }
        subscribers[key, default: [:]][id] = Subscriber(continuation: continuation, turn: nextTurn)
        openStreams += 1
        nextTurn = (nextTurn + 1) % Self.turns
        if ticker == nil {
            ticker = Task { [weak self, heartbeat] in
                var turn = 0
                while !Task.isCancelled {
                    try? await Task.sleep(for: heartbeat / Self.turns)
                    guard let self else { return }
                    await self.beat(turn: turn)
                    turn = (turn + 1) % Self.turns
                }
            }
        }
        return (id, stream)
    }

    /// Sends a heartbeat to the streams whose turn it is.
    private func beat(turn: Int) {
        for byID in subscribers.values {
            for subscriber in byID.values where subscriber.turn == turn {
                subscriber.continuation.yield(.heartbeat)
            }
        }
    }

    func unsubscribe(_ id: UUID, mxUserGUID: String) {
        let mxUserGUID = ByteKey(mxUserGUID)
        guard let subscriber = subscribers[mxUserGUID]?.removeValue(forKey: id) else { return }
        openStreams -= 1
        subscriber.continuation.finish()
        if subscribers[mxUserGUID]?.isEmpty == true {
            subscribers[mxUserGUID] = nil
            wakeUps[mxUserGUID] = nil
        }
    }

    /// Tells the user's open streams that there are new events.
    func publish(mxUserGUID: String) {
        let mxUserGUID = ByteKey(mxUserGUID)
        guard subscribers[mxUserGUID] != nil else { return }
        wakeUps[mxUserGUID, default: 0] &+= 1
        for subscriber in subscribers[mxUserGUID]?.values ?? [:].values {
            subscriber.continuation.yield(.newEvents)
        }
    }

    /// The user's stored events after `sequence`, read once for all of their streams that ask
    /// together: one event wakes every stream of its user, and they all ask the same question.
    /// A read that started before the latest wake-up is not joined, so it cannot hide the
    /// events that wake-up announced.
    /// `read` asks the store; it runs once for all the streams that join it.
    func events(
        of mxUserGUID: String,
        after sequence: Int64,
        limit: Int,
        read: @escaping @Sendable () async throws -> [StoredEvent]
    ) async throws -> [StoredEvent] {
        let key = ByteKey("\(mxUserGUID)|\(sequence)|\(limit)")
        let wakeUp = wakeUps[ByteKey(mxUserGUID), default: 0]
        if let shared = reads[key], shared.wakeUp == wakeUp { return try await shared.task.value }
        let task = Task { try await read() }
        reads[key] = (wakeUp, task)
        let result = await task.result
        if reads[key]?.task == task { reads[key] = nil }
        return try result.get()
    }

    /// Ends every stream and refuses new ones (graceful shutdown).
    func close() {
        isClosed = true
        ticker?.cancel()
        for (_, byID) in subscribers {
            for subscriber in byID.values {
                subscriber.continuation.finish()
            }
        }
        subscribers = [:]
        openStreams = 0
    }

    /// The key under which the streams of a subject with no MX user yet wait for one: no MX guid
    /// holds a `:`, so it meets none of them.
    static func waitingKey(subject: String) -> String {
        "subject:" + subject
    }
}

/// Closes the hub's streams when the application shuts down, so open SSE responses end.
///
/// The server shuts down before the other services and waits for responses in progress, so
/// its connections close the hub first, as soon as they hear of the shutdown (``ShutdownNotice``);
/// this service closes it when no connection was open to do so.
struct EventHubService: Service, CustomStringConvertible {
    var description: String { "EventHubService" }

    let hub: EventHub

    func run() async throws {
        try? await gracefulShutdown()
        await hub.close()
    }
}

/// Wakes this replica's event streams, and drops its cached reads, for events other replicas
/// store (PostgreSQL's LISTEN/NOTIFY), until the application shuts down.
struct ReplicaEventsService: Service, CustomStringConvertible {
    var description: String { "ReplicaEventsService" }

    let store: any EventLog
    let changes: UserChanges

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await store.followEvents { mxUserGUID in
                await changes.changed(mxUserGUID: mxUserGUID)
            }
        }
    }
}
