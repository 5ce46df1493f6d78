import BrokerCore
import Foundation
import Hummingbird
import Logging

/// The keys the app's own backend calls the broker with (`BACKEND_API_KEYS_FILE`): one key a line
/// as `name=secret`, blank lines and `#` comments skipped. Several may be valid at once, so a key
/// is rotated by adding the new one, moving the backend to it, then removing the old one.
public struct BackendKeys: Sendable {
    private let keys: [(name: String, digest: SecretDigest)]

    /// The names of the keys, in the file's order (never their secrets).
    public var names: [String] { keys.map(\.name) }

    /// Reads the file's text; a line that is not `name=secret`, a name used twice, a name that is
    /// not 1–64 letters, digits, `-` or `_`, or a secret shorter than 32 bytes is refused.
    public init(fileText: String) throws(ConfigurationError) {
        var keys: [(String, SecretDigest)] = []
        for (index, rawLine) in fileText.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            let lineNumber = index + 1
            guard let equals = line.firstIndex(of: "=") else {
                throw ConfigurationError("BACKEND_API_KEYS_FILE line \(lineNumber) must be name=secret.")
            }
            let name = String(line[..<equals])
            let secret = String(line[line.index(after: equals)...])
            guard name.utf8.count <= 64, Identifier.isValid(name) else {
                throw ConfigurationError("BACKEND_API_KEYS_FILE line \(lineNumber): a key's name must be 1–64 letters, digits, - or _.")
            }
            guard !keys.contains(where: { $0.0 == name }) else {
                throw ConfigurationError("BACKEND_API_KEYS_FILE names the key \(name) twice.")
            }
            guard secret.utf8.count >= 32 else {
                throw ConfigurationError("BACKEND_API_KEYS_FILE line \(lineNumber): the secret of \(name) must be at least 32 bytes long.")
            }
            keys.append((name, SecretDigest(secret)))
        }
        guard !keys.isEmpty else { throw ConfigurationError("BACKEND_API_KEYS_FILE holds no key.") }
        self.keys = keys
    }

    /// The name of the key `token` is, checking every key (each in constant time), or `nil`.
    func name(of token: String) -> String? {
        let given = Data(token.utf8)
        var found: String?
        for key in keys where key.digest.matches(given) && found == nil {
            found = key.name
        }
        return found
    }
}

/// Requires `Authorization: Bearer <backend key>` on the app backend's routes, and takes the app
/// user the call is about from the path (`/v1/backend/users/{user_id}/…`, percent-encoded).
///
/// A user's token is not a backend key, and a backend key is not a user's token: each route
/// group accepts only its own kind.
struct BackendKeyAuthentication: UserRouteStep {
    typealias Context = BrokerRequestContext

    let keys: BackendKeys
    let hasher: SubjectHasher

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], let token = AuthenticationMiddleware.bearerToken(in: header) else {
            throw BrokerError.unauthorized(.missingToken, "The backend API needs Authorization: Bearer <backend key>.")
        }
        guard let name = keys.name(of: token) else {
            throw BrokerError.unauthorized(.invalidBackendKey, "The backend key is not one of BACKEND_API_KEYS_FILE's.")
        }
        guard let encoded = context.parameters.get("user_id"), let subject = encoded.removingPercentEncoding, !subject.isEmpty,
            subject.utf8.count <= 255
        else {
            throw BrokerError.badRequest(.invalidSubject, "The user id in the path must be the app's user id, percent-encoded (1–255 bytes).")
        }
        var context = context
        let hash = hasher.hash(subject)
        context.subject = subject
        context.backendKeyName = name
        context.caller?.record(subjectHash: hash)
        context.logger[metadataKey: "user.hash"] = .string(hash)
        context.logger[metadataKey: "backend.key"] = .string(name)
        return try await next(request, context)
    }

    /// The backend's routes are never answered before the router.
    func admitEarly(_ request: Request, caller: inout EarlyCaller) -> Bool { false }
}
