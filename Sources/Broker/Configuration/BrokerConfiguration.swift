import BrokerCore
import Foundation
import Logging
import MXPlatform
import MXSandbox

/// Everything the broker is configured with, read from environment variables and grouped by
/// the code that consumes it; each group is handed whole to its consumer.
///
/// With no variable set the broker runs against its embedded MX sandbox. The README's
/// configuration table lists every key, and a test keeps it equal to the keys read here.
public struct BrokerConfiguration: Sendable {
    public var http: HTTPSettings
    public var store: StoreSettings
    public var mx: MXSettings
    public var tokens: TokenSettings
    /// Keys the MX user `id` derived from each subject, the events tokens and the log hashes;
    /// `nil`: generated once under the data directory.
    public var userIDSecret: Secret?
    public var connect: ConnectSettings
    public var accountDetails: AccountDetailsSettings
    public var backend: BackendSettings
    public var readCache: ReadCacheSettings
    public var limits: RateLimits
    public var events: EventSettings
    public var webhooks: WebhookSettings
    public var operators: OperatorSettings
    public var demo: DemoSettings
    public var logging: LogSettings

    /// Whether the embedded sandbox stands in for MX (and development conveniences are on).
    public var usesEmbeddedSandbox: Bool {
        if case .embeddedSandbox = mx.target { return true }
        return false
    }

    /// Reads the configuration from `environment` (usually `ProcessInfo.processInfo.environment`).
    public init(environment: [String: String]) throws(ConfigurationError) {
        try self.init(reader: EnvironmentReader(environment))
    }

    init(reader: EnvironmentReader) throws(ConfigurationError) {
        http = try HTTPSettings(reader)
        store = try StoreSettings(reader)
        mx = try MXSettings(reader)
        let isRemote = if case .remote = mx.target { true } else { false }
        tokens = try TokenSettings(reader, remoteMX: isRemote)
        userIDSecret = try reader.secret("USER_ID_SECRET")
        connect = try ConnectSettings(reader, sandbox: mx.target)
        accountDetails = try AccountDetailsSettings(reader)
        backend = try BackendSettings(reader)
        readCache = try ReadCacheSettings(reader)
        limits = try RateLimits(reader)
        events = try EventSettings(reader)
        webhooks = try WebhookSettings(reader, sandbox: mx.target)
        operators = try OperatorSettings(reader)
        demo = DemoSettings(directory: reader.string("DEMO_DIR") ?? "./Public")
        logging = try LogSettings(reader)
    }

    /// The keys a configuration read from `environment` looked at (each `…_FILE` form included).
    static func keysRead(from environment: [String: String]) -> Set<String> {
        let reader = EnvironmentReader(environment)
        _ = try? BrokerConfiguration(reader: reader)
        return Set(reader.keysRead)
    }

    /// The MX sandbox's settings from `SANDBOX_MX_CLIENT_ID`, `SANDBOX_MX_API_KEY`,
    /// `SANDBOX_CONNECT_SECONDS`, `SANDBOX_PUBLIC_URL`, `SANDBOX_FAULTS`, the `SANDBOX_WEBHOOK_…`
    /// keys and `MX_API_VERSION` (the version whose webhooks the sandbox sends).
    public static func sandboxConfiguration(environment: [String: String]) throws(ConfigurationError) -> SandboxConfiguration {
        try sandboxConfiguration(EnvironmentReader(environment))
    }

    static func sandboxConfiguration(_ reader: EnvironmentReader) throws(ConfigurationError) -> SandboxConfiguration {
        SandboxConfiguration(
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
                do throws(SandboxFaultError) {
                    return try SandboxFaultRule.list(fromJSON: Data(json.utf8))
                } catch {
                    throw ConfigurationError("SANDBOX_FAULTS: \(error.description)")
                }
            } ?? []
        )
    }
}

/// Where and how the broker serves HTTP: `HOST`, `PORT`, `IDLE_TIMEOUT_SECONDS`,
/// `MAX_HEADER_BYTES`, `MAX_BODY_BYTES`, `MAX_CONNECTIONS`, `CORS_ALLOWED_ORIGINS`.
public struct HTTPSettings: Sendable {
    public var host: String
    public var port: Int
    /// A connection that sends nothing for this long is closed.
    public var idleTimeout: Duration
    /// Larger request headers are refused (431).
    public var maxHeaderBytes: Int
    /// Larger request bodies are refused (413).
    public var maxBodyBytes: Int
    /// Connections served at once before the rest are refused (health checks excepted); `nil`
    /// for the open-file limit less half its reserve (see ``ConnectionBudget``).
    public var maxConnections: Int?
    /// Origins allowed to call from browsers.
    public var corsAllowedOrigins: [String]

    init(_ reader: EnvironmentReader) throws(ConfigurationError) {
        host = reader.string("HOST") ?? "127.0.0.1"
        port = try reader.integer("PORT", default: 8080, range: 0...65535)
        idleTimeout = try reader.duration("IDLE_TIMEOUT_SECONDS", default: 30, range: 0.1...3600)
        maxHeaderBytes = try reader.integer("MAX_HEADER_BYTES", default: 16_384, range: 1024...(1 << 20))
        maxBodyBytes = try reader.integer("MAX_BODY_BYTES", default: 65_536, range: 1024...(16 << 20))
        maxConnections = try reader.optionalInteger("MAX_CONNECTIONS", range: 1...1_000_000)
        corsAllowedOrigins = reader.list("CORS_ALLOWED_ORIGINS")
    }
}

/// Where state is kept and for how long: `DATA_DIR`, `DATABASE_URL` / `_FILE`,
/// `DATABASE_POOL_SIZE`, `MIGRATE_ON_START`, `WIDGET_EVENT_RETENTION_DAYS`, `EVENT_RETENTION_HOURS`,
/// `AUDIT_RETENTION_DAYS`.
public struct StoreSettings: Sendable {
    /// The SQLite file, the sandbox's state and generated development secrets.
    public var dataDirectory: String
    /// A PostgreSQL URL; `nil` keeps the embedded SQLite store.
    public var databaseURL: Secret?
    /// PostgreSQL connections each replica may open.
    public var poolSize: Int
    /// Apply pending migrations at start; otherwise `/readyz` fails until `connect-broker migrate` has run.
    public var migrateOnStart: Bool
    public var retention: Retention

    /// How long relayed widget events, stream events and audit entries are kept.
    public struct Retention: Sendable {
        public var widgetEvents: Duration
        public var events: Duration
        public var audit: Duration
    }

    init(_ reader: EnvironmentReader) throws(ConfigurationError) {
        dataDirectory = reader.string("DATA_DIR") ?? "./data"
        databaseURL = try reader.secret("DATABASE_URL")
        if let databaseURL, !(databaseURL.value.hasPrefix("postgres://") || databaseURL.value.hasPrefix("postgresql://")) {
            throw ConfigurationError("DATABASE_URL must be a postgres:// URL.")
        }
        poolSize = try reader.integer("DATABASE_POOL_SIZE", default: 10, range: 2...500)
        migrateOnStart = try reader.boolean("MIGRATE_ON_START", default: true)
        retention = Retention(
            widgetEvents: try reader.duration("WIDGET_EVENT_RETENTION_DAYS", default: 30, range: 0...3650, unit: 86_400),
            events: try reader.duration("EVENT_RETENTION_HOURS", default: 72, range: 1...87_600, unit: 3600),
            audit: try reader.duration("AUDIT_RETENTION_DAYS", default: 400, range: 1...3650, unit: 86_400)
        )
    }

    /// The SQLite database file.
    public var databasePath: String { (dataDirectory as NSString).appendingPathComponent("broker.sqlite") }
}

/// How the broker reaches MX.
public enum MXTarget: Sendable {
    /// The sandbox served by the broker itself at `/sandbox/mx`.
    case embeddedSandbox(SandboxConfiguration)
    /// A real MX environment, or a standalone sandbox, at a URL.
    case remote(baseURL: String, clientID: String, apiKey: Secret)
}

/// Calls to MX: `MX_CLIENT_ID`, `MX_API_KEY` / `_FILE`, `MX_ENVIRONMENT`, `MX_BASE_URL`,
/// `MX_API_VERSION`, `MX_TIMEOUT_SECONDS`, the resilience keys (see ``MXResilience``) and
/// `MX_HTTPS_PROXY`; the sandbox's keys when none of the first three is set.
public struct MXSettings: Sendable {
    public var target: MXTarget
    public var apiVersion: MXAPIVersion
    /// Deadline of one MX call (each attempt).
    public var timeout: Duration
    public var resilience: MXResilience
    /// The egress proxy every MX call goes through, if any.
    public var httpsProxy: EgressProxy?

    init(_ reader: EnvironmentReader) throws(ConfigurationError) {
        apiVersion = try reader.choice("MX_API_VERSION", default: .v20250224)
        timeout = try reader.duration("MX_TIMEOUT_SECONDS", default: 15, range: 0.1...300)
        resilience = MXResilience(
            maxConcurrentRequests: try reader.integer("MX_MAX_CONCURRENT_REQUESTS", default: 64, range: 1...2000),
            retryAttempts: try reader.integer("MX_RETRY_ATTEMPTS", default: 3, range: 1...10),
            retryBaseDelay: .milliseconds(try reader.integer("MX_RETRY_BASE_MILLISECONDS", default: 200, range: 1...60_000)),
            retryMaxWait: try reader.duration("MX_RETRY_MAX_WAIT_SECONDS", default: 5, range: 0...300),
            breakerFailureThreshold: try reader.integer("MX_BREAKER_FAILURES", default: 10, range: 1...10_000),
            breakerOpenDuration: try reader.duration("MX_BREAKER_OPEN_SECONDS", default: 15, range: 0.1...3600)
        )
        httpsProxy = try reader.secret("MX_HTTPS_PROXY").map { url throws(ConfigurationError) in
            guard let proxy = EgressProxy(url: url.value) else {
                throw ConfigurationError("MX_HTTPS_PROXY must look like http://host:port or http://user:password@host:port.")
            }
            return proxy
        }
        let clientID = reader.string("MX_CLIENT_ID")
        let apiKey = try reader.secret("MX_API_KEY")
        let baseURL = reader.string("MX_BASE_URL")
        if clientID != nil || apiKey != nil || baseURL != nil {
            guard let clientID, let apiKey else {
                throw ConfigurationError("MX_CLIENT_ID and MX_API_KEY (or MX_API_KEY_FILE) are both required to call MX.")
            }
            let environment: MXEnvironment = try reader.choice("MX_ENVIRONMENT", default: .integration)
            target = .remote(baseURL: baseURL ?? environment.baseURL, clientID: clientID, apiKey: apiKey)
        } else {
            target = .embeddedSandbox(try BrokerConfiguration.sandboxConfiguration(reader))
        }
    }
}

/// How callers' tokens are verified: one key source (`JWT_HS256_SECRET` / `_FILE`,
/// `JWT_PUBLIC_KEY_FILE`, `JWT_JWKS_FILE`), `JWT_ISSUER`, `JWT_AUDIENCE`, `JWT_LEEWAY_SECONDS`,
/// `JWT_MAX_LIFETIME_SECONDS`, and the profile claims (`MX_USER_PROFILE` and its claim names).
public struct TokenSettings: Sendable {
    /// `nil` means: generate a development secret under the data directory (sandbox only).
    public var keySource: TokenKeySource?
    /// Checked against `iss` when set.
    public var issuer: String?
    /// Checked against `aud` when set.
    public var audience: String?
    /// Clock skew allowed on `exp` and `nbf`.
    public var leeway: Duration
    /// The longest lifetime a caller's token may have, from `iat` (or from now) to `exp`.
    public var maxLifetime: Duration
    /// The claims users' MX profiles are read from; `nil` when `MX_USER_PROFILE` is off.
    public var profileClaims: ProfileClaimNames?

    init(_ reader: EnvironmentReader, remoteMX: Bool) throws(ConfigurationError) {
        let keySources: [TokenKeySource] = [
            try reader.secret("JWT_HS256_SECRET").map { .hs256(secret: $0.value) },
            try reader.fileContents("JWT_PUBLIC_KEY_FILE").map { .publicKeyPEM($0) },
            try reader.fileContents("JWT_JWKS_FILE").map { .jwks(json: $0) },
        ].compactMap { $0 }
        guard keySources.count <= 1 else {
            throw ConfigurationError("Set only one of JWT_HS256_SECRET, JWT_PUBLIC_KEY_FILE and JWT_JWKS_FILE.")
        }
        keySource = keySources.first
        if case .hs256(let secret) = keySource, secret.utf8.count < 32 {
            throw ConfigurationError("JWT_HS256_SECRET must be at least 32 bytes long.")
        }
        if keySource == nil, remoteMX {
            throw ConfigurationError("Set JWT_HS256_SECRET, JWT_PUBLIC_KEY_FILE or JWT_JWKS_FILE to verify callers' tokens.")
        }
        issuer = reader.string("JWT_ISSUER")
        audience = reader.string("JWT_AUDIENCE")
        leeway = try reader.duration("JWT_LEEWAY_SECONDS", default: 60, range: 0...600)
        maxLifetime = try reader.duration("JWT_MAX_LIFETIME_SECONDS", default: 86_400, range: 60...31_536_000)
        let names = ProfileClaimNames(
            email: reader.string("MX_USER_EMAIL_CLAIM") ?? "email",
            firstName: reader.string("MX_USER_FIRST_NAME_CLAIM") ?? "given_name",
            lastName: reader.string("MX_USER_LAST_NAME_CLAIM") ?? "family_name"
        )
        profileClaims = try reader.boolean("MX_USER_PROFILE", default: false) ? names : nil
    }
}

/// Connecting members, through the widget or without it: `MX_PRODUCTS`,
/// `ALLOWED_REDIRECT_URL_PREFIXES`, `MEMBER_REFRESH_SECONDS`, `MEMBER_POLL_SECONDS`.
public struct ConnectSettings: Sendable {
    /// The MX products front ends may ask for, in widget URLs and jobs: premium ones cost money
    /// per call, so they are the operator's choice. Every product with the embedded sandbox,
    /// otherwise `transactions` unless `MX_PRODUCTS` lists more.
    public var products: Set<MXProduct>
    /// Where MX may send users back to after an OAuth bank's sign-in.
    public var allowedRedirects: RedirectAllowList
    /// How old the stored view of members may get before a read goes to MX again.
    public var memberRefreshInterval: Duration
    /// How soon a connecting member, or one waiting for the user, may be read from MX again.
    public var memberPollInterval: Duration

    init(_ reader: EnvironmentReader, sandbox target: MXTarget) throws(ConfigurationError) {
        let listed = reader.list("MX_PRODUCTS")
        if listed.isEmpty {
            if case .embeddedSandbox = target { products = Set(MXProduct.allCases) } else { products = [.transactions] }
        } else {
            products = []
            for name in listed {
                guard let product = MXProduct(rawValue: name.lowercased()) else {
                    throw ConfigurationError("MX_PRODUCTS must list MX products from: \(MXProduct.allCases.map(\.rawValue).joined(separator: ", ")).")
                }
                products.insert(product)
            }
        }
        allowedRedirects = try RedirectAllowList(prefixes: reader.list("ALLOWED_REDIRECT_URL_PREFIXES"))
        memberRefreshInterval = try reader.duration("MEMBER_REFRESH_SECONDS", default: 60, range: 0...86_400)
        memberPollInterval = try reader.duration("MEMBER_POLL_SECONDS", default: 3, range: 0...3600)
    }
}

/// Account numbers and owners: `FRONT_END_ACCOUNT_NUMBERS`.
public struct AccountDetailsSettings: Sendable {
    /// How much of an account number a front end sees; the app's backend always sees it whole.
    public var frontEndExposure: AccountNumberExposure

    init(_ reader: EnvironmentReader) throws(ConfigurationError) {
        frontEndExposure = try reader.choice("FRONT_END_ACCOUNT_NUMBERS", default: .masked)
    }
}

/// The app's own backend: `BACKEND_API_KEYS_FILE`.
public struct BackendSettings: Sendable {
    /// The keys of the backend API; `nil` leaves `/v1/backend/…` unserved.
    public var keys: BackendKeys?

    init(_ reader: EnvironmentReader) throws(ConfigurationError) {
        keys = try reader.fileContents("BACKEND_API_KEYS_FILE").map { text throws(ConfigurationError) in try BackendKeys(fileText: text) }
    }
}

/// The cache of MX reads: `READ_CACHE_SECONDS`, `READ_CACHE_MAX_BYTES`; 0 turns it off.
public struct ReadCacheSettings: Sendable {
    /// How long an MX read is kept per user (dropped at once when the user's data changes).
    public var ttl: Duration
    /// The memory the cache may take.
    public var maxBytes: Int

    init(_ reader: EnvironmentReader) throws(ConfigurationError) {
        ttl = try reader.duration("READ_CACHE_SECONDS", default: 30, range: 0...86_400)
        maxBytes = try reader.integer("READ_CACHE_MAX_BYTES", default: 64 << 20, range: 0...(64 << 30))
    }
}

extension RateLimits {
    /// `RATE_LIMIT_WIDGET_URLS_PER_MINUTE`, `RATE_LIMIT_READS_PER_MINUTE`,
    /// `RATE_LIMIT_RELAYS_PER_MINUTE`, `RATE_LIMIT_CONNECTION_ATTEMPTS_PER_MINUTE`.
    init(_ reader: EnvironmentReader) throws(ConfigurationError) {
        self.init(
            widgetURLsPerMinute: try reader.integer("RATE_LIMIT_WIDGET_URLS_PER_MINUTE", default: 10, range: 0...1_000_000),
            readsPerMinute: try reader.integer("RATE_LIMIT_READS_PER_MINUTE", default: 300, range: 0...1_000_000),
            relaysPerMinute: try reader.integer("RATE_LIMIT_RELAYS_PER_MINUTE", default: 120, range: 0...1_000_000),
            connectionAttemptsPerMinute: try reader.integer("RATE_LIMIT_CONNECTION_ATTEMPTS_PER_MINUTE", default: 10, range: 0...1_000_000)
        )
    }
}

/// Event streams: `SSE_HEARTBEAT_SECONDS`, `EVENTS_TOKEN_SECONDS`, `MAX_STREAMS_PER_USER`, `MAX_STREAMS`.
public struct EventSettings: Sendable {
    /// Interval of the stream's heartbeat comment.
    public var heartbeat: Duration
    /// Lifetime of an events token.
    public var tokenLifetime: Duration
    /// Streams one user may hold open; 0 for no limit.
    public var maxStreamsPerUser: Int
    /// Streams the broker holds open at most (by default the open-file limit less a reserve,
    /// see ``OpenFiles``), so ordinary requests and health checks always find a descriptor.
    public var maxStreams: Int

    init(_ reader: EnvironmentReader) throws(ConfigurationError) {
        heartbeat = try reader.duration("SSE_HEARTBEAT_SECONDS", default: 15, range: 0.05...3600)
        tokenLifetime = try reader.duration("EVENTS_TOKEN_SECONDS", default: 120, range: 1...86_400)
        maxStreamsPerUser = try reader.integer("MAX_STREAMS_PER_USER", default: 5, range: 0...10_000)
        let budget = OpenFiles.streamBudget
        maxStreams = try reader.integer("MAX_STREAMS", default: budget, range: 1...max(1, budget))
    }

    /// The event hub's limits.
    var hubLimits: EventHub.Limits {
        EventHub.Limits(perUser: maxStreamsPerUser > 0 ? maxStreamsPerUser : nil, total: maxStreams)
    }
}

/// MX's webhooks: `MX_WEBHOOK_USERNAME`, `MX_WEBHOOK_PASSWORD` / `_FILE` (the sandbox's with the
/// embedded sandbox), `MX_WEBHOOK_ALLOWED_CIDRS`, `TRUSTED_PROXY_CIDRS`, and the inbox's
/// `WEBHOOK_MAX_ATTEMPTS`, `WEBHOOK_RETRY_BASE_SECONDS`, `WEBHOOK_RETRY_MAX_SECONDS`,
/// `WEBHOOK_LEASE_SECONDS`, `WEBHOOK_CONCURRENCY`.
public struct WebhookSettings: Sendable {
    /// The Basic credentials MX sends; `nil`: refuse every delivery.
    var credentials: WebhookCredentials?
    /// The source ranges allowed to deliver, and the proxies whose `X-Forwarded-For` is believed.
    var sources: WebhookSourcePolicy
    /// How the inbox is worked through.
    var processing: WebhookProcessing

    /// Whether deliveries can be accepted at all.
    public var hasCredentials: Bool { credentials != nil }

    init(_ reader: EnvironmentReader, sandbox target: MXTarget) throws(ConfigurationError) {
        var username = reader.string("MX_WEBHOOK_USERNAME")
        var password = try reader.secret("MX_WEBHOOK_PASSWORD")
        guard (username == nil) == (password == nil) else {
            throw ConfigurationError("Set both MX_WEBHOOK_USERNAME and MX_WEBHOOK_PASSWORD (or MX_WEBHOOK_PASSWORD_FILE), or neither.")
        }
        if username == nil, case .embeddedSandbox(let sandbox) = target {
            username = sandbox.webhookUsername
            password = Secret(sandbox.webhookPassword)
        }
        credentials = username.flatMap { name in password.map { WebhookCredentials(username: name, password: $0) } }
        func ranges(_ key: String) throws(ConfigurationError) -> [CIDRRange] {
            var ranges: [CIDRRange] = []
            for text in reader.list(key) {
                guard let range = CIDRRange(text) else {
                    throw ConfigurationError("\(key) has an entry that is not an address range like 203.0.113.0/24: \(text)")
                }
                ranges.append(range)
            }
            return ranges
        }
        sources = WebhookSourcePolicy(allowed: try ranges("MX_WEBHOOK_ALLOWED_CIDRS"), trustedProxies: try ranges("TRUSTED_PROXY_CIDRS"))
        processing = WebhookProcessing(
            maxAttempts: try reader.integer("WEBHOOK_MAX_ATTEMPTS", default: 8, range: 1...100),
            retryBase: try reader.duration("WEBHOOK_RETRY_BASE_SECONDS", default: 5, range: 0.001...86_400),
            retryMax: try reader.duration("WEBHOOK_RETRY_MAX_SECONDS", default: 3600, range: 0.001...604_800),
            lease: try reader.duration("WEBHOOK_LEASE_SECONDS", default: 120, range: 0.1...86_400),
            concurrency: try reader.integer("WEBHOOK_CONCURRENCY", default: 4, range: 1...256)
        )
    }
}

/// What operators reach: `ADMIN_TOKEN` / `_FILE` (enables the admin API), `METRICS_TOKEN` /
/// `_FILE` (`/metrics` asks for it), `METRICS_PORT` (`/metrics` on a port of its own).
public struct OperatorSettings: Sendable {
    public var adminToken: Secret?
    /// The bearer token `/metrics` asks for; `nil` serves it to anyone who reaches it.
    public var metricsToken: Secret?
    /// A port of its own for `/metrics` (then not served with the API; 0 picks a free one).
    public var metricsPort: Int?

    init(_ reader: EnvironmentReader) throws(ConfigurationError) {
        adminToken = try reader.secret("ADMIN_TOKEN", minimumLength: 16)
        metricsToken = try reader.secret("METRICS_TOKEN", minimumLength: 16)
        metricsPort = try reader.optionalInteger("METRICS_PORT", range: 0...65535)
    }
}

/// The demo front end, served at `/` in development mode (embedded sandbox, no token key):
/// `DEMO_DIR`.
public struct DemoSettings: Sendable {
    public var directory: String
}

/// `LOG_LEVEL` (default `info`) and `LOG_FORMAT` (`text` | `json`, one object per line).
public struct LogSettings: Sendable {
    public var level: Logger.Level
    public var asJSON: Bool

    init(_ reader: EnvironmentReader) throws(ConfigurationError) {
        level = try reader.choice("LOG_LEVEL", default: .info)
        switch reader.string("LOG_FORMAT")?.lowercased() ?? "text" {
        case "text": asJSON = false
        case "json": asJSON = true
        default: throw ConfigurationError("LOG_FORMAT must be text or json.")
        }
    }
}

/// A configuration value that is missing or wrong; the message names the key, never a secret.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) { self.description = description }
}
