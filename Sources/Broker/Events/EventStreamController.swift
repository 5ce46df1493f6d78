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
/// process); the stream ends when the client goes away (noticed at the next write) or when the
/// broker shuts down gracefully.
struct EventStreamController {
    let provisioner: UserProvisioner
    let store: any Store
    let hub: EventHub
    let verifier: TokenVerifier
    let eventsTokens: EventsTokenIssuer
    /// Logs the end of streams; the request's own logger is not kept for a stream's lifetime.
    let logger: Logger

    /// Events read from the store per round.
    static let batchSize = 500

    func addRoutes(stream group: RouterGroup<BrokerRequestContext>, authenticated: RouterGroup<BrokerRequestContext>) {
        group.get("events", use: stream)
        authenticated.post("events/token", use: token)
    }

    @Sendable func token(_ request: Request, context: BrokerRequestContext) async throws -> Response {
        let token = try await eventsTokens.issue(subject: try context.requireSubject())
        let body = jsonText(["access_token": token, "expires_in": String(Int(eventsTokens.lifetime))])
        return Response(
            status: .ok,
            headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: body))
        )
    }

    /// A stream the caller may read, subscribed to the hub, and where it starts.
    private struct OpenedStream: Sendable {
        let mxUserGUID: String
        let id: UUID
        let signals: AsyncStream<EventHub.Signal>
        let start: Int64
    }

    @Sendable func stream(_ request: Request, context: BrokerRequestContext) async throws -> Response {
        // The connection's task keeps the memory of its deepest call for as long as the stream
        // is open, so the deep calls of opening one (verifying the token, reading the store)
        // run in a task of their own, whose memory is freed when it ends.
        let opened = try await Task { try await open(request) }.value
        let (mxUserGUID, id, signals, start) = (opened.mxUserGUID, opened.id, opened.signals, opened.start)
        let store = self.store
        let hub = self.hub
        let logger = self.logger
        let requestID = context.requestID
        let body = ResponseBody { writer in
            var last = start
            do {
                try await writer.write(ByteBuffer(string: "retry: 3000\n: connected\n\n"))
                last = try await Self.send(after: last, of: mxUserGUID, from: store, through: hub, to: &writer)
                for await signal in signals {
                    switch signal {
                    case .newEvents:
                        last = try await Self.send(after: last, of: mxUserGUID, from: store, through: hub, to: &writer)
                    case .heartbeat:
                        last = try await Self.send(after: last, of: mxUserGUID, from: store, through: hub, to: &writer)
                        try await writer.write(ByteBuffer(string: ": heartbeat\n\n"))
                    }
                }
                try await writer.write(ByteBuffer(string: "retry: 1000\n: server shutting down; reconnect\n\n"))
                try await writer.finish(nil)
            } catch {
                logger.debug("Event stream ended", metadata: ["error.type": "\(type(of: error))", "request.id": "\(requestID)"])
            }
            await hub.unsubscribe(id, mxUserGUID: mxUserGUID)
        }
        var headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache"]
        headers[HTTPField.Name("X-Accel-Buffering")!] = "no"
        return Response(status: .ok, headers: headers, body: body)
    }

    private func open(_ request: Request) async throws -> OpenedStream {
        let subject = try await caller(request)
        let lastEventID = try Self.lastEventID(request)
        let mxUserGUID = try await provisioner.user(subject: subject).mxUserGUID
        let (id, signals) = await hub.subscribe(mxUserGUID: mxUserGUID)
        do {
            let start: Int64
            if let lastEventID {
                start = lastEventID
            } else {
                start = try await store.lastEventSequence(mxUserGUID: mxUserGUID)
            }
            return OpenedStream(mxUserGUID: mxUserGUID, id: id, signals: signals, start: start)
        } catch {
            await hub.unsubscribe(id, mxUserGUID: mxUserGUID)
            throw error
        }
    }

    /// Writes every stored event after `sequence`; returns the last sequence written.
    private static func send(
        after sequence: Int64,
        of mxUserGUID: String,
        from store: any Store,
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

    /// The subject of the bearer token, or of an events token given as `access_token`.
    private func caller(_ request: Request) async throws -> String {
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else {
                throw BrokerError.unauthorized("missing_token", "Use the Bearer scheme, or an events token as access_token.")
            }
            return try await verifier.subject(of: String(parts[1].trimmingOptionalWhitespace))
        }
        guard let token = request.uri.queryParameters.get("access_token") else {
            throw BrokerError.unauthorized("missing_token", "Send a bearer token, or an events token as access_token.")
        }
        return try await eventsTokens.subject(of: token)
    }

    private static func lastEventID(_ request: Request) throws(BrokerError) -> Int64? {
        guard let text = request.headers[HTTPField.Name("Last-Event-ID")!] ?? request.uri.queryParameters.get("last_event_id") else {
            return nil
        }
        guard let value = Int64(text.trimmingOptionalWhitespace), value >= 0 else {
            throw BrokerError.badRequest("invalid_last_event_id", "Last-Event-ID must be an event id this stream sent.")
        }
        return value
    }
}
