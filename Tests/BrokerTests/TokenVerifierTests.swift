import Crypto
import Foundation
import HTTPTypes
import JWTKit
import Testing

@testable import Broker

@Suite("Bearer token verification")
struct TokenVerifierTests {
    private func hs256Verifier(issuer: String? = nil, audience: String? = nil) async throws -> TokenVerifier {
        try await TokenVerifier(keySource: .hs256(secret: testSecret), issuer: issuer, audience: audience, leeway: 5)
    }

    private func sign(_ claims: AppTokenClaims, secret: String = testSecret) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        return try await keys.sign(claims)
    }

    private func claims(
        sub: String? = "alice",
        expiresIn: TimeInterval? = 60,
        notBefore: TimeInterval? = nil,
        issuer: String? = nil,
        audience: String? = nil
    ) -> AppTokenClaims {
        AppTokenClaims(
            sub: sub.map(SubjectClaim.init(value:)),
            exp: expiresIn.map { ExpirationClaim(value: Date().addingTimeInterval($0)) },
            nbf: notBefore.map { NotBeforeClaim(value: Date().addingTimeInterval($0)) },
            iss: issuer.map(IssuerClaim.init(value:)),
            aud: audience.map { AudienceClaim(value: [$0]) }
        )
    }

    @Test("a valid token yields its subject")
    func valid() async throws {
        #expect(try await hs256Verifier().subject(of: try await sign(claims())) == "alice")
    }

    @Test("expired, unexpiring, premature, forged and subjectless tokens are refused")
    func refused() async throws {
        let verifier = try await hs256Verifier()
        let cases: [(String, String)] = [
            (try await sign(claims(expiresIn: -60)), "token_expired"),
            (try await sign(claims(expiresIn: nil)), "invalid_token"),
            (try await sign(claims(notBefore: 60)), "invalid_token"),
            (try await sign(claims(), secret: String(testSecret.reversed())), "invalid_token"),
            (try await sign(claims(sub: nil)), "invalid_token"),
            ("not.a.token", "invalid_token"),
        ]
        for (token, code) in cases {
            let error = await #expect(throws: BrokerError.self) { try await verifier.subject(of: token) }
            #expect(error?.code.rawValue == code)
            #expect(error?.status == .unauthorized)
        }
    }

    @Test("a token may live at most JWT_MAX_LIFETIME_SECONDS, counted from iat or, without one, from now")
    func maximumLifetime() async throws {
        let verifier = try await TokenVerifier(keySource: .hs256(secret: testSecret), issuer: nil, audience: nil, leeway: 5, maxLifetime: 3600)
        var longLived = claims(expiresIn: 7200)
        #expect(
            await #expect(throws: BrokerError.self) { try await verifier.subject(of: try await sign(longLived)) }?.code == .tokenLifetimeTooLong
        )
        longLived.iat = IssuedAtClaim(value: Date().addingTimeInterval(-3000))
        longLived.exp = ExpirationClaim(value: Date().addingTimeInterval(1200))
        #expect(
            await #expect(throws: BrokerError.self) { try await verifier.subject(of: try await sign(longLived)) }?.code == .tokenLifetimeTooLong
        )
        var fine = claims(expiresIn: 3000)
        fine.iat = IssuedAtClaim(value: Date().addingTimeInterval(-500))
        #expect(try await verifier.subject(of: try await sign(fine)) == "alice")
        #expect(try await verifier.subject(of: try await sign(claims(expiresIn: 3500))) == "alice")
        #expect(try BrokerConfiguration(environment: sandboxEnvironment()).tokens.maxLifetime == .seconds(86_400))
        #expect(throws: ConfigurationError.self) { try BrokerConfiguration(environment: sandboxEnvironment(["JWT_MAX_LIFETIME_SECONDS": "0"])) }
    }

    @Test("the leeway tolerates a little clock skew")
    func leeway() async throws {
        #expect(try await hs256Verifier().subject(of: try await sign(claims(expiresIn: -2))) == "alice")
    }

    @Test("issuer and audience are checked when configured")
    func issuerAndAudience() async throws {
        let verifier = try await hs256Verifier(issuer: "https://id.example", audience: "broker")
        #expect(try await verifier.subject(of: try await sign(claims(issuer: "https://id.example", audience: "broker"))) == "alice")
        await #expect(throws: BrokerError.self) {
            try await verifier.subject(of: try await sign(claims(issuer: "https://evil.example", audience: "broker")))
        }
        await #expect(throws: BrokerError.self) {
            try await verifier.subject(of: try await sign(claims(issuer: "https://id.example", audience: "other")))
        }
        await #expect(throws: BrokerError.self) { try await verifier.subject(of: try await sign(claims())) }
    }

    @Test("ES256 tokens verify against a PEM public key and a JWKS")
    func publicKeys() async throws {
        let privateKey = P256.Signing.PrivateKey()
        let signer = JWTKeyCollection()
        await signer.add(ecdsa: try ES256PrivateKey(pem: privateKey.pemRepresentation), kid: "key-1")
        let token = try await signer.sign(claims(), kid: "key-1")

        let pemVerifier = try await TokenVerifier(
            keySource: .publicKeyPEM(privateKey.publicKey.pemRepresentation),
            issuer: nil,
            audience: nil,
            leeway: 5
        )
        #expect(try await pemVerifier.subject(of: token) == "alice")

        let raw = privateKey.publicKey.rawRepresentation
        func base64url(_ data: Data) -> String {
            data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(
                of: "=",
                with: ""
            )
        }
        let jwks =
            #"{"keys":[{"kty":"EC","crv":"P-256","alg":"ES256","kid":"key-1","x":"\#(base64url(raw.prefix(32)))","y":"\#(base64url(raw.suffix(32)))"}]}"#
        let jwksVerifier = try await TokenVerifier(keySource: .jwks(json: jwks), issuer: nil, audience: nil, leeway: 5)
        #expect(try await jwksVerifier.subject(of: token) == "alice")

        let otherKey = P256.Signing.PrivateKey()
        let otherVerifier = try await TokenVerifier(
            keySource: .publicKeyPEM(otherKey.publicKey.pemRepresentation),
            issuer: nil,
            audience: nil,
            leeway: 5
        )
        await #expect(throws: BrokerError.self) { try await otherVerifier.subject(of: token) }
    }
}
