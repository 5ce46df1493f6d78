import Broker
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOFoundationCompat
import SandboxWidgetDriver
import Synchronization
import Testing

/// A secret long enough for HS256, used to sign test tokens.
let testSecret = "test-secret-0123456789-abcdefghijklmnop"

/// The app backend's key in ``backendKeysFile()``, named `app`.
let testBackendKey = "backend-key-0123456789-abcdefghijklmnopq"

/// A `BACKEND_API_KEYS_FILE` holding ``testBackendKey`` as `app`; returns its path.
func backendKeysFile() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("backend-keys-\(UUID().uuidString)").path
    try "# the app's server\napp=\(testBackendKey)\n".write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// The environment of a broker with its embedded sandbox, in a fresh data folder.
func sandboxEnvironment(_ extra: [String: String] = [:]) -> [String: String] {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("broker-\(UUID().uuidString)").path
    var environment = [
        "DATA_DIR": directory, "PORT": "0", "SANDBOX_CONNECT_SECONDS": "0.3", "MEMBER_POLL_SECONDS": "0.1", "JWT_HS256_SECRET": testSecret,
    ]
    environment.merge(extra) { _, new in new }
    return environment
}

/// Log lines captured from a broker under test, at trace level.
final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])

    var text: String { lines.withLock { $0.joined(separator: "\n") } }

    var logger: Logger {
        var logger = Logger(label: "broker-test") { label in CapturingHandler(capture: self) }
        logger.logLevel = .trace
        return logger
    }

    fileprivate func append(_ line: String) { lines.withLock { $0.append(line) } }

    private struct CapturingHandler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { _, new in new }
            capture.append("\(event.level) \(event.message) \(all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
        }
    }
}

/// A broker running on a free port, reached over real HTTP.
struct BrokerClient: Sendable {
    let client: any TestClientProtocol

    /// The broker's base URL, for clients other than the test client (event streams).
    var baseURL: String { "http://localhost:\(client.port ?? 0)" }

    /// Opens `GET /v1/events` for `subject`, optionally resuming after `lastEventID`.
    func openEvents(as subject: String, lastEventID: String? = nil) async throws -> EventStreamClient {
        var headers = [("Authorization", "Bearer \(try await token(subject))")]
        if let lastEventID { headers.append(("Last-Event-ID", lastEventID)) }
        let stream = try await EventStreamClient.open("\(baseURL)/v1/events", headers: headers)
        #expect(stream.status == 200)
        try await stream.wait { $0.contains { $0.comment == "connected" } }
        return stream
    }

    /// Relays widget events (a JSON object or array) for `subject`.
    func relay(_ json: String, as subject: String) async throws -> TestResponse {
        try await send(.post, "/v1/widget_events", as: subject, json: json)
    }

    /// Opens a widget minted for `subject` and connects `institution` through it, as the page
    /// would; returns the driver (holding every event the page emitted) and the member guid.
    func connectThroughWidget(
        as subject: String,
        institution: String = "mxbank",
        options: String = "{}"
    ) async throws -> (WidgetSessionDriver, String) {
        let widget = try await mintWidgetURL(as: subject, options)
        var driver = try await WidgetSessionDriver(client: client, url: try #require(widget["url"] as? String))
        let member = try await driver.connect(institution)
        return (driver, member)
    }

    /// A bearer token for `subject`, signed with ``testSecret``.
    func token(_ subject: String, lifetime: TimeInterval = 600) async throws -> String {
        try await DevTokenSigner(secret: testSecret).token(subject: subject, lifetime: lifetime)
    }

    /// Sends a request; `as` names the caller whose token is attached.
    func send(
        _ method: HTTPRequest.Method,
        _ uri: String,
        as subject: String? = nil,
        json: String? = nil,
        headers extra: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = extra
        if let subject { headers[.authorization] = "Bearer \(try await token(subject))" }
        if json != nil, headers[.contentType] == nil { headers[.contentType] = "application/json" }
        return try await client.execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) }) { $0 }
    }

    /// Mints a widget URL for `subject` and returns MX's `widget_url` object.
    func mintWidgetURL(as subject: String, _ widgetURL: String = "{}", headers: HTTPFields = [:]) async throws -> [String: Any] {
        let response = try await send(.post, "/v1/widget_urls", as: subject, json: #"{"widget_url":\#(widgetURL)}"#, headers: headers)
        #expect(response.status == .ok, "\(String(buffer: response.body))")
        return try #require(try response.json["widget_url"] as? [String: Any])
    }

    /// Connects an MX Bank member for `subject` through the sandbox's widget page and waits
    /// until the broker reports it CONNECTED; returns its guid.
    func connectMember(as subject: String, password: String = "password") async throws -> String {
        let widget = try await mintWidgetURL(as: subject)
        let url = try #require((widget["url"] as? String).flatMap(URLComponents.init(string:)))
        let page = String(buffer: try await client.execute(uri: url.path, method: .get) { $0 }.body)
        let action = try #require(page.firstMatch(of: /action="(sessions\/[^"]+)"/)?.1)
        let directory = url.path[..<url.path.lastIndex(of: "/")!]
        let created = try await client.execute(
            uri: "\(directory)/\(action)",
            method: .post,
            headers: [.contentType: "application/x-www-form-urlencoded"],
            body: ByteBuffer(string: "institution_code=mxbank&username=mxuser&password=\(password)")
        ) { $0 }
        let member = try #require(String(buffer: created.body).firstMatch(of: /data-member-guid="([^"]+)"/)?.1)
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            let read = try await send(.get, "/v1/members/\(member)", as: subject).json
            if (read["member"] as? [String: Any])?["connection_status"] as? String == "CONNECTED" { return String(member) }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("member \(member) did not connect")
        return String(member)
    }

    /// Reads the member until the broker has stored it done aggregating (ten seconds at most).
    func waitForAggregation(of member: String, as subject: String) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            let view = try await send(.get, "/v1/members/\(member)", as: subject).json["member"] as? [String: Any]
            if view?["is_being_aggregated"] as? Bool == false { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("member \(member) kept aggregating")
    }

    /// Basic-authenticated call straight to the embedded sandbox (what MX itself holds).
    func sandbox(_ uri: String, method: HTTPRequest.Method = .get, json: String? = nil) async throws -> [String: Any] {
        let credentials = Data("sandbox-client-id:sandbox-api-key".utf8).base64EncodedString()
        let headers: HTTPFields = [.authorization: "Basic \(credentials)", .accept: "application/vnd.mx.api.v1+json"]
        return try await client.execute(uri: "/sandbox/mx\(uri)", method: method, headers: headers, body: json.map { ByteBuffer(string: $0) }) {
            $0.status == .noContent ? [:] : try $0.json
        }
    }

    /// Replaces the sandbox's faults with `rules` (a JSON array of fault objects).
    func injectFaults(_ rules: String) async throws {
        let report = try await sandbox("/_faults", method: .put, json: #"{"faults":\#(rules)}"#)
        #expect(report["faults"] != nil, "faults were not accepted: \(report)")
    }

    /// Ends every fault of the sandbox.
    func clearFaults() async throws {
        _ = try await sandbox("/_faults", method: .delete)
    }

    /// What each of the sandbox's faults has matched and injected so far.
    func faultReport() async throws -> [[String: Any]] {
        try #require(try await sandbox("/_faults")["faults"] as? [[String: Any]])
    }

    /// The value of the first Prometheus sample whose line starts with `name` and holds every one of `labels`.
    func metric(_ name: String, _ labels: String...) async throws -> Double? {
        let text = String(buffer: try await client.execute(uri: "/metrics", method: .get) { $0 }.body)
        let line = text.split(separator: "\n").first { line in
            line.hasPrefix(name) && labels.allSatisfy { line.contains($0) }
        }
        return line?.split(separator: " ").last.flatMap { Double($0) }
    }
}

/// Builds the broker from `environment` and runs `body` against it over real HTTP.
func withBroker(
    _ environment: [String: String] = sandboxEnvironment(),
    logs: LogCapture = LogCapture(),
    _ body: @Sendable (BrokerClient) async throws -> Void
) async throws {
    let configuration = try BrokerConfiguration(environment: environment)
    let app = try await buildApplication(configuration: configuration, logger: logs.logger)
    try await app.test(.ahc(.http)) { client async throws in
        try await body(BrokerClient(client: client))
    }
}

extension TestResponse {
    /// The body parsed as a JSON object.
    var json: [String: Any] {
        get throws {
            try #require(try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any])
        }
    }

    /// The `error.code` of a JSON error body.
    var errorCode: String? {
        ((try? json)?["error"] as? [String: Any])?["code"] as? String
    }
}
