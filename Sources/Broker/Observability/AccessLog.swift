import BrokerCore
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Synchronization

/// One log line per request: method, route template (never the raw path, which holds guids and
/// query strings), status, latency, request id and — for authenticated calls — a keyed hash of
/// the caller, so a user's requests can be followed without their id in the logs.
enum AccessLog {
    static func write(
        _ request: Request,
        route: String,
        response: Response,
        duration: Duration,
        subjectHash: String?,
        logger: Logger
    ) {
        let level: Logger.Level = route == "/healthz" || route == "/readyz" || route == "/metrics" ? .debug : .info
        guard logger.logLevel <= level else { return }
        let microseconds = duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000
        var metadata: Logger.Metadata = [
            "http.method": "\(request.method.rawValue)", "http.route": "\(route)", "http.status": "\(response.status.code)",
            "http.duration_ms": "\(microseconds / 1000).\(String(microseconds % 1000 + 1000).dropFirst())",
            "request.id": "\(response.headers[.requestID] ?? "")",
        ]
        if let subjectHash { metadata["user.hash"] = "\(subjectHash)" }
        logger.log(level: level, "Request", metadata: metadata)
    }
}

/// What later middleware learns about the caller, for the access log written on the way out.
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
    /// Hashes already made, kept for ten minutes.
    private let known = ExpiringCache<String>()

    init(secret: Secret) {
        key = DerivedKey.logSubjects.key(from: secret)
    }

    /// 16 hex digits of HMAC-SHA256(key, subject).
    func hash(_ subject: String) -> String {
        if let known = known.value(for: subject) { return known }
        let text = Hex.string(Array(HMAC<SHA256>.authenticationCode(for: Data(subject.utf8), using: key).prefix(8)))
        known.set(text, for: subject, until: .now + .seconds(600))
        return text
    }
}
