import AsyncHTTPClient
import BrokerCore
import Foundation
import Logging
import MXPlatform

/// One thing `connect-broker check-config` found. Its text never holds a secret's value:
/// secrets are only ever reported as set or not set.
public struct ConfigurationFinding: Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable {
        case ok
        case warning
        case error
    }

    public let severity: Severity
    public let text: String

    public var description: String { "\(severity.rawValue): \(text)" }
}

/// Checks a configuration the way the broker will read it, and says what is missing or wrong.
public enum ConfigurationCheck {
    /// Reads the configuration from `environment`: an error when it cannot be used, otherwise
    /// what it sets up and what a production deployment should look at.
    public static func check(environment: [String: String]) -> (configuration: BrokerConfiguration?, findings: [ConfigurationFinding]) {
        let configuration: BrokerConfiguration
        do {
            configuration = try BrokerConfiguration(environment: environment)
        } catch {
            return (nil, [ConfigurationFinding(severity: .error, text: error.description)])
        }
        var findings: [ConfigurationFinding] = []
        func note(_ severity: ConfigurationFinding.Severity, _ text: String) {
            findings.append(ConfigurationFinding(severity: severity, text: text))
        }
        note(.ok, "Listens on \(configuration.http.host):\(configuration.http.port).")
        switch configuration.mx.target {
        case .embeddedSandbox:
            note(.warning, "MX_CLIENT_ID and MX_API_KEY are not set: the embedded MX sandbox stands in for MX (development only).")
        case .remote(let baseURL, _, _):
            note(.ok, "MX at \(baseURL), API version \(configuration.mx.apiVersion.rawValue); client id and API key set.")
        }
        if configuration.store.databaseURL != nil {
            note(.ok, "Store: PostgreSQL (DATABASE_URL set); replicas may share it.")
        } else {
            note(.ok, "Store: a SQLite file in \(configuration.store.dataDirectory) (one process; set DATABASE_URL for replicas).")
        }
        switch configuration.tokens.keySource {
        case nil:
            note(.warning, "Tokens: no key configured, so a development HS256 secret is kept under DATA_DIR (sandbox only).")
            let index = (configuration.demo.directory as NSString).appendingPathComponent("index.html")
            if FileManager.default.isReadableFile(atPath: index) {
                note(.ok, "Demo front end: served at / from \(configuration.demo.directory), signing in through POST /v1/sandbox/token.")
            } else {
                note(.warning, "Demo front end: \(index) is missing, so / is not served (set DEMO_DIR to the Public folder).")
            }
        case .hs256?: note(.ok, "Tokens: HS256 with JWT_HS256_SECRET (set).")
        case .publicKeyPEM?: note(.ok, "Tokens: verified with the public key in JWT_PUBLIC_KEY_FILE.")
        case .jwks?: note(.ok, "Tokens: verified with the key set in JWT_JWKS_FILE.")
        }
        let isProduction = !configuration.usesEmbeddedSandbox
        if isProduction, configuration.tokens.issuer == nil || configuration.tokens.audience == nil {
            note(.warning, "JWT_ISSUER or JWT_AUDIENCE is not set: any unexpired token signed with the key is accepted.")
        }
        if isProduction, configuration.userIDSecret == nil {
            note(.warning, "USER_ID_SECRET is not set: a key is generated under DATA_DIR, and every replica would make its own.")
        }
        if let claims = configuration.tokens.profileClaims {
            note(
                .ok,
                "MX user profiles: email from the \(claims.email) claim, names from \(claims.firstName) and \(claims.lastName), sent to MX and updated when they change."
            )
        } else {
            note(.ok, "MX user profiles: off; MX knows users only by an opaque id (MX_USER_PROFILE=true sends email and names).")
        }
        if configuration.webhooks.hasCredentials {
            let allowed = configuration.webhooks.sources.allowed
            let sources = allowed.isEmpty ? "any address" : allowed.map(\.description).joined(separator: ", ")
            note(.ok, "Webhooks: Basic credentials set; accepted from \(sources).")
        } else {
            note(
                .warning,
                "MX_WEBHOOK_USERNAME and MX_WEBHOOK_PASSWORD are not both set: webhooks are refused (503) and members are only polled."
            )
        }
        if configuration.http.corsAllowedOrigins.isEmpty {
            note(.ok, "CORS: no origins allowed; a front end on another origin needs CORS_ALLOWED_ORIGINS.")
        } else {
            note(.ok, "CORS: allowed from \(configuration.http.corsAllowedOrigins.joined(separator: ", ")).")
        }
        note(.ok, configuration.operators.adminToken == nil ? "Admin API off (ADMIN_TOKEN not set)." : "Admin API on (ADMIN_TOKEN set).")
        switch (configuration.operators.metricsPort, configuration.operators.metricsToken) {
        case (let port?, let token):
            note(.ok, "Metrics: /metrics on port \(port) only\(token == nil ? "" : ", behind METRICS_TOKEN (set)").")
        case (nil, _?):
            note(.ok, "Metrics: /metrics with the API, behind METRICS_TOKEN (set).")
        case (nil, nil):
            note(
                isProduction ? .warning : .ok,
                "Metrics: /metrics is open to anyone who reaches the API port; set METRICS_PORT or METRICS_TOKEN to keep it private."
            )
        }
        let perUser = configuration.events.maxStreamsPerUser == 0 ? "no limit per user" : "at most \(configuration.events.maxStreamsPerUser) per user"
        note(.ok, "Event streams: \(perUser), \(configuration.events.maxStreams) in all (the open-file limit less a reserve for other requests).")
        note(.ok, "Tokens may live at most \(configuration.tokens.maxLifetime.components.seconds) s (JWT_MAX_LIFETIME_SECONDS).")
        if let keys = configuration.backend.keys {
            note(.ok, "Backend API on /v1/backend/users/{user_id}/… with the keys \(keys.names.joined(separator: ", ")) (BACKEND_API_KEYS_FILE).")
        } else {
            note(.ok, "Backend API off (BACKEND_API_KEYS_FILE not set).")
        }
        note(.ok, "Front ends see account numbers \(configuration.accountDetails.frontEndExposure.rawValue) (FRONT_END_ACCOUNT_NUMBERS).")
        let products = configuration.connect.products.sorted().map(\.rawValue).joined(separator: ", ")
        note(.ok, "MX products front ends may ask for: \(products) (MX_PRODUCTS; premium products are charged by MX per call).")
        if configuration.connect.allowedRedirects.isEmpty {
            note(.ok, "OAuth redirects: no client_redirect_url is accepted (ALLOWED_REDIRECT_URL_PREFIXES not set).")
        } else {
            note(.ok, "OAuth redirects: client_redirect_url must be under one of ALLOWED_REDIRECT_URL_PREFIXES, compared as URLs.")
        }
        return (configuration, findings)
    }

    /// Loads the key callers' tokens are verified with, as the server will at start: an error when
    /// `JWT_PUBLIC_KEY_FILE` or `JWT_JWKS_FILE` holds no key the broker can use, else `nil`.
    public static func checkTokenKey(_ configuration: BrokerConfiguration) async -> ConfigurationFinding? {
        switch configuration.tokens.keySource {
        case nil, .hs256?:
            return nil
        case .publicKeyPEM(let pem)?:
            guard (try? await TokenVerifier.keyCollection(.publicKeyPEM(pem))) != nil else {
                return ConfigurationFinding(severity: .error, text: "JWT_PUBLIC_KEY_FILE holds no RSA or P-256 public key in PEM.")
            }
            return nil
        case .jwks(let json)?:
            let keys = JSONValue.parse(json)?["keys"]
            guard case .array(let list)? = keys, !list.isEmpty, (try? await TokenVerifier.keyCollection(.jwks(json: json))) != nil else {
                return ConfigurationFinding(severity: .error, text: "JWT_JWKS_FILE is not a JSON Web Key Set with a key the broker can use.")
            }
            return nil
        }
    }

    /// Makes one read-only call to MX (the first institution) and says whether MX accepts the
    /// credentials, telling wrong credentials (401) from a calling address MX has not
    /// allow-listed (403). The call goes out as the broker's would, through `MX_HTTPS_PROXY` when set.
    public static func checkMX(_ configuration: BrokerConfiguration) async -> ConfigurationFinding {
        guard case .remote(let baseURL, let clientID, let apiKey) = configuration.mx.target else {
            return ConfigurationFinding(severity: .ok, text: "MX: the embedded sandbox needs no check.")
        }
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: makeHTTPClientConfiguration(configuration.mx))
        let finding = await readInstitution(
            baseURL: baseURL,
            clientID: clientID,
            apiKey: apiKey,
            configuration: configuration,
            httpClient: httpClient
        )
        try? await httpClient.shutdown()
        return finding
    }

    private static func readInstitution(
        baseURL: String,
        clientID: String,
        apiKey: Secret,
        configuration: BrokerConfiguration,
        httpClient: HTTPClient
    ) async -> ConfigurationFinding {
        let mx = MXClient(
            configuration: configuration.mx.clientConfiguration(
                baseURL: MXBaseURL(baseURL),
                clientID: clientID,
                apiKey: apiKey,
                resilience: MXResilience(retryAttempts: 1)
            ),
            httpClient: httpClient,
            logger: Logger(label: "check-config", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        do {
            _ = try await mx.get(["institutions"], query: [("records_per_page", "1")])
            return ConfigurationFinding(severity: .ok, text: "MX at \(baseURL) accepted the credentials.")
        } catch let error as MXError {
            switch (error.httpStatus, error.kind) {
            case (401?, _):
                return ConfigurationFinding(
                    severity: .error,
                    text: "MX answered 401: the client id or API key is wrong, or belongs to the other MX environment."
                )
            case (403?, _):
                return ConfigurationFinding(
                    severity: .error,
                    text: "MX answered 403: the credentials are known, but MX has not allow-listed this calling address (or this API for the client)."
                )
            case (let status?, _):
                return ConfigurationFinding(severity: .error, text: "MX answered \(status) to a read of its institutions.")
            case (nil, .timeout):
                return ConfigurationFinding(severity: .error, text: "MX at \(baseURL) did not answer within MX_TIMEOUT_SECONDS.")
            case (nil, _):
                return ConfigurationFinding(severity: .error, text: "MX at \(baseURL) could not be reached (\(error.kind.rawValue)).")
            }
        } catch {
            return ConfigurationFinding(severity: .error, text: "MX at \(baseURL) could not be reached.")
        }
    }
}
