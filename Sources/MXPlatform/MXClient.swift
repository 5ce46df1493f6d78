import AsyncHTTPClient
import BrokerCore
import CoreMetrics
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// An MX answer whose body is kept as MX sent it.
public struct MXResponse: Sendable {
    /// The HTTP status (always 2xx: other statuses are thrown as ``MXError``).
    public let status: Int
    /// The body, unparsed.
    public let body: ByteBuffer
}

/// A typed client for the MX Platform API.
///
/// Every call carries HTTP Basic credentials and the configured version's headers. Reads return
/// MX's bytes untouched; the few calls whose answers the broker acts on decode just what it needs.
/// Non-2xx answers, timeouts and transport failures are thrown as ``MXError``.
public struct MXClient: Sendable, CustomStringConvertible, CustomReflectable {
    public let configuration: MXClientConfiguration
    private let httpClient: HTTPClient
    private let logger: Logger
    private let authorization: Secret
    private let metrics: MXClientMetrics
    private let breaker: CircuitBreaker
    private let concurrency: ConcurrencyLimit

    /// A client whose copies share one circuit breaker, concurrency limit and set of reads in flight.
    ///
    /// - Parameter metrics: where call latency, retries and the breaker's state are reported.
    public init(
        configuration: MXClientConfiguration,
        httpClient: HTTPClient,
        logger: Logger,
        metrics: any MetricsFactory = NOOPMetricsHandler.instance
    ) {
        self.configuration = configuration
        self.httpClient = httpClient
        self.logger = logger
        let credentials = "\(configuration.clientID):\(configuration.apiKey.value)"
        self.authorization = Secret("Basic " + Data(credentials.utf8).base64EncodedString())
        let metrics = MXClientMetrics(factory: metrics)
        self.metrics = metrics
        self.breaker = CircuitBreaker(
            failureThreshold: configuration.resilience.breakerFailureThreshold,
            openDuration: configuration.resilience.breakerOpenDuration,
            logger: logger,
            onChange: { metrics.recordBreakerState($0) }
        )
        metrics.recordBreakerState(.closed)
        self.concurrency = ConcurrencyLimit(limit: configuration.resilience.maxConcurrentRequests)
    }

    /// Names the client without its credentials.
    public var description: String { "MXClient(\(configuration.apiVersion.rawValue))" }

    /// Hides the credentials from mirrors and dumps.
    public var customMirror: Mirror { Mirror(self, children: ["apiVersion": configuration.apiVersion]) }

    // MARK: Users

    /// Creates a user with the partner-defined `id` (`POST /users`), and the `email` and
    /// `metadata` (JSON text) of its profile when given.
    public func createUser(id: String, email: String? = nil, metadata: String? = nil) async throws -> MXUser {
        var fields = ["id": id]
        if let email { fields["email"] = email }
        if let metadata { fields["metadata"] = metadata }
        let response = try await send(.POST, ["users"], body: ByteBuffer(data: try JSONEncoder().encode(["user": fields])))
        return try decode(UserEnvelope.self, from: response).user
    }

    /// Replaces a user's `metadata` and, when given, `email` (`PUT /users/{user_guid}`). MX's
    /// `UserUpdateRequest` has no null email, so without one the email is left out.
    public func updateUser(userGUID: String, email: String?, metadata: String) async throws {
        var values: [String: JSONValue] = ["metadata": .string(metadata)]
        if let email { values["email"] = .string(email) }
        let fields = JSONValue.object(values)
        _ = try await send(.PUT, ["users", userGUID], body: ByteBuffer(data: try JSONEncoder().encode(JSONValue.object(["user": fields]))))
    }

    /// Finds the user created with the partner-defined `id` (`GET /users?id=`), if there is one.
    public func findUser(id: String) async throws -> MXUser? {
        let response = try await send(.GET, ["users"], query: [("id", id)])
        return try decode(UsersEnvelope.self, from: response).users.first { $0.id == id }
    }

    /// Deletes a user and everything MX holds about them (`DELETE /users/{user_guid}`).
    public func deleteUser(userGUID: String) async throws {
        _ = try await send(.DELETE, ["users", userGUID])
    }

    // MARK: Members

    /// Every member of a user (`GET /users/{user_guid}/members`, all pages).
    public func listMembers(userGUID: String) async throws -> [MXMember] {
        var members: [MXMember] = []
        var page = 1
        while true {
            let response = try await send(.GET, ["users", userGUID, "members"], query: [("page", String(page)), ("records_per_page", "1000")])
            let body = try decode(MembersPage.self, from: response)
            members += body.members
            guard let totalPages = body.pagination?.total_pages, page < totalPages, !body.members.isEmpty, page < 100 else { return members }
            page += 1
        }
    }

    /// Deletes a member (`DELETE /users/{user_guid}/members/{member_guid}`).
    public func deleteMember(userGUID: String, memberGUID: String) async throws {
        _ = try await send(.DELETE, ["users", userGUID, "members", memberGUID])
    }

    /// Asks MX to run `job` on a member now (`POST …/members/{member_guid}/{job}`) and returns
    /// the member as MX answers it (see ``MXMemberJob`` for MX's statuses).
    public func startJob(_ job: MXMemberJob, userGUID: String, memberGUID: String) async throws -> MXMember {
        let response = try await send(.POST, ["users", userGUID, "members", memberGUID, job.rawValue])
        return try decode(MemberEnvelope.self, from: response).member
    }

    /// Reads one member of a user (`GET /users/{user_guid}/members/{member_guid}`).
    public func readMember(userGUID: String, memberGUID: String) async throws -> MXMember {
        let response = try await send(.GET, ["users", userGUID, "members", memberGUID])
        return try decode(MemberEnvelope.self, from: response).member
    }

    // MARK: Connecting without the widget

    /// Creates a member with the user's credentials for `institutionCode` (`POST
    /// /users/{user_guid}/members`); MX starts aggregating at once. `options` are further
    /// top-level fields of the request (`referral_source`, `client_redirect_url`, …).
    ///
    /// The credential values go to MX only: they are never logged, and MX's answer holds none.
    public func createMember(
        userGUID: String,
        institutionCode: String,
        credentials: [MXCredentialValue],
        options: [String: JSONValue] = [:]
    ) async throws -> MXMember {
        var member: [String: JSONValue] = ["institution_code": .string(institutionCode), "credentials": .array(credentials.map(\.json))]
        if credentials.isEmpty { member["is_oauth"] = .bool(true) }
        var body = options
        body["member"] = .object(member)
        let response = try await send(
            .POST,
            ["users", userGUID, "members"],
            body: ByteBuffer(data: try JSONEncoder().encode(JSONValue.object(body)))
        )
        return try decode(MemberEnvelope.self, from: response).member
    }

    /// The MFA questions a challenged member waits on (`GET …/members/{member_guid}/challenges`),
    /// as MX sent them, or nil when MX has none to ask (204).
    public func memberChallenges(userGUID: String, memberGUID: String) async throws -> MXResponse? {
        let response = try await send(.GET, ["users", userGUID, "members", memberGUID, "challenges"])
        guard response.status != 204, response.body.readableBytes > 0 else { return nil }
        guard JSONSyntax.isValid(response.body) else { throw MXError.invalidResponse }
        return response
    }

    /// Answers a challenged member's MFA questions (`PUT …/members/{member_guid}/resume`).
    public func resumeMember(userGUID: String, memberGUID: String, answers: [MXCredentialValue]) async throws -> MXMember {
        let body = JSONValue.object(["member": .object(["challenges": .array(answers.map(\.json))])])
        let response = try await send(
            .PUT,
            ["users", userGUID, "members", memberGUID, "resume"],
            body: ByteBuffer(data: try JSONEncoder().encode(body))
        )
        return try decode(MemberEnvelope.self, from: response).member
    }

    /// Replaces a member's credentials (`PUT /users/{user_guid}/members/{member_guid}`); MX
    /// tries to connect with them at once.
    public func updateMemberCredentials(userGUID: String, memberGUID: String, credentials: [MXCredentialValue]) async throws -> MXMember {
        let body = JSONValue.object(["member": .object(["credentials": .array(credentials.map(\.json))])])
        let response = try await send(.PUT, ["users", userGUID, "members", memberGUID], body: ByteBuffer(data: try JSONEncoder().encode(body)))
        return try decode(MemberEnvelope.self, from: response).member
    }

    // MARK: Widget URLs

    /// Mints a widget URL (`POST /users/{user_guid}/widget_urls`) and returns MX's answer as sent.
    ///
    /// The answer carries a one-time SSO URL: treat it as a secret, never log it.
    public func requestWidgetURL(userGUID: String, widgetURL: JSONValue, acceptLanguage: String?) async throws -> MXResponse {
        let body = try JSONEncoder().encode(JSONValue.object(["widget_url": widgetURL]))
        var headers: [(String, String)] = []
        if let acceptLanguage { headers.append(("Accept-Language", acceptLanguage)) }
        return try await send(.POST, ["users", userGUID, "widget_urls"], body: ByteBuffer(data: body), headers: headers)
    }

    // MARK: Reads

    /// A `GET` of `path` (its components are percent-encoded), answered with MX's body as sent
    /// once it is known to be JSON (else ``MXError/invalidResponse`` is thrown).
    ///
    /// The client makes every call it is asked for; identical reads are shared above it, where
    /// their answer is (the broker's read controller), so a read is joined in one place only.
    public func get(_ path: [String], query: [(String, String)] = []) async throws -> MXResponse {
        try await send(.GET, path, query: query, body: nil, headers: [], requiringJSON: true)
    }

    /// A statement's PDF (`GET …/statements/{statement_guid}.pdf`), streamed as MX sends it once
    /// its first bytes show a PDF (else ``MXError/invalidResponse`` is thrown).
    ///
    /// Only the request and MX's first bytes pass the concurrency limit: the body then flows at
    /// the reader's pace, for at most ``downloadLimit``, never held whole in memory.
    public func downloadPDF(_ path: [String]) async throws -> MXDownload {
        guard let base = configuration.baseURL.value else { throw MXError.unreachable }
        var request = HTTPClientRequest(url: base + Self.encodedPath(path))
        request.headers.add(name: "Authorization", value: authorization.value)
        for header in configuration.apiVersion.headers where header.name != "Accept" {
            request.headers.add(name: header.name, value: header.value)
        }
        request.headers.add(name: "Accept", value: MXDownload.pdfContentType)
        let endpoint = Self.pathTemplate(path)
        return try await attempt(endpoint: endpoint) {
            try await exchange(request, endpoint: endpoint, deadline: .now() + .init(Self.downloadLimit)) { response in
                var body = response.body.makeAsyncIterator()
                var prefix = ByteBuffer()
                while prefix.readableBytes < MXDownload.pdfMagic.count, var chunk = try await body.next() {
                    prefix.writeBuffer(&chunk)
                }
                guard prefix.readableBytesView.starts(with: MXDownload.pdfMagic) else {
                    logger.warning("MX answered a statement with a body that is not a PDF", metadata: ["mx.request.path": "\(endpoint)"])
                    throw MXError.invalidResponse
                }
                return MXDownload(
                    contentLength: response.headers.first(name: "Content-Length").flatMap { Int($0) },
                    body: MXDownload.Body(prefix: prefix, rest: MXDownload.Rest(body))
                )
            }
        }
    }

    /// How long a download may take from the request to its last byte.
    public static let downloadLimit = Duration.seconds(300)

    /// Counts a read of `path` that took the answer of an identical read in flight instead of
    /// calling MX, for the callers that share reads.
    public func recordSharedRead(_ path: [String]) {
        metrics.recordJoined(endpoint: Self.pathTemplate(path))
    }

    // MARK: Transport

    /// Sends one request to MX and returns a 2xx answer, or throws ``MXError``.
    ///
    /// A `GET` is retried on 429, 5xx and connection failures (see ``MXResilience``). Every
    /// call passes the circuit breaker and the concurrency limit.
    public func send(
        _ method: HTTPMethod,
        _ path: [String],
        query: [(String, String)] = [],
        body: ByteBuffer? = nil,
        headers extraHeaders: [(String, String)] = []
    ) async throws -> MXResponse {
        try await send(method, path, query: query, body: body, headers: extraHeaders, requiringJSON: false)
    }

    private func send(
        _ method: HTTPMethod,
        _ path: [String],
        query: [(String, String)],
        body: ByteBuffer?,
        headers extraHeaders: [(String, String)],
        requiringJSON: Bool
    ) async throws -> MXResponse {
        guard let base = configuration.baseURL.value else { throw MXError.unreachable }
        var request = HTTPClientRequest(url: base + Self.encodedPath(path) + Self.encodedQuery(query))
        request.method = method
        request.headers.add(name: "Authorization", value: authorization.value)
        for header in configuration.apiVersion.headers {
            request.headers.add(name: header.name, value: header.value)
        }
        for header in extraHeaders {
            request.headers.add(name: header.0, value: header.1)
        }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(body)
        }
        let endpoint = Self.pathTemplate(path)
        guard method == .GET else { return try await attempt(request, endpoint: endpoint) }
        let response = try await attemptWithRetries(request, endpoint: endpoint)
        guard !requiringJSON || JSONSyntax.isValid(response.body) else {
            logger.warning("MX answered with a body that is not JSON", metadata: ["mx.request.path": "\(endpoint)"])
            throw MXError.invalidResponse
        }
        return response
    }

    private func attemptWithRetries(_ request: HTTPClientRequest, endpoint: String) async throws -> MXResponse {
        var retry = 1
        while true {
            do {
                return try await attempt(request, endpoint: endpoint)
            } catch let error as MXError {
                guard let delay = configuration.resilience.delay(beforeRetry: retry, after: error) else { throw error }
                metrics.recordRetry(endpoint: endpoint, reason: error.kind)
                logger.debug(
                    "Retrying MX call",
                    metadata: ["mx.request.path": "\(endpoint)", "mx.retry": "\(retry)", "error.kind": "\(error.kind.rawValue)"]
                )
                try await Task.sleep(for: delay)
                retry += 1
            }
        }
    }

    /// One call through the breaker and the concurrency limit, its whole body read.
    private func attempt(_ request: HTTPClientRequest, endpoint: String) async throws -> MXResponse {
        try await attempt(endpoint: endpoint) {
            try await exchange(request, endpoint: endpoint, deadline: .now() + .init(configuration.timeout)) { response in
                MXResponse(status: Int(response.status.code), body: try await response.body.collect(upTo: 64 * 1024 * 1024))
            }
        }
    }

    /// `call` through the breaker and the concurrency limit.
    private func attempt<Answer: Sendable>(endpoint: String, _ call: () async throws -> Answer) async throws -> Answer {
        let admission: CircuitBreaker.Admission
        do {
            admission = try breaker.admit()
        } catch {
            metrics.recordRejectedByBreaker(endpoint: endpoint)
            throw error
        }
        var outcome = CircuitBreaker.Outcome.abandoned
        do {
            let answer = try await concurrency.withPlace { try await call() }
            breaker.record(.answered, admission: admission)
            return answer
        } catch let error as MXError {
            switch error.kind {
            case .serverError, .timeout, .unreachable: outcome = .failed
            case .rateLimited, .authenticationFailed, .notFound, .conflict, .rejected, .invalidResponse: outcome = .answered
            case .circuitOpen: outcome = .abandoned
            }
            breaker.record(outcome, admission: admission)
            throw error
        } catch {
            breaker.record(.abandoned, admission: admission)
            throw error
        }
    }

    /// The HTTP exchange itself, by `deadline`: a 2xx answer is handed to `read`, any other is
    /// read to its end (freeing the connection) and thrown.
    private func exchange<Answer>(
        _ request: HTTPClientRequest,
        endpoint: String,
        deadline: NIODeadline,
        read: (HTTPClientResponse) async throws -> Answer
    ) async throws -> Answer {
        let method = request.method.rawValue
        let started = ContinuousClock.now
        func finish(_ status: String) -> Duration {
            let duration = ContinuousClock.now - started
            metrics.recordCall(endpoint: endpoint, method: method, status: status, duration: duration)
            return duration
        }
        func logCall(status: Int) {
            let duration = finish(String(status))
            logger.debug(
                "MX call",
                metadata: [
                    "mx.request.method": "\(method)", "mx.request.path": "\(endpoint)",
                    "mx.response.status": "\(status)", "mx.duration_ms": "\(duration.milliseconds)",
                ]
            )
        }
        do {
            let response = try await httpClient.execute(request, deadline: deadline)
            let status = Int(response.status.code)
            guard (200..<300).contains(status) else {
                _ = try await response.body.collect(upTo: 64 * 1024 * 1024)
                logCall(status: status)
                throw MXError.status(status, retryAfterSeconds: response.headers.first(name: "Retry-After").flatMap { Int($0) })
            }
            let answer = try await read(response)
            logCall(status: status)
            return answer
        } catch let error as MXError {
            throw error
        } catch let error as HTTPClientError
            where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout
        {
            _ = finish("timeout")
            logger.warning("MX call timed out", metadata: ["mx.request.path": "\(endpoint)"])
            throw MXError.timeout
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            _ = finish("unreachable")
            logger.warning("MX call failed", metadata: ["mx.request.path": "\(endpoint)", "error.type": "\(type(of: error))"])
            throw MXError.unreachable
        }
    }

    private func decode<T: Decodable>(_ type: T.Type, from response: MXResponse) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: response.body)
        } catch {
            throw MXError.invalidResponse
        }
    }

    static func encodedPath(_ components: [String]) -> String {
        var path = ""
        for component in components {
            path += "/"
            percentEncode(component, into: &path)
        }
        return path
    }

    static func encodedQuery(_ query: [(String, String)]) -> String {
        guard !query.isEmpty else { return "" }
        var encoded = "?"
        for (index, (name, value)) in query.enumerated() {
            if index > 0 { encoded += "&" }
            percentEncode(name, into: &encoded)
            encoded += "="
            percentEncode(value, into: &encoded)
        }
        return encoded
    }

    /// Appends `text` with every byte but RFC 3986's unreserved characters percent-encoded, which
    /// makes it one path segment or one query name or value whatever it holds.
    private static func percentEncode(_ text: String, into output: inout String) {
        if text.utf8.allSatisfy(isUnreserved) {
            output += text
            return
        }
        for byte in text.utf8 {
            if isUnreserved(byte) {
                output.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                output += "%"
                output.unicodeScalars.append(Unicode.Scalar(hexDigits[Int(byte >> 4)]))
                output.unicodeScalars.append(Unicode.Scalar(hexDigits[Int(byte & 0x0F)]))
            }
        }
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    /// The path with identifiers replaced by placeholders, safe for logs and metric labels.
    static func pathTemplate(_ components: [String]) -> String {
        "/" + components.enumerated().map { index, component in index % 2 == 1 ? "{id}" : component }.joined(separator: "/")
    }
}
