import BrokerCore
import Foundation
import JWTKit

/// Where the keys that verify callers' tokens come from.
public enum TokenKeySource: Sendable {
    /// A shared HS256 secret (at least 32 bytes).
    case hs256(secret: String)
    /// A PEM public key: RSA (RS256) or P-256 (ES256).
    case publicKeyPEM(String)
    /// A JSON Web Key Set document.
    case jwks(json: String)
}

/// The caller a valid token names: its subject, and the profile its claims give when the
/// broker reads one (`MX_USER_PROFILE`).
struct VerifiedCaller: Sendable {
    let subject: String
    let profile: UserProfile?
    /// When the token stops being valid (its `exp`, with the leeway).
    let expiresAt: Date
}

/// Verifies the app's bearer tokens: signature, `exp` (required), `nbf`, a lifetime no longer
/// than `maxLifetime`, and when configured `iss` and `aud`, with a small leeway for clock skew.
/// The `sub` claim is the caller.
public struct TokenVerifier: Sendable {
    private let keys: JWTKeyCollection
    private let issuer: String?
    private let audience: String?
    private let leeway: TimeInterval
    /// The longest a token may live: from `iat` to `exp`, or from now when it has no `iat`. A
    /// stolen token that lives for months is refused rather than honoured.
    private let maxLifetime: TimeInterval
    /// The claims a caller's profile is read from; nil when no profile is read.
    private let profileClaims: ProfileClaimNames?
    /// Tokens already verified, with their caller.
    private let verified = ExpiringCache<VerifiedCaller>()

    public init(
        keySource: TokenKeySource,
        issuer: String?,
        audience: String?,
        leeway: TimeInterval,
        maxLifetime: TimeInterval = 86_400,
        profileClaims: ProfileClaimNames? = nil
    ) async throws {
        keys = try await Self.keyCollection(keySource)
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
        self.maxLifetime = maxLifetime
        self.profileClaims = profileClaims
    }

    /// A verifier checking tokens as `settings` say, with `keySource`'s keys (the settings' own,
    /// or a development secret when they name none).
    public init(_ settings: TokenSettings, keySource: TokenKeySource) async throws {
        try await self.init(
            keySource: keySource,
            issuer: settings.issuer,
            audience: settings.audience,
            leeway: settings.leeway.timeInterval,
            maxLifetime: settings.maxLifetime.timeInterval,
            profileClaims: settings.profileClaims
        )
    }

    static func keyCollection(_ source: TokenKeySource) async throws -> JWTKeyCollection {
        let keys = JWTKeyCollection()
        switch source {
        case .hs256(let secret):
            await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        case .publicKeyPEM(let pem):
            if let rsa = try? Insecure.RSA.PublicKey(pem: pem) {
                await keys.add(rsa: rsa, digestAlgorithm: .sha256)
            } else {
                await keys.add(ecdsa: try ES256PublicKey(pem: pem))
            }
        case .jwks(let json):
            try await keys.add(jwksJSON: json)
        }
        return keys
    }

    /// The subject of a valid token, or a 401 ``BrokerError`` saying what is wrong with it.
    public func subject(of token: String) async throws(BrokerError) -> String {
        try await caller(of: token).subject
    }

    /// The caller of a token verified earlier and still remembered; `nil` for any other token.
    func rememberedCaller(of token: String) -> VerifiedCaller? {
        verified.value(for: token)
    }

    /// The caller of a valid token, or a 401 ``BrokerError`` saying what is wrong with it.
    ///
    /// A token verified once is remembered (at most five minutes, never past its expiry), so a
    /// client reusing its token is not verified again on every request.
    func caller(of token: String) async throws(BrokerError) -> VerifiedCaller {
        if let caller = rememberedCaller(of: token) { return caller }
        let claims: AppTokenClaims
        do {
            claims = try await keys.verify(token, as: AppTokenClaims.self)
        } catch {
            throw BrokerError.unauthorized(.invalidToken, "The bearer token is not a valid token signed by a trusted key.")
        }
        let now = Date()
        guard let expiry = claims.exp?.value else {
            throw BrokerError.unauthorized(.invalidToken, "The bearer token has no expiry (exp).")
        }
        guard expiry.addingTimeInterval(leeway) > now else {
            throw BrokerError.unauthorized(.tokenExpired, "The bearer token has expired.")
        }
        if expiry.timeIntervalSince(claims.iat?.value ?? now) > maxLifetime + leeway {
            throw BrokerError.unauthorized(
                .tokenLifetimeTooLong,
                "The bearer token lives longer than this service accepts (\(Int(maxLifetime)) s); issue shorter-lived tokens."
            )
        }
        if let notBefore = claims.nbf?.value, notBefore.addingTimeInterval(-leeway) > now {
            throw BrokerError.unauthorized(.invalidToken, "The bearer token is not valid yet.")
        }
        if let issuer, claims.iss?.value != issuer {
            throw BrokerError.unauthorized(.invalidToken, "The bearer token was issued by an untrusted issuer.")
        }
        if let audience, !(claims.aud?.value.contains(audience) ?? false) {
            throw BrokerError.unauthorized(.invalidToken, "The bearer token is not meant for this service.")
        }
        guard let subject = claims.sub?.value, !subject.isEmpty, subject.utf8.count <= 255 else {
            throw BrokerError.unauthorized(.invalidToken, "The bearer token has no usable subject (sub).")
        }
        let caller = VerifiedCaller(
            subject: subject,
            profile: profileClaims?.profile(from: claims.strings),
            expiresAt: expiry.addingTimeInterval(leeway)
        )
        let validFor = min(expiry.addingTimeInterval(leeway).timeIntervalSince(now), 300)
        verified.set(caller, for: token, until: .now + .milliseconds(Int64(validFor * 1000)))
        return caller
    }
}

/// The claims the broker reads from an app token. Time and audience checks happen in
/// ``TokenVerifier`` after the signature is verified, so the leeway and the expected values
/// come from configuration.
struct AppTokenClaims: JWTPayload {
    var sub: SubjectClaim?
    var exp: ExpirationClaim?
    var iat: IssuedAtClaim?
    var nbf: NotBeforeClaim?
    var iss: IssuerClaim?
    var aud: AudienceClaim?
    /// The token's other claims with short string values (`email`, `given_name`, …), at most
    /// ``maxStrings`` of them: where a caller's profile is read from.
    var strings: [String: String] = [:]

    static let maxStrings = 32
    static let maxStringBytes = 320

    init(
        sub: SubjectClaim?,
        exp: ExpirationClaim?,
        iat: IssuedAtClaim? = nil,
        nbf: NotBeforeClaim?,
        iss: IssuerClaim?,
        aud: AudienceClaim?,
        strings: [String: String] = [:]
    ) {
        self.sub = sub
        self.exp = exp
        self.iat = iat
        self.nbf = nbf
        self.iss = iss
        self.aud = aud
        self.strings = strings
    }

    private struct Key: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }

        static let registered: Set<String> = ["sub", "exp", "iat", "nbf", "iss", "aud"]
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        sub = try container.decodeIfPresent(SubjectClaim.self, forKey: Key("sub"))
        exp = try container.decodeIfPresent(ExpirationClaim.self, forKey: Key("exp"))
        iat = try container.decodeIfPresent(IssuedAtClaim.self, forKey: Key("iat"))
        nbf = try container.decodeIfPresent(NotBeforeClaim.self, forKey: Key("nbf"))
        iss = try container.decodeIfPresent(IssuerClaim.self, forKey: Key("iss"))
        aud = try container.decodeIfPresent(AudienceClaim.self, forKey: Key("aud"))
        for key in container.allKeys where !Key.registered.contains(key.stringValue) && strings.count < Self.maxStrings {
            if let value = try? container.decode(String.self, forKey: key), value.utf8.count <= Self.maxStringBytes {
                strings[key.stringValue] = value
            }
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encodeIfPresent(sub, forKey: Key("sub"))
        try container.encodeIfPresent(exp, forKey: Key("exp"))
        try container.encodeIfPresent(iat, forKey: Key("iat"))
        try container.encodeIfPresent(nbf, forKey: Key("nbf"))
        try container.encodeIfPresent(iss, forKey: Key("iss"))
        try container.encodeIfPresent(aud, forKey: Key("aud"))
        for (name, value) in strings where !Key.registered.contains(name) {
            try container.encode(value, forKey: Key(name))
        }
    }

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// Signs short-lived HS256 tokens for the sandbox and its demo (never in production mode).
public struct DevTokenSigner: Sendable {
    private let keys: JWTKeyCollection

    public init(secret: String) async {
        keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
    }

    /// A token for `subject` valid for `lifetime` seconds, with further string `claims`
    /// (`email`, `given_name`, …) when given.
    public func token(subject: String, lifetime: TimeInterval, claims extra: [String: String] = [:]) async throws -> String {
        let now = Date()
        let claims = AppTokenClaims(
            sub: SubjectClaim(value: subject),
            exp: ExpirationClaim(value: now.addingTimeInterval(lifetime)),
            iat: IssuedAtClaim(value: now),
            nbf: NotBeforeClaim(value: now.addingTimeInterval(-1)),
            iss: nil,
            aud: nil,
            strings: extra
        )
        return try await keys.sign(claims)
    }
}
