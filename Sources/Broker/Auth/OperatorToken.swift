import BrokerCore
import Crypto
import Foundation
import Hummingbird

/// A secret a request must present, compared in constant time: both sides are hashed first, so
/// neither the secret's length nor where a guess goes wrong shows in how long the check takes.
struct SecretDigest: Sendable {
    private let expected: SHA256Digest

    init(_ secret: String) {
        expected = SHA256.hash(data: Data(secret.utf8))
    }

    /// Whether `given` is the secret; swift-crypto compares digests in constant time.
    func matches(_ given: some DataProtocol) -> Bool {
        SHA256.hash(data: given) == expected
    }
}

/// Requires `Authorization: Bearer <token>` with one operator's token (`ADMIN_TOKEN`,
/// `METRICS_TOKEN`): 401 without one, 403 with another.
struct OperatorTokenMiddleware: RouterMiddleware {
    typealias Context = BrokerRequestContext

    private let digest: SecretDigest
    /// What the token opens, for messages (`admin API`), and the configuration key that sets it.
    private let purpose: String
    private let key: String
    /// The code of a wrong token (`invalid_admin_token`).
    private let wrongTokenCode: ErrorCode

    init(token: Secret, purpose: String, key: String, wrongTokenCode: ErrorCode) {
        digest = SecretDigest(token.value)
        self.purpose = purpose
        self.key = key
        self.wrongTokenCode = wrongTokenCode
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], let token = AuthenticationMiddleware.bearerToken(in: header) else {
            throw BrokerError.unauthorized(.missingToken, "The \(purpose) needs Authorization: Bearer <\(key)>.")
        }
        guard digest.matches(Data(token.utf8)) else {
            throw BrokerError(.forbidden, wrongTokenCode, "The \(purpose) token is wrong.")
        }
        return try await next(request, context)
    }
}
