import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Synchronization

/// One log line per request: method, route template (never the raw path, which holds guids and
/// query strings), status, latency, request id and — for authenticated calls — a keyed hash of
/// the caller, so a user's requests can be followed without their id in the logs.
struct AccessLogMiddleware: RouterMiddleware {
    typealias Context = BrokerRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let caller = CallerNote()
        context.caller = caller
        let started = ContinuousClock.now
        let response = try await next(request, context)
        let elapsed = ContinuousClock.now - started
        let route = context.endpointPath ?? "NotFound"
        var metadata: Logger.Metadata = [
            "http.method": "\(request.method.rawValue)", "http.route": "\(route)", "http.status": "\(response.status.code)",
            "http.duration_ms":
                "\(String(format: "%.2f", Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000))",
            "request.id": "\(response.headers[.requestID] ?? "")",
        ]
        if let hash = caller.subjectHash { metadata["user.hash"] = "\(hash)" }
        let level: Logger.Level = route == "/healthz" || route == "/readyz" ? .debug : .info
        context.logger.log(level: level, "Request", metadata: metadata)
        return response
    }
}

/// What inner middleware learns about the caller, for the access log written on the way out.
final class CallerNote: Sendable {
    private let hash = Mutex<String?>(nil)

    var subjectHash: String? { hash.withLock { $0 } }

    func record(subjectHash: String) {
        hash.withLock { $0 = subjectHash }
    }
}

/// Hashes app user ids for logs with a server key: stable per user, unlinkable without the key.
struct SubjectHasher: Sendable {
    private let key: SymmetricKey

    init(secret: String) {
        key = SymmetricKey(
            data: HMAC<SHA256>.authenticationCode(for: Data("connect-broker log subjects".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        )
    }

    /// 16 hex digits of HMAC-SHA256(key, subject).
    func hash(_ subject: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Data(subject.utf8), using: key).prefix(8).map { String(format: "%02x", $0) }.joined()
    }
}
