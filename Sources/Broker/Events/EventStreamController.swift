import BrokerStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// `GET /v1/events`: the caller's events as Server-Sent Events, and `POST /v1/events/token`.
///
/// Event ids are the store's sequence numbers. A client resuming with `Last-Event-ID` (header, or
/// `last_event_id` in the query) first gets every stored event after it, in order, then live
/// ones; without it the stream starts with the next new event. A comment line is sent as a
/// heartbeat, after a look at the store for events no wake-up announced (stored by another
/// process); the stream ends when the client goes away (noticed at the next write), when the
/// token that opened it expires, or when the broker shuts down gracefully.
///
/// Opening a stream spends a read of the caller's budget, and a caller may hold
/// `MAX_STREAMS_PER_USER` streams at once; past it a new one is refused with 429
/// `too_many_streams` rather than an old one closed, as EventSource reconnects whenever a stream
/// closes, and two sets of tabs would then close each other's streams forever. Streams stop
/// short of the open-file limit (503 `streams_unavailable`). A stream never creates an MX user:
/// a caller without one waits for theirs, then gets every event of it.
struct EventStreamController {
    let provisioner: UserProvisioner
    let store: any EventLog
    let hub: EventHub
    let verifier: TokenVerifier
    let eventsTokens: EventsTokenIssuer
    let limiter: RateLimiter
    /// Logs the end of streams; the request's own logger is not kept for a stream's lifetime.
    let logger: Logger

    /// Events read from the store per round.
    static let batchSize = 500

    /// The stream checks its caller's token itself, as a bearer token or an events token, and
    /// spends a read when it opens.
    func addRoutes(checkingOwnCredentials group: RouterGroup<BrokerRequestContext>, user routes: UserRoutes) {
        group.get("events", use: stream)
        routes.spending(.reads).post("events/token", use: token)
    }

    @Sendable func token(_ request: Request, context: BrokerRequestContext) async throws -> Response {
        let token = try await eventsTokens.issue(subject: try context.requireSubject())
        return JSONAnswer.response(EventsToken(access_token: token, expires_in: Int(eventsTokens.lifetime.components.seconds)), caching: .never)
    }

    /// A stream the caller may read, subscribed to the hub, and where it starts.
    private struct OpenedStream: Sendable {
        let subject: String
        /// The caller's MX user, or `nil` while they have none.
        let mxUserGUID: String?
        let subscription: Subscription
        let start: Int64
        let expiresAt: Date
    }

    /// A stream's place in the hub: the key it is subscribed under and its signals.
    private struct Subscription: Sendable {
        let key: String
        let id: UUID
        let signals: AsyncStream<EventHub.Signal>
    }

    @Sendable func stream(_ request: Request, context: BrokerRequestContext) async throws -> Response {
        // The connection's task keeps the memory of its deepest call for as long as the stream
        // is open, so the deep calls of opening one (verifying the token, reading the store)
        // run in a task of their own, whose memory is freed when it ends.
        let opened = try await Task { try await open(request) }.value
        let (store, hub, provisioner, logger, requestID) = (self.store, self.hub, self.provisioner, self.logger, context.requestID)
        let body = ResponseBody { writer in
            var subscription = opened.subscription
            var mxUserGUID = opened.mxUserGUID
            var last = opened.start
            do {
                try await writer.write(ByteBuffer(string: "retry: 3000\n: connected\n\n"))
                var ended = false
                while !ended {
                    ended = true
                    if let mxUserGUID {
                        last = try await Self.send(after: last, of: mxUserGUID, from: store, through: hub, to: &writer)
                    }
                    for await signal in subscription.signals {
                        guard Date() < opened.expiresAt else {
                            try await writer.write(ByteBuffer(string: ": the token expired; reconnect with a fresh one\n\n"))
                            break
                        }
                        if mxUserGUID == nil, let found = try await provisioner.existingMXUserGUID(subject: opened.subject) {
                            await hub.unsubscribe(subscription.id, mxUserGUID: subscription.key)
                            subscription = try await Self.subscribe(found, to: hub)
                            (mxUserGUID, last, ended) = (found, 0, false)
                            break
                        }
                        if let mxUserGUID {
                            last = try await Self.send(after: last, of: mxUserGUID, from: store, through: hub, to: &writer)
                        }
                        if signal == .heartbeat { try await writer.write(ByteBuffer(string: ": heartbeat\n\n")) }
                    }
                }
                if Date() < opened.expiresAt {
                    try await writer.write(ByteBuffer(string: "retry: 1000\n: server shutting down; reconnect\n\n"))
                }
                try await writer.finish(nil)
            } catch {
                logger.debug("Event stream ended", metadata: ["error.type": "\(type(of: error))", "request.id": "\(requestID)"])
            }
            await hub.unsubscribe(subscription.id, mxUserGUID: subscription.key)
        }
        var headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache"]
        headers[HTTPField.Name("X-Accel-Buffering")!] = "no"
        return Response(status: .ok, headers: headers, body: body)
    }

    private func open(_ request: Request) async throws -> OpenedStream {
        let (subject, expiresAt) = try await caller(request)
        try limiter.spend(.reads, by: subject)
        let lastEventID = try Self.lastEventID(request)
        let mxUserGUID = try await provisioner.existingMXUserGUID(subject: subject)
        let subscription = try await Self.subscribe(mxUserGUID ?? EventHub.waitingKey(subject: subject), to: hub)
        do {
            let start: Int64
            if let lastEventID {
                start = lastEventID
            } else if let mxUserGUID {
                start = try await store.lastEventSequence(mxUserGUID: mxUserGUID)
            } else {
                start = 0
            }
            return OpenedStream(subject: subject, mxUserGUID: mxUserGUID, subscription: subscription, start: start, expiresAt: expiresAt)
        } catch {
            await hub.unsubscribe(subscription.id, mxUserGUID: subscription.key)
            throw error
        }
    }

    /// Subscribes to the hub under `key`, or throws the error a refusal is answered with.
    private static func subscribe(_ key: String, to hub: EventHub) async throws(BrokerError) -> Subscription {
        let subscribed: (id: UUID, signals: AsyncStream<EventHub.Signal>)
        do throws(EventHub.Refusal) {
            subscribed = try await hub.subscribe(mxUserGUID: key)
        } catch {
            switch error {
            case .userAtLimit(let limit):
                throw BrokerError(
                    .tooManyRequests,
                    .tooManyStreams,
                    "This user has \(limit) event streams open already, as many as allowed; close one first.",
                    headers: [.retryAfter: "15"]
                )
            case .brokerAtLimit:
                throw BrokerError(
                    .serviceUnavailable,
                    .streamsUnavailable,
                    "The broker holds as many event streams as it can; try again shortly.",
                    headers: [.retryAfter: "15"]
                )
            }
        }
        return Subscription(key: key, id: subscribed.id, signals: subscribed.signals)
    }

    /// Writes every stored event after `sequence`; returns the last sequence written.
    private static func send(
        after sequence: Int64,
        of mxUserGUID: String,
        from store: any EventLog,
        through hub: EventHub,
        to writer: inout any ResponseBodyWriter
    ) async throws -> Int64 {
        var last = sequence
        while true {
            let after = last
            let events = try await hub.events(of: mxUserGUID, after: after, limit: batchSize) {
                try await store.events(mxUserGUID: mxUserGUID, after: after, limit: batchSize)
            }
            guard !events.isEmpty else { return last }
            var buffer = ByteBuffer()
            for event in events {
                buffer.writeString("id: \(event.sequence)\nevent: \(event.kind)\ndata: \(event.payload)\n\n")
                last = event.sequence
            }
            try await writer.write(buffer)
            if events.count < batchSize { return last }
        }
    }

    /// The subject of the bearer token, or of an events token given as `access_token`, and when
    /// that token expires.
    private func caller(_ request: Request) async throws -> (subject: String, expiresAt: Date) {
        if let header = request.headers[.authorization] {
            guard let token = AuthenticationMiddleware.bearerToken(in: header) else {
                throw BrokerError.unauthorized(.missingToken, "Use the Bearer scheme, or an events token as access_token.")
            }
            let caller = try await verifier.caller(of: token)
            return (caller.subject, caller.expiresAt)
        }
        guard let token = request.uri.queryParameters.get("access_token") else {
            throw BrokerError.unauthorized(.missingToken, "Send a bearer token, or an events token as access_token.")
        }
        return try await eventsTokens.caller(of: token)
    }

    private static func lastEventID(_ request: Request) throws(BrokerError) -> Int64? {
        guard let text = request.headers[HTTPField.Name("Last-Event-ID")!] ?? request.uri.queryParameters.get("last_event_id") else {
            return nil
        }
        guard let value = Int64(text.trimmingOptionalWhitespace), value >= 0 else {
            throw BrokerError.badRequest(.invalidLastEventID, "Last-Event-ID must be an event id this stream sent.")
        }
        return value
    }
}

/// An events token and the seconds it is valid for.
private struct EventsToken: Encodable {
    let access_token: String
    let expires_in: Int
}
