import AsyncHTTPClient
import BrokerCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import MXSandbox
import NIOCore
import NIOFoundationCompat
import Synchronization
import Testing

@testable import MXPlatform

/// Runs `body` with an MX client pointed at a live sandbox on a free port.
func withSandboxClient(
    version: MXAPIVersion = .v20250224,
    apiKey: String = SandboxConfiguration.defaultAPIKey,
    _ body: @Sendable (MXClient) async throws -> Void
) async throws {
    let app = buildSandboxApplication(configuration: SandboxConfiguration(), host: "127.0.0.1", port: 0, logger: Logger(label: "sandbox"))
    try await app.test(.live) { client async throws in
        let port = try #require(client.port)
        let configuration = MXClientConfiguration(
            baseURL: MXBaseURL("http://127.0.0.1:\(port)/"),
            clientID: SandboxConfiguration.defaultClientID,
            apiKey: Secret(apiKey),
            apiVersion: version
        )
        try await body(MXClient(configuration: configuration, httpClient: .shared, logger: Logger(label: "mx")))
    }
}

/// Runs `body` with an MX client pointed at a stub answering every request with `respond`.
func withStubClient(
    timeout: Duration = .seconds(5),
    _ respond: @escaping @Sendable (Request) async throws -> Response,
    _ body: @Sendable (MXClient) async throws -> Void
) async throws {
    let router = Router()
    router.get("**") { request, _ in try await respond(request) }
    router.post("**") { request, _ in try await respond(request) }
    try await Application(router: router).test(.live) { client async throws in
        let port = try #require(client.port)
        let configuration = MXClientConfiguration(
            baseURL: MXBaseURL("http://127.0.0.1:\(port)"),
            clientID: "id",
            apiKey: Secret("key"),
            timeout: timeout
        )
        try await body(MXClient(configuration: configuration, httpClient: .shared, logger: Logger(label: "mx")))
    }
}

@Suite("MX client against the sandbox")
struct MXClientSandboxTests {
    @Test("creates and finds users in both API versions", arguments: MXAPIVersion.allCases)
    func users(version: MXAPIVersion) async throws {
        try await withSandboxClient(version: version) { mx async throws in
            let created = try await mx.createUser(id: "cb_user_1")
            #expect(created.guid.hasPrefix("USR-"))
            #expect(created.id == "cb_user_1")
            #expect(try await mx.findUser(id: "cb_user_1") == created)
            #expect(try await mx.findUser(id: "cb_nobody") == nil)
        }
    }

    @Test("reusing a user id is a conflict")
    func duplicateUser() async throws {
        try await withSandboxClient { mx async throws in
            _ = try await mx.createUser(id: "cb_dup")
            await #expect(throws: MXError.status(409)) { try await mx.createUser(id: "cb_dup") }
        }
    }

    @Test("wrong credentials are an authentication failure")
    func badCredentials() async throws {
        try await withSandboxClient(apiKey: "wrong") { mx async throws in
            let error = await #expect(throws: MXError.self) { try await mx.createUser(id: "cb_x") }
            #expect(error?.kind == .authenticationFailed)
        }
    }

    @Test("a widget URL answer is passed through as MX sent it")
    func widgetURL() async throws {
        try await withSandboxClient { mx async throws in
            let user = try await mx.createUser(id: "cb_w")
            let answer = try await mx.requestWidgetURL(
                userGUID: user.guid,
                widgetURL: .object(["widget_type": .string("connect_widget")]),
                acceptLanguage: "en-US"
            )
            let object = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: answer.body))
            #expect(object["widget_url"]?["type"]?.stringValue == "connect_widget")
            #expect(object["widget_url"]?["url"]?.stringValue?.contains("/widget/") == true)
        }
    }

    @Test("an unknown member is not found")
    func unknownMember() async throws {
        try await withSandboxClient { mx async throws in
            let user = try await mx.createUser(id: "cb_m")
            let error = await #expect(throws: MXError.self) { try await mx.readMember(userGUID: user.guid, memberGUID: "MBR-missing") }
            #expect(error?.kind == .notFound)
        }
    }
}

@Suite("MX client error mapping")
struct MXClientErrorTests {
    @Test(
        "MX statuses map to error kinds",
        arguments: [
            (401, MXError.Kind.authenticationFailed), (403, .authenticationFailed), (404, .notFound), (409, .conflict), (400, .rejected),
            (422, .rejected), (429, .rateLimited), (500, .serverError), (503, .serverError),
        ]
    )
    func statusKinds(status: Int, kind: MXError.Kind) {
        #expect(MXError.status(status).kind == kind)
    }

    @Test("429 carries MX's Retry-After")
    func retryAfter() async throws {
        let limited: @Sendable (Request) async throws -> Response = { _ in Response(status: .tooManyRequests, headers: [.retryAfter: "7"]) }
        try await withStubClient(limited) { mx async throws in
            let error = await #expect(throws: MXError.self) { try await mx.get(["users"]) }
            #expect(error?.kind == .rateLimited)
            #expect(error?.retryAfterSeconds == 7)
        }
    }

    @Test("a slow MX is a timeout")
    func timeout() async throws {
        let slow: @Sendable (Request) async throws -> Response = { _ in
            try await Task.sleep(for: .seconds(1))
            return Response(status: .ok)
        }
        try await withStubClient(timeout: .milliseconds(300), slow) { mx async throws in
            await #expect(throws: MXError.timeout) { try await mx.get(["users"]) }
        }
    }

    @Test("an unreachable MX is reported as such")
    func unreachable() async throws {
        let configuration = MXClientConfiguration(
            baseURL: MXBaseURL("http://127.0.0.1:1"),
            clientID: "id",
            apiKey: Secret("key"),
            timeout: .seconds(1)
        )
        let mx = MXClient(configuration: configuration, httpClient: .shared, logger: Logger(label: "mx"))
        await #expect(throws: MXError.unreachable) { try await mx.get(["users"]) }
    }

    @Test("every call sends Basic credentials, the version headers and encoded paths")
    func requestShape() async throws {
        let echo: @Sendable (Request) async throws -> Response = { request in
            let summary = [
                request.headers[.authorization] ?? "", request.headers[.accept] ?? "",
                request.headers[HTTPField.Name("Accept-Version")!] ?? "", request.uri.path, request.uri.query ?? "",
            ]
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(data: try JSONEncoder().encode(summary))))
        }
        try await withStubClient(echo) { mx async throws in
            let answer = try await mx.get(["users", "a b/c", "accounts"], query: [("from_date", "2025-01-01"), ("x", "a&b")])
            let parts = try JSONDecoder().decode([String].self, from: answer.body)
            #expect(parts[0] == "Basic " + Data("id:key".utf8).base64EncodedString())
            #expect(parts[1] == "application/json")
            #expect(parts[2] == "v20250224")
            #expect(parts[3] == "/users/a%20b%2Fc/accounts")
            #expect(parts[4] == "from_date=2025-01-01&x=a%26b")
        }
    }
}

@Suite("Dates and versions")
struct CalendarDayTests {
    @Test("YYYY-MM-DD is parsed strictly", arguments: ["2025-02-29", "2025-13-01", "2025-1-01", "20250101", "2025-01-01T00", "abcd-ef-gh", ""])
    func rejects(text: String) {
        #expect(CalendarDay(text) == nil)
    }

    @Test("valid days round-trip")
    func accepts() throws {
        let day = try #require(CalendarDay("2024-02-29"))
        #expect(day.description == "2024-02-29")
        #expect(try #require(CalendarDay("2024-03-01")) > day)
    }

    @Test("date filters: text in v20111101, inclusive unix bounds in v20250224")
    func filters() throws {
        let day = try #require(CalendarDay("2025-01-02"))
        #expect(MXAPIVersion.v20111101.transactionDateFilter(day, bound: .from) == "2025-01-02")
        #expect(MXAPIVersion.v20250224.transactionDateFilter(day, bound: .from) == "1735776000")
        #expect(MXAPIVersion.v20250224.transactionDateFilter(day, bound: .to) == "1735862399")
    }

    @Test("secrets never print")
    func secretDescription() {
        let secret = Secret("sk_live_123")
        #expect("\(secret)" == "[redacted]")
        #expect(String(reflecting: secret) == "[redacted]")
    }
}

@Suite("Retry policy")
struct RetryPolicyTests {
    let policy = MXResilience(retryAttempts: 3, retryBaseDelay: .milliseconds(200), retryMaxWait: .seconds(5))

    @Test("429, 5xx and connection failures are retried; other failures and timeouts are not")
    func retryable() {
        #expect(policy.delay(beforeRetry: 1, after: .status(503)) != nil)
        #expect(policy.delay(beforeRetry: 1, after: .status(429)) != nil)
        #expect(policy.delay(beforeRetry: 1, after: .unreachable) != nil)
        #expect(policy.delay(beforeRetry: 1, after: .status(404)) == nil)
        #expect(policy.delay(beforeRetry: 1, after: .status(401)) == nil)
        #expect(policy.delay(beforeRetry: 1, after: .timeout) == nil)
        #expect(policy.delay(beforeRetry: 1, after: .invalidResponse) == nil)
        #expect(policy.delay(beforeRetry: 3, after: .status(503)) == nil)
    }

    @Test("backoff doubles with jitter between half and all of it; Retry-After wins when it is short enough")
    func delays() throws {
        for _ in 0..<50 {
            let first = try #require(policy.delay(beforeRetry: 1, after: .status(500)))
            #expect(first >= .milliseconds(100) && first <= .milliseconds(200))
            let second = try #require(policy.delay(beforeRetry: 2, after: .status(500)))
            #expect(second >= .milliseconds(200) && second <= .milliseconds(400))
        }
        #expect(policy.delay(beforeRetry: 1, after: .status(429, retryAfterSeconds: 2)) == .seconds(2))
        #expect(policy.delay(beforeRetry: 1, after: .status(429, retryAfterSeconds: 60)) == nil)
    }
}

@Suite("Concurrency limit")
struct ConcurrencyLimitTests {
    @Test("callers past the limit wait their turn in order; a cancelled waiter leaves the queue", .timeLimit(.minutes(1)))
    func waitsInOrder() async throws {
        let limit = ConcurrencyLimit(limit: 2)
        let order = NameLog()
        let holders = (0..<2).map { _ in
            Task { try await limit.withPlace { try await Task.sleep(for: .milliseconds(1500)) } }
        }
        try await Task.sleep(for: .milliseconds(50))
        let cancelled = Task { try await limit.withPlace { order.append("cancelled") } }
        try await Task.sleep(for: .milliseconds(50))
        var waiters: [Task<Void, any Error>] = []
        for name in ["first", "second", "third"] {
            waiters.append(Task { try await limit.withPlace { order.append(name) } })
            try await Task.sleep(for: .milliseconds(20))
        }
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        for waiter in waiters { try await waiter.value }
        for holder in holders { try await holder.value }
        #expect(order.names == ["first", "second", "third"])
    }
}

/// Names appended from any task, in the order they came.
private final class NameLog: Sendable {
    private let log = Mutex<[String]>([])

    var names: [String] { log.withLock { $0 } }

    func append(_ name: String) {
        log.withLock { $0.append(name) }
    }
}

@Suite("Credential values")
struct MXCredentialValueTests {
    @Test("a credential value prints, interpolates and dumps without its secret")
    func redacted() {
        let value = MXCredentialValue(guid: "CRD-1", value: "s3cret-value")
        var dumped = ""
        dump(value, to: &dumped)
        for text in [String(describing: value), "\(value)", String(reflecting: value), dumped] {
            #expect(text.contains("CRD-1"))
            #expect(!text.contains("s3cret-value"), "\(text)")
        }
    }
}
