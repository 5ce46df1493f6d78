import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import NIOPosix
import Testing

@testable import Broker

@Suite("Cached reads answered before the router")
struct CacheHitTests {
    @Test("a cached read is answered early with the router's status and body and the client's request id, counted and logged")
    func sameAnswer() async throws {
        let logs = LogCapture()
        try await withBroker(sandboxEnvironment(["CORS_ALLOWED_ORIGINS": "https://app.example"]), logs: logs) { broker async throws in
            _ = try await broker.connectMember(as: "alice")
            let bearer: HTTPFields = [.authorization: "Bearer \(try await broker.token("alice"))", .origin: "https://app.example"]
            let routed = try await broker.send(.get, "/v1/transactions?records_per_page=100", headers: bearer)
            #expect(try await broker.metric("read_cache_early_answers_total") == 0)
            var early = try await broker.send(.get, "/v1/transactions?records_per_page=100", headers: bearer + [.requestID: "client-id-1"])
            #expect(try await broker.metric("read_cache_early_answers_total") == 1)

            #expect(early.status == .ok && routed.status == .ok)
            #expect(early.body == routed.body)
            #expect(early.headers[.requestID] == "client-id-1")
            #expect(early.headers[.date].flatMap(Self.httpDate).map { abs($0.timeIntervalSinceNow) < 5 } == true)

            let etag = try #require(routed.headers[.eTag])
            let unchanged = try await broker.send(.get, "/v1/transactions?records_per_page=100", headers: bearer + [.ifNoneMatch: etag])
            #expect(unchanged.status == .notModified && unchanged.body.readableBytes == 0)
            early = try await broker.send(.get, "/v1/transactions?records_per_page=100", headers: bearer + [.acceptEncoding: "gzip"])
            #expect(early.headers[.contentEncoding] == "gzip")
            #expect(try await broker.metric("read_cache_early_answers_total") == 3)
            #expect(try await broker.metric("http_requests_total", #"route="/v1/transactions""#, #"status="200""#) == 3)
            #expect(try await broker.metric("http_requests_total", #"route="/v1/transactions""#, #"status="304""#) == 1)

            let accessLines = logs.text.split(separator: "\n").filter { $0.contains("http.route=/v1/transactions") }
            #expect(accessLines.count == 4)
            #expect(accessLines.allSatisfy { $0.contains("user.hash=") })
            #expect(accessLines.contains { $0.contains("request.id=client-id-1") })
        }
    }

    /// A response's header fields as `name: value` lines, sorted, without `Date` (the clock's)
    /// and `Connection` (the router was asked to close).
    private static func comparableHeaders(_ response: TestResponse) -> [String] {
        response.headers.filter { $0.name != .date && $0.name != .connection }.map { "\($0.name.canonicalName): \($0.value)" }.sorted()
    }

    @Test("on every cacheable route the early answer has every header the router's answer has, for plain, gzip, 304 and CORS")
    func everyHeaderOnEveryRoute() async throws {
        try await withBroker(sandboxEnvironment(["CORS_ALLOWED_ORIGINS": "https://app.example"])) { broker async throws in
            let member = try await broker.connectMember(as: "alice")
            let bearer: HTTPFields = [.authorization: "Bearer \(try await broker.token("alice"))", .origin: "https://app.example"]
            let accounts = try await broker.send(.get, "/v1/accounts", headers: bearer).json["accounts"] as? [[String: Any]]
            let account = try #require(accounts?.first?["guid"] as? String)
            #expect(try await broker.send(.post, "/v1/members/\(member)/fetch_statements", headers: bearer).status == .accepted)
            var statements: [[String: Any]] = []
            let deadline = ContinuousClock.now + .seconds(10)
            // Each poll asks a page size of its own, so none is answered from the cache.
            var pageSize = 10
            while statements.isEmpty, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
                pageSize += 1
                statements =
                    try await broker.send(.get, "/v1/members/\(member)/statements?records_per_page=\(pageSize)", headers: bearer).json["statements"]
                    as? [[String: Any]]
                    ?? []
            }
            let holdings = try await broker.send(.get, "/v1/investment_holdings", headers: bearer).json["investment_holdings"] as? [[String: Any]]
            let guids = [
                "member_guid": member, "account_guid": account, "statement_guid": try #require(statements.first?["guid"] as? String),
                "holding_guid": try #require(holdings?.first?["guid"] as? String),
            ]
            for route in ReadController.routes {
                let path =
                    "/v1/"
                    + route.segments.map { segment in
                        switch segment {
                        case .literal(let text): text
                        case .parameter(let name): guids[name] ?? name
                        }
                    }.joined(separator: "/")
                var variants: [(String, HTTPFields)] = [("plain", [:]), ("gzip", [.acceptEncoding: "gzip"])]
                let first = try await broker.send(.get, path, headers: bearer)
                #expect(first.status == .ok, "\(path)")
                let etag = try #require(first.headers[.eTag])
                variants.append(("304", [.ifNoneMatch: etag]))
                var early = try #require(try await broker.metric("read_cache_early_answers_total"))
                for (index, (variant, headers)) in variants.enumerated() {
                    let requestID: HTTPFields = [.requestID: "same-\(index)"]
                    let routed = try await broker.send(.get, path, headers: bearer + headers + requestID + [.connection: "close"])
                    let answered = try await broker.send(.get, path, headers: bearer + headers + requestID)
                    early += 1
                    let counted = try await broker.metric("read_cache_early_answers_total")
                    #expect(counted == early, "\(path) \(variant) was answered early: \(String(describing: counted)) of \(early)")
                    #expect(answered.status == routed.status, "\(path) \(variant)")
                    #expect(answered.body == routed.body, "\(path) \(variant)")
                    #expect(Self.comparableHeaders(answered) == Self.comparableHeaders(routed), "\(path) \(variant)")
                    #expect(answered.headers[.date] != nil)
                }
            }
        }
    }

    @Test("what the cache cannot answer at once goes to the router: new tokens, bad queries and guids, other users")
    func leftToTheRouter() async throws {
        try await withBroker { broker async throws in
            _ = try await broker.mintWidgetURL(as: "alice")
            _ = try await broker.connectMember(as: "bob")
            let alice: HTTPFields = [.authorization: "Bearer \(try await broker.token("alice"))"]
            let bob: HTTPFields = [.authorization: "Bearer \(try await broker.token("bob"))"]
            #expect(try await broker.send(.get, "/v1/accounts", headers: bob).status == .ok)
            #expect(try await broker.send(.get, "/v1/accounts", headers: alice).status == .ok)
            #expect(try await broker.send(.get, "/v1/accounts", headers: alice).status == .ok)
            #expect(try await broker.metric("read_cache_early_answers_total") == 1)

            let alicesRead = try await broker.send(.get, "/v1/accounts", headers: alice)
            #expect((try alicesRead.json["accounts"] as? [Any])?.isEmpty == true, "alice never sees bob's cached accounts")
            #expect(try await broker.send(.get, "/v1/accounts?page=0", headers: alice).errorCode == "invalid_page")
            #expect(try await broker.send(.get, "/v1/accounts/ACT%2Dx", headers: bob).status == .notFound)
            #expect(try await broker.send(.get, "/v1/accounts", headers: [.authorization: "Bearer not-a-token"]).errorCode == "invalid_token")
            #expect(try await broker.metric("read_cache_early_answers_total") == 2)
        }
    }

    @Test("early answers spend from the caller's read budget, and past it the router answers 429")
    func budget() async throws {
        try await withBroker(sandboxEnvironment(["RATE_LIMIT_READS_PER_MINUTE": "3"])) { broker async throws in
            _ = try await broker.mintWidgetURL(as: "alice")
            let alice: HTTPFields = [.authorization: "Bearer \(try await broker.token("alice"))"]
            for _ in 0..<3 { #expect(try await broker.send(.get, "/v1/accounts", headers: alice).status == .ok) }
            #expect(try await broker.metric("read_cache_early_answers_total") == 2)
            let limited = try await broker.send(.get, "/v1/accounts", headers: alice)
            #expect(limited.status == .tooManyRequests)
            #expect(limited.errorCode == "rate_limited")
            #expect(limited.headers[.retryAfter] != nil)
            #expect(try await broker.metric("read_cache_early_answers_total") == 2)
        }
    }

    @Test("pipelined requests are answered in order when an early answer follows one the router is still making", .timeLimit(.minutes(1)))
    func pipelinedOrder() async throws {
        try await withBroker { broker async throws in
            let (token, port) = try await Self.cachedReader(broker)
            try await broker.injectFaults(#"[{"path":"/users/*/transactions","kind":"latency","latency_ms":300}]"#)
            let responses = try await RawHTTPConnection.exchange(
                port: port,
                Self.get("/v1/transactions", token: token) + Self.get("/v1/accounts", token: token),
                responses: 2
            )
            #expect(responses.count == 2)
            #expect(responses.first?.body.contains("\"transactions\"") == true, "the slow first answer comes first")
            #expect(responses.last?.body.contains("\"accounts\"") == true)
            #expect(try await broker.metric("read_cache_early_answers_total") == 0, "nothing overtakes a request the router holds")
        }
    }

    @Test("a cached read asking to close the connection is answered, then the connection closes", .timeLimit(.minutes(1)))
    func connectionClose() async throws {
        try await withBroker { broker async throws in
            let (token, port) = try await Self.cachedReader(broker)
            let closed = try await RawHTTPConnection.withConnection(port: port) { connection in
                try await connection.send(Self.get("/v1/accounts", token: token, extraHeaders: "Connection: close\r\n"))
                #expect(try await connection.receive(responses: 1).first?.statusLine == "HTTP/1.1 200 OK")
                return try await connection.isClosedByServer()
            }
            #expect(closed)
            #expect(try await broker.metric("read_cache_early_answers_total") == 0)
        }
    }

    @Test("a connection busy with early answers is not closed as idle", .timeLimit(.minutes(1)))
    func notIdle() async throws {
        try await withBroker(sandboxEnvironment(["IDLE_TIMEOUT_SECONDS": "0.5"])) { broker async throws in
            let (token, port) = try await Self.cachedReader(broker)
            let request = Self.get("/v1/accounts", token: token)
            let statuses = try await RawHTTPConnection.withConnection(port: port) { connection in
                var statuses: [String] = []
                for _ in 0..<8 {
                    try await connection.send(request)
                    statuses += try await connection.receive(responses: 1).map(\.statusLine)
                    try await Task.sleep(for: .milliseconds(200))
                }
                return statuses
            }
            #expect(statuses == Array(repeating: "HTTP/1.1 200 OK", count: 8))
            #expect(try await broker.metric("read_cache_early_answers_total") == 8)
        }
    }

    @Test("Date headers are IMF-fixdate in GMT")
    func dates() {
        let formatter = Self.httpDateFormatter()
        for seconds: Int64 in [0, 784_111_777, 951_782_400, 1_709_164_800, 1_798_761_599, 4_107_542_400, 86_399, -1] {
            #expect(HTTPDate.text(secondsSince1970: seconds) == formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds))))
        }
        #expect(HTTPDate.text(secondsSince1970: 784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
    }

    /// Connects a member for alice and reads her accounts once with one token, so that the
    /// token is remembered and the read cached; returns the token and the broker's port.
    private static func cachedReader(_ broker: BrokerClient) async throws -> (token: String, port: Int) {
        _ = try await broker.connectMember(as: "alice")
        let token = try await broker.token("alice")
        #expect(try await broker.send(.get, "/v1/accounts", headers: [.authorization: "Bearer \(token)"]).status == .ok)
        return (token, try #require(broker.client.port))
    }

    /// A raw HTTP/1.1 GET of `path` with `token`.
    private static func get(_ path: String, token: String, extraHeaders: String = "") -> String {
        "GET \(path) HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer \(token)\r\n\(extraHeaders)\r\n"
    }

    private static func httpDate(_ text: String) -> Date? {
        httpDateFormatter().date(from: text)
    }

    private static func httpDateFormatter() -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter
    }
}

extension HTTPFields {
    fileprivate static func + (fields: HTTPFields, more: HTTPFields) -> HTTPFields {
        var all = fields
        all.append(contentsOf: more)
        return all
    }
}

/// A client connection that writes raw HTTP/1.1 and reads the answers as they come.
struct RawHTTPConnection {
    /// One answer: its status line, headers (names lowercased) and body.
    struct Answer {
        let statusLine: String
        let headers: [String: String]
        let body: String
    }

    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private let pending: Pending

    private final class Pending {
        var bytes: [UInt8] = []
        var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
        init(_ inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator) { self.inbound = inbound }
    }

    /// Opens a connection to 127.0.0.1:`port`, runs `body` with it and closes it.
    static func withConnection<T>(port: Int, _ body: (RawHTTPConnection) async throws -> T) async throws -> T {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
        return try await channel.executeThenClose { inbound, outbound in
            let iterator = inbound.makeAsyncIterator()
            return try await body(RawHTTPConnection(outbound: outbound, pending: Pending(iterator)))
        }
    }

    /// Sends `text` at once on a new connection and reads `responses` answers.
    static func exchange(port: Int, _ text: String, responses: Int) async throws -> [Answer] {
        try await withConnection(port: port) { connection in
            try await connection.send(text)
            return try await connection.receive(responses: responses)
        }
    }

    func send(_ text: String) async throws {
        try await outbound.write(ByteBuffer(string: text))
    }

    /// Reads `count` whole answers, failing when the server closes the connection first.
    func receive(responses count: Int) async throws -> [Answer] {
        var answers: [Answer] = []
        while answers.count < count {
            if let answer = Self.take(from: &pending.bytes) {
                answers.append(answer)
                continue
            }
            guard let more = try await pending.inbound.next() else { throw ClosedEarly() }
            pending.bytes += Array(buffer: more)
        }
        return answers
    }

    /// Whether the server closes the connection before sending anything more.
    func isClosedByServer() async throws -> Bool {
        guard pending.bytes.isEmpty else { return false }
        return try await pending.inbound.next() == nil
    }

    private struct ClosedEarly: Error {}

    /// The first whole answer in `bytes`, removed from them.
    private static func take(from bytes: inout [UInt8]) -> Answer? {
        let separator = Array("\r\n\r\n".utf8)
        guard let headEnd = bytes.indices.first(where: { bytes[$0...].starts(with: separator) }) else { return nil }
        let lines = String(decoding: bytes[..<headEnd], as: UTF8.self).components(separatedBy: "\r\n")
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        let bodyStart = headEnd + separator.count
        guard bytes.count >= bodyStart + length else { return nil }
        let answer = Answer(statusLine: lines[0], headers: headers, body: String(decoding: bytes[bodyStart..<bodyStart + length], as: UTF8.self))
        bytes.removeFirst(bodyStart + length)
        return answer
    }
}
