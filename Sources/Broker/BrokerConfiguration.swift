import Foundation
import Logging
import MXPlatform
import MXSandbox

/// Everything the broker is configured with, read from environment variables.
///
/// Keys (all optional; with none set the broker runs against its embedded MX sandbox):
/// - `HOST` (default `127.0.0.1`), `PORT` (default `8080`): where to listen.
/// - `DATA_DIR` (default `./data`): the SQLite file and generated development secrets.
/// - `DATABASE_URL` / `DATABASE_URL_FILE` (`postgres://user:password@host:5432/db?sslmode=…`):
///   use PostgreSQL instead of the SQLite file, so several replicas can share one database;
///   `DATABASE_POOL_SIZE` (default 10): connections each replica may open.
/// - `MIGRATE_ON_START` (`true` default | `false`): apply pending migrations at start; with
///   `false`, run `connect-broker migrate` first — `/readyz` fails until it has.
/// - `MX_CLIENT_ID`, `MX_API_KEY` / `MX_API_KEY_FILE`: real MX credentials; setting them (or
///   `MX_BASE_URL`) turns the embedded sandbox off.
/// - `MX_ENVIRONMENT` (`integration` default | `production`), `MX_BASE_URL` (overrides it),
///   `MX_API_VERSION` (`v20250224` default | `v20111101`), `MX_TIMEOUT_SECONDS` (default 15).
/// - `MX_MAX_CONCURRENT_REQUESTS` (default 64), `MX_RETRY_ATTEMPTS` (3), `MX_RETRY_BASE_MILLISECONDS`
///   (200), `MX_RETRY_MAX_WAIT_SECONDS` (5), `MX_BREAKER_FAILURES` (10), `MX_BREAKER_OPEN_SECONDS`
///   (15): resilience toward MX (see ``MXResilience``).
/// - `MX_HTTPS_PROXY` (`http://[user:password@]host:port`): sends every MX call through this
///   egress proxy, so MX sees one registered address.
/// - `RATE_LIMIT_WIDGET_URLS_PER_MINUTE` (10), `RATE_LIMIT_READS_PER_MINUTE` (300),
///   `RATE_LIMIT_RELAYS_PER_MINUTE` (120), `RATE_LIMIT_CONNECTION_ATTEMPTS_PER_MINUTE` (10): per-user
///   limits of each replica; 0 turns one off.
/// - `READ_CACHE_SECONDS` (default 30), `READ_CACHE_MAX_BYTES` (default 67108864): how long MX
///   reads are kept per user (dropped at once when the user's data changes) and the memory they
///   may take; 0 turns the cache off.
/// - `IDLE_TIMEOUT_SECONDS` (default 30): a connection that sends nothing for this long is closed.
/// - `MAX_HEADER_BYTES` (default 16384): larger request headers are refused.
/// - `SANDBOX_MX_CLIENT_ID`, `SANDBOX_MX_API_KEY`, `SANDBOX_CONNECT_SECONDS`, `SANDBOX_PUBLIC_URL`:
///   the embedded sandbox (see ``SandboxConfiguration``).
/// - `JWT_HS256_SECRET` / `JWT_HS256_SECRET_FILE`, `JWT_PUBLIC_KEY_FILE`, `JWT_JWKS_FILE`: one key
///   source for callers' tokens; `JWT_ISSUER`, `JWT_AUDIENCE` (checked when set),
///   `JWT_LEEWAY_SECONDS` (default 60), `JWT_MAX_LIFETIME_SECONDS` (default 86400: a token living
///   longer, from `iat` or from now, is refused). With the embedded sandbox and none set, a
///   development secret is generated once under `DATA_DIR`.
/// - `USER_ID_SECRET` / `USER_ID_SECRET_FILE`: keys the MX user `id` derived from each subject;
///   generated once under `DATA_DIR` when unset (replicas must share one).
/// - `MX_USER_PROFILE` (`false` default | `true`): also give MX each user's email and, in
///   `metadata`, the creation date and first and last names, from the token claims named by
///   `MX_USER_EMAIL_CLAIM` (`email`), `MX_USER_FIRST_NAME_CLAIM` (`given_name`) and
///   `MX_USER_LAST_NAME_CLAIM` (`family_name`); updated at MX when they change.
/// - `CORS_ALLOWED_ORIGINS`: comma-separated origins allowed to call from browsers.
/// - `ALLOWED_REDIRECT_URL_PREFIXES`: comma-separated https URLs (http only for loopback) a
///   `client_redirect_url` must be under (see ``RedirectAllowList``).
/// - `MEMBER_REFRESH_SECONDS` (default 60): how old the stored view of members may get before a
///   read goes to MX again.
/// - `MEMBER_POLL_SECONDS` (default 3): how soon a connecting member, or one waiting for the
///   user, may be read from MX again.
/// - `SSE_HEARTBEAT_SECONDS` (default 15), `EVENTS_TOKEN_SECONDS` (default 120): event streams.
/// - `MAX_STREAMS_PER_USER` (default 5; 0: no limit): event streams one user may hold open.
/// - `MAX_STREAMS` (default and most: the open-file limit less a reserve, see ``OpenFiles``):
///   event streams the broker holds open, so ordinary requests and health checks always find a
///   file descriptor.
/// - `MAX_CONNECTIONS` (default: the open-file limit less half that reserve): connections served
///   at once; past it a request is answered 503 `server_busy` and its connection closed, health
///   checks excepted (see ``ConnectionBudget``).
/// - `WIDGET_EVENT_RETENTION_DAYS` (default 30), `EVENT_RETENTION_HOURS` (default 72): how long
///   relayed widget events and stream events are kept.
/// - `MX_WEBHOOK_USERNAME`, `MX_WEBHOOK_PASSWORD` / `_FILE`: the Basic credentials MX sends with
///   webhooks (with the embedded sandbox they default to the sandbox's); without them, outside
///   sandbox mode, every delivery is refused.
/// - `MX_WEBHOOK_ALLOWED_CIDRS`: comma-separated source ranges allowed to deliver webhooks;
///   `TRUSTED_PROXY_CIDRS`: proxies whose `X-Forwarded-For` is believed.
/// - `WEBHOOK_MAX_ATTEMPTS` (default 8), `WEBHOOK_RETRY_BASE_SECONDS` (5), `WEBHOOK_RETRY_MAX_SECONDS`
///   (3600), `WEBHOOK_LEASE_SECONDS` (120), `WEBHOOK_CONCURRENCY` (4): inbox processing.
/// - `ADMIN_TOKEN` / `_FILE`: enables the admin API (`/v1/admin/…`) for this bearer token.
/// - `METRICS_TOKEN` / `_FILE`: `/metrics` asks for this bearer token; `METRICS_PORT`: `/metrics`
///   is served on this port of `HOST` instead of with the API (0 picks a free one).
/// - `DEMO_DIR` (default `./Public`): the demo front end, served at `/` in development mode
///   (embedded sandbox and no token key set) when the folder holds an `index.html`.
/// - `MAX_BODY_BYTES` (default 65536), `LOG_LEVEL` (default `info`), `LOG_FORMAT` (`text`
///   default | `json`, one object per line).
public struct BrokerConfiguration: Sendable {
    /// How the broker reaches MX.
    public enum MXTarget: Sendable {
        /// The sandbox served by the broker itself at `/sandbox/mx`.
        case embeddedSandbox(SandboxConfiguration)
        /// A real MX environment, or a standalone sandbox, at a URL.
        case remote(baseURL: String, clientID: String, apiKey: Secret)
    }

    public var host: String
    public var port: Int
    public var dataDirectory: String
    /// A PostgreSQL URL; `nil` keeps the embedded SQLite store.
    public var databaseURL: Secret?
    public var databasePoolSize: Int
    public var migrateOnStart: Bool
    public var mx: MXTarget
    public var mxAPIVersion: MXAPIVersion
    public var mxTimeout: Duration
    public var mxResilience: MXResilience
    /// The egress proxy every MX call goes through, if any.
    public var mxHTTPSProxy: EgressProxy?
    public var rateLimits: RateLimits
    public var idleTimeout: Duration
    public var readCacheTTL: Duration
    public var readCacheMaxBytes: Int
    public var maxHeaderBytes: Int
    /// `nil` means: generate a development secret under the data directory (sandbox only).
    public var tokenKeySource: TokenKeySource?
    public var tokenIssuer: String?
    public var tokenAudience: String?
    public var tokenLeeway: TimeInterval
    /// The longest lifetime a caller's token may have.
    public var tokenMaxLifetime: TimeInterval
    public var userIDSecret: Secret?
    /// The token claims users' MX profiles are read from; nil when `MX_USER_PROFILE` is off.
    public var userProfileClaims: ProfileClaimNames?
    public var corsAllowedOrigins: [String]
    /// Where MX may send users back to after an OAuth bank's sign-in.
    public var allowedRedirects: RedirectAllowList
    public var maxBodyBytes: Int
    public var demoDirectory: String
    public var logLevel: Logger.Level
    /// Whether logs are written as JSON lines rather than text.
    public var logsAsJSON: Bool
    public var memberRefreshInterval: TimeInterval
    public var memberPollInterval: TimeInterval
    public var heartbeatInterval: Duration
    /// Event streams one user may hold open; 0 for no limit.
    public var maxStreamsPerUser: Int
    /// Event streams the broker holds open at most.
    public var maxStreams: Int
    /// Connections served at once before the rest are refused (health checks excepted); `nil`
    /// for the open-file limit less half its reserve.
    public var maxConnections: Int?
    public var eventsTokenLifetime: TimeInterval
    public var widgetEventRetention: TimeInterval
    public var eventRetention: TimeInterval
    /// `nil`: refuse every webhook delivery.
    public var webhookUsername: String?
    public var webhookPassword: Secret?
    public var webhookAllowedSources: [String]
    public var trustedProxies: [String]
    public var webhookMaxAttempts: Int
    public var webhookRetryBase: TimeInterval
    public var webhookRetryMax: TimeInterval
    public var webhookLease: TimeInterval
    public var webhookConcurrency: Int
    public var adminToken: Secret?
    /// The bearer token `/metrics` asks for; `nil` serves it to anyone who reaches it.
    public var metricsToken: Secret?
    /// A port of its own for `/metrics` (then not served on `port`); `nil` serves it with the API.
    public var metricsPort: Int?

    /// Whether the embedded sandbox stands in for MX (and development conveniences are on).
    public var usesEmbeddedSandbox: Bool {
        if case .embeddedSandbox = mx { return true }
        return false
    }

    /// Reads the configuration from `environment` (usually `ProcessInfo.processInfo.environment`).
    public init(environment: [String: String]) throws(ConfigurationError) {
        let reader = EnvironmentReader(environment)
        host = reader.string("HOST") ?? "127.0.0.1"
        port = try reader.integer("PORT", default: 8080, range: 0...65535)
        dataDirectory = reader.string("DATA_DIR") ?? "./data"
        databaseURL = try reader.secret("DATABASE_URL")
        databasePoolSize = try reader.integer("DATABASE_POOL_SIZE", default: 10, range: 2...500)
        migrateOnStart = try reader.boolean("MIGRATE_ON_START", default: true)
        if let databaseURL, !(databaseURL.value.hasPrefix("postgres://") || databaseURL.value.hasPrefix("postgresql://")) {
            throw ConfigurationError("DATABASE_URL must be a postgres:// URL.")
        }
        mxAPIVersion = try reader.choice("MX_API_VERSION", default: .v20250224)
        mxTimeout = try reader.duration("MX_TIMEOUT_SECONDS", default: 15, range: 0.1...300)
        mxResilience = MXResilience(
            maxConcurrentRequests: try reader.integer("MX_MAX_CONCURRENT_REQUESTS", default: 64, range: 1...2000),
            retryAttempts: try reader.integer("MX_RETRY_ATTEMPTS", default: 3, range: 1...10),
            retryBaseDelay: .milliseconds(try reader.integer("MX_RETRY_BASE_MILLISECONDS", default: 200, range: 1...60_000)),
            retryMaxWait: try reader.duration("MX_RETRY_MAX_WAIT_SECONDS", default: 5, range: 0...300),
            breakerFailureThreshold: try reader.integer("MX_BREAKER_FAILURES", default: 10, range: 1...10_000),
            breakerOpenDuration: try reader.duration("MX_BREAKER_OPEN_SECONDS", default: 15, range: 0.1...3600)
        )
        mxHTTPSProxy = try reader.secret("MX_HTTPS_PROXY").map { url throws(ConfigurationError) in
            guard let proxy = EgressProxy(url: url.value) else {
                throw ConfigurationError("MX_HTTPS_PROXY must look like http://host:port or http://user:password@host:port.")
            }
            return proxy
        }
        rateLimits = RateLimits(
            widgetURLsPerMinute: try reader.integer("RATE_LIMIT_WIDGET_URLS_PER_MINUTE", default: 10, range: 0...1_000_000),
            readsPerMinute: try reader.integer("RATE_LIMIT_READS_PER_MINUTE", default: 300, range: 0...1_000_000),
            relaysPerMinute: try reader.integer("RATE_LIMIT_RELAYS_PER_MINUTE", default: 120, range: 0...1_000_000),
            connectionAttemptsPerMinute: try reader.integer("RATE_LIMIT_CONNECTION_ATTEMPTS_PER_MINUTE", default: 10, range: 0...1_000_000)
        )
        idleTimeout = try reader.duration("IDLE_TIMEOUT_SECONDS", default: 30, range: 0.1...3600)
        readCacheTTL = try reader.duration("READ_CACHE_SECONDS", default: 30, range: 0...86_400)
        readCacheMaxBytes = try reader.integer("READ_CACHE_MAX_BYTES", default: 64 << 20, range: 0...(64 << 30))
        maxHeaderBytes = try reader.integer("MAX_HEADER_BYTES", default: 16_384, range: 1024...(1 << 20))

        let clientID = reader.string("MX_CLIENT_ID")
        let apiKey = try reader.secret("MX_API_KEY")
        let baseURL = reader.string("MX_BASE_URL")
        if clientID != nil || apiKey != nil || baseURL != nil {
            guard let clientID, let apiKey else {
                throw ConfigurationError("MX_CLIENT_ID and MX_API_KEY (or MX_API_KEY_FILE) are both required to call MX.")
            }
            let environment: MXEnvironment = try reader.choice("MX_ENVIRONMENT", default: .integration)
            mx = .remote(baseURL: baseURL ?? environment.baseURL, clientID: clientID, apiKey: apiKey)
        } else {
            mx = .embeddedSandbox(try Self.sandboxConfiguration(environment: environment))
        }

        let keySources: [TokenKeySource] = [
            try reader.secret("JWT_HS256_SECRET").map { .hs256(secret: $0.value) },
            try reader.fileContents("JWT_PUBLIC_KEY_FILE").map { .publicKeyPEM($0) },
            try reader.fileContents("JWT_JWKS_FILE").map { .jwks(json: $0) },
        ].compactMap { $0 }
        guard keySources.count <= 1 else {
            throw ConfigurationError("Set only one of JWT_HS256_SECRET, JWT_PUBLIC_KEY_FILE and JWT_JWKS_FILE.")
        }
        tokenKeySource = keySources.first
        if case .hs256(let secret) = tokenKeySource, secret.utf8.count < 32 {
            throw ConfigurationError("JWT_HS256_SECRET must be at least 32 bytes long.")
        }
        if tokenKeySource == nil, case .remote = mx {
            throw ConfigurationError("Set JWT_HS256_SECRET, JWT_PUBLIC_KEY_FILE or JWT_JWKS_FILE to verify callers' tokens.")
        }
        tokenIssuer = reader.string("JWT_ISSUER")
        tokenAudience = reader.string("JWT_AUDIENCE")
        tokenLeeway = try reader.number("JWT_LEEWAY_SECONDS", default: 60, range: 0...600)
        tokenMaxLifetime = try reader.number("JWT_MAX_LIFETIME_SECONDS", default: 86_400, range: 60...31_536_000)
        userIDSecret = try reader.secret("USER_ID_SECRET")
        userProfileClaims =
            try reader.boolean("MX_USER_PROFILE", default: false)
            ? ProfileClaimNames(
                email: reader.string("MX_USER_EMAIL_CLAIM") ?? "email",
                firstName: reader.string("MX_USER_FIRST_NAME_CLAIM") ?? "given_name",
                lastName: reader.string("MX_USER_LAST_NAME_CLAIM") ?? "family_name"
            ) : nil
        corsAllowedOrigins = reader.list("CORS_ALLOWED_ORIGINS")
        allowedRedirects = try RedirectAllowList(prefixes: reader.list("ALLOWED_REDIRECT_URL_PREFIXES"))
        maxBodyBytes = try reader.integer("MAX_BODY_BYTES", default: 65_536, range: 1024...(16 << 20))
        demoDirectory = reader.string("DEMO_DIR") ?? "./Public"
        logLevel = try reader.choice("LOG_LEVEL", default: .info)
        switch reader.string("LOG_FORMAT")?.lowercased() ?? "text" {
        case "text": logsAsJSON = false
        case "json": logsAsJSON = true
        default: throw ConfigurationError("LOG_FORMAT must be text or json.")
        }
        memberRefreshInterval = try reader.number("MEMBER_REFRESH_SECONDS", default: 60, range: 0...86_400)
        memberPollInterval = try reader.number("MEMBER_POLL_SECONDS", default: 3, range: 0...3600)
        heartbeatInterval = try reader.duration("SSE_HEARTBEAT_SECONDS", default: 15, range: 0.05...3600)
        maxStreamsPerUser = try reader.integer("MAX_STREAMS_PER_USER", default: 5, range: 0...10_000)
        let streamBudget = OpenFiles.streamBudget
        maxStreams = try reader.integer("MAX_STREAMS", default: streamBudget, range: 1...max(1, streamBudget))
        maxConnections = try reader.string("MAX_CONNECTIONS").map { _ throws(ConfigurationError) in
            try reader.integer("MAX_CONNECTIONS", default: 1, range: 1...1_000_000)
        }
        eventsTokenLifetime = try reader.number("EVENTS_TOKEN_SECONDS", default: 120, range: 1...86_400)
        widgetEventRetention = try reader.number("WIDGET_EVENT_RETENTION_DAYS", default: 30, range: 0...3650) * 86_400
        eventRetention = try reader.number("EVENT_RETENTION_HOURS", default: 72, range: 1...87_600) * 3600

        webhookUsername = reader.string("MX_WEBHOOK_USERNAME")
        webhookPassword = try reader.secret("MX_WEBHOOK_PASSWORD")
        guard (webhookUsername == nil) == (webhookPassword == nil) else {
            throw ConfigurationError("Set both MX_WEBHOOK_USERNAME and MX_WEBHOOK_PASSWORD (or MX_WEBHOOK_PASSWORD_FILE), or neither.")
        }
        if webhookUsername == nil, case .embeddedSandbox(let sandbox) = mx {
            webhookUsername = sandbox.webhookUsername
            webhookPassword = Secret(sandbox.webhookPassword)
        }
        webhookAllowedSources = reader.list("MX_WEBHOOK_ALLOWED_CIDRS")
        trustedProxies = reader.list("TRUSTED_PROXY_CIDRS")
        for (key, ranges) in [("MX_WEBHOOK_ALLOWED_CIDRS", webhookAllowedSources), ("TRUSTED_PROXY_CIDRS", trustedProxies)] {
            if let bad = ranges.first(where: { CIDRRange($0) == nil }) {
                throw ConfigurationError("\(key) has an entry that is not an address range like 203.0.113.0/24: \(bad)")
            }
        }
        webhookMaxAttempts = try reader.integer("WEBHOOK_MAX_ATTEMPTS", default: 8, range: 1...100)
        webhookRetryBase = try reader.number("WEBHOOK_RETRY_BASE_SECONDS", default: 5, range: 0.001...86_400)
        webhookRetryMax = try reader.number("WEBHOOK_RETRY_MAX_SECONDS", default: 3600, range: 0.001...604_800)
        webhookLease = try reader.number("WEBHOOK_LEASE_SECONDS", default: 120, range: 0.1...86_400)
        webhookConcurrency = try reader.integer("WEBHOOK_CONCURRENCY", default: 4, range: 1...256)
        metricsToken = try reader.secret("METRICS_TOKEN")
        if let metricsToken, metricsToken.value.utf8.count < 16 {
            throw ConfigurationError("METRICS_TOKEN must be at least 16 characters long.")
        }
        metricsPort = try reader.string("METRICS_PORT").map { _ throws(ConfigurationError) in
            try reader.integer("METRICS_PORT", default: 0, range: 0...65535)
        }
        adminToken = try reader.secret("ADMIN_TOKEN")
        if let adminToken, adminToken.value.utf8.count < 16 {
            throw ConfigurationError("ADMIN_TOKEN must be at least 16 characters long.")
        }
    }

    /// The MX sandbox's settings from `SANDBOX_MX_CLIENT_ID`, `SANDBOX_MX_API_KEY`,
    /// `SANDBOX_CONNECT_SECONDS`, `SANDBOX_PUBLIC_URL`, `SANDBOX_FAULTS`, the `SANDBOX_WEBHOOK_…`
    /// keys and `MX_API_VERSION` (the version whose webhooks the sandbox sends).
    public static func sandboxConfiguration(environment: [String: String]) throws(ConfigurationError) -> SandboxConfiguration {
        let reader = EnvironmentReader(environment)
        return SandboxConfiguration(
            clientID: reader.string("SANDBOX_MX_CLIENT_ID") ?? SandboxConfiguration.defaultClientID,
            apiKey: reader.string("SANDBOX_MX_API_KEY") ?? SandboxConfiguration.defaultAPIKey,
            connectDelay: try reader.duration("SANDBOX_CONNECT_SECONDS", default: 3, range: 0...3600),
            publicBaseURL: reader.string("SANDBOX_PUBLIC_URL"),
            webhookURL: reader.string("SANDBOX_WEBHOOK_URL"),
            webhookUsername: reader.string("SANDBOX_WEBHOOK_USERNAME") ?? SandboxConfiguration.defaultWebhookUsername,
            webhookPassword: reader.string("SANDBOX_WEBHOOK_PASSWORD") ?? SandboxConfiguration.defaultWebhookPassword,
            webhookRetryScale: try reader.number("SANDBOX_WEBHOOK_RETRY_SCALE", default: 1, range: 0.000_001...1),
            webhookAPIVersion: try reader.choice("MX_API_VERSION", default: .v20250224),
            faults: try reader.string("SANDBOX_FAULTS").map { json throws(ConfigurationError) in
                let data = Data(json.utf8)
                do throws(SandboxFaultError) {
                    return try SandboxFaultRule.list(fromJSON: data)
                } catch {
                    throw ConfigurationError("SANDBOX_FAULTS: \(error.description)")
                }
            } ?? []
        )
    }

    /// The SQLite database file.
    public var databasePath: String { (dataDirectory as NSString).appendingPathComponent("broker.sqlite") }
}

/// A configuration value that is missing or wrong; the message names the key, never a secret.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) { self.description = description }
}

/// Typed reads of environment variables, with `_FILE` variants for secrets.
struct EnvironmentReader {
    let environment: [String: String]

    init(_ environment: [String: String]) { self.environment = environment }

    func string(_ key: String) -> String? {
        guard let value = environment[key]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }

    func list(_ key: String) -> [String] {
        (string(key) ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func integer(_ key: String, default value: Int, range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let text = string(key) else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw ConfigurationError("\(key) must be a whole number from \(range.lowerBound) to \(range.upperBound).")
        }
        return number
    }

    func number(_ key: String, default value: Double, range: ClosedRange<Double>) throws(ConfigurationError) -> Double {
        guard let text = string(key) else { return value }
        guard let number = Double(text), range.contains(number) else {
            throw ConfigurationError("\(key) must be a number from \(range.lowerBound) to \(range.upperBound).")
        }
        return number
    }

    func boolean(_ key: String, default value: Bool) throws(ConfigurationError) -> Bool {
        switch string(key)?.lowercased() {
        case nil: return value
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw ConfigurationError("\(key) must be true or false.")
        }
    }

    func duration(_ key: String, default value: Double, range: ClosedRange<Double>) throws(ConfigurationError) -> Duration {
        .milliseconds(Int64((try number(key, default: value, range: range) * 1000).rounded()))
    }

    func choice<T: RawRepresentable & CaseIterable>(_ key: String, default value: T) throws(ConfigurationError) -> T where T.RawValue == String {
        guard let text = string(key) else { return value }
        guard let choice = T(rawValue: text.lowercased()) ?? T(rawValue: text) else {
            throw ConfigurationError("\(key) must be one of: \(T.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        return choice
    }

    /// The value of `key`, or the contents of the file named by `key_FILE`.
    func secret(_ key: String) throws(ConfigurationError) -> Secret? {
        if let value = string(key) { return Secret(value) }
        return try fileContents("\(key)_FILE").map { Secret($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    func fileContents(_ key: String) throws(ConfigurationError) -> String? {
        guard let path = string(key) else { return nil }
        guard let contents = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigurationError("\(key) names a file that cannot be read: \(path)")
        }
        return contents
    }
}
