import BrokerCore
import Crypto
import Foundation
import JWTKit

/// Short-lived tokens good only for opening `GET /v1/events?access_token=…`.
///
/// Browsers' EventSource cannot send an Authorization header, so the front end trades its bearer
/// token for one of these. They are signed with a key derived from `USER_ID_SECRET` (shared by
/// replicas, see ``DerivedKey``) that verifies nothing else, and carry `scope: events`.
struct EventsTokenIssuer: Sendable {
    private let keys: JWTKeyCollection
    let lifetime: Duration

    init(secret: Secret, lifetime: Duration) async {
        keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(key: DerivedKey.eventsTokens.key(from: secret)), digestAlgorithm: .sha256)
        self.lifetime = lifetime
    }

    func issue(subject: String) async throws -> String {
        try await keys.sign(
            EventsTokenClaims(
                sub: SubjectClaim(value: subject),
                exp: ExpirationClaim(value: Date().addingTimeInterval(lifetime.timeInterval)),
                scope: "events"
            )
        )
    }

    /// The subject of a valid, unexpired events token, and when it expires.
    func caller(of token: String) async throws(BrokerError) -> (subject: String, expiresAt: Date) {
        guard let claims = try? await keys.verify(token, as: EventsTokenClaims.self), claims.scope == "events",
            claims.exp.value > Date()
        else {
            throw BrokerError.unauthorized(.invalidToken, "The access_token is not a valid events token; ask POST /v1/events/token for a new one.")
        }
        return (claims.sub.value, claims.exp.value)
    }
}

private struct EventsTokenClaims: JWTPayload {
    var sub: SubjectClaim
    var exp: ExpirationClaim
    var scope: String

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
