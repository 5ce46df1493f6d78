import AsyncHTTPClient
import BrokerCore
import BrokerStore
import Foundation
import Logging
import MXPlatform
import MXSandbox
import NIOCore
import ServiceLifecycle

/// What the broker's routes and services are made of, made once from the configuration.
struct BrokerDependencies: Sendable {
    let logger: Logger
    let store: any Store
    /// The store's connection pool, when it needs running (PostgreSQL).
    let storeService: (any Service)?
    let httpClient: HTTPClient
    let metrics: BrokerMetrics
    let edge: Edge
    /// The MX base URL, bound when the server knows its port if the sandbox is embedded.
    let mxBaseURL: MXBaseURL
    let mx: MXClient
    let sandbox: MXSandbox?
    let verifier: TokenVerifier
    /// Hashes app user ids for logs and the audit log.
    let subjectHasher: SubjectHasher
    let authentication: AuthenticationMiddleware
    let limiter: RateLimiter
    /// Signs development tokens, when no token key is configured (sandbox only).
    let developmentTokens: DevTokenSigner?
    let hub: EventHub
    let readCache: ReadCache
    let changes: UserChanges
    let provisioner: UserProvisioner
    let sync: MemberSync
    let eventsTokens: EventsTokenIssuer
    let webhookWakeUp: WebhookWakeUp

    init(configuration: BrokerConfiguration, logger: Logger) async throws {
        self.logger = logger
        let dataDirectory = configuration.store.dataDirectory
        try DataDirectory.prepare(dataDirectory)
        (store, storeService) = try makeStore(configuration.store, logger: logger)
        httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: makeHTTPClientConfiguration(configuration.mx))
        metrics = BrokerMetrics()
        edge = Edge(cors: CORSPolicy(allowedOrigins: configuration.http.corsAllowedOrigins), metrics: metrics)
        let mxClientID: String
        let mxAPIKey: Secret
        switch configuration.mx.target {
        case .embeddedSandbox(var sandboxConfiguration):
            sandboxConfiguration.stateFile = (dataDirectory as NSString).appendingPathComponent("sandbox-state.json")
            sandbox = MXSandbox(configuration: sandboxConfiguration, logger: logger)
            mxBaseURL = .late()
            (mxClientID, mxAPIKey) = (sandboxConfiguration.clientID, Secret(sandboxConfiguration.apiKey))
        case .remote(let baseURL, let clientID, let apiKey):
            sandbox = nil
            mxBaseURL = MXBaseURL(baseURL)
            (mxClientID, mxAPIKey) = (clientID, apiKey)
        }
        mx = MXClient(
            configuration: configuration.mx.clientConfiguration(baseURL: mxBaseURL, clientID: mxClientID, apiKey: mxAPIKey),
            httpClient: httpClient,
            logger: logger,
            metrics: metrics.factory
        )

        let developmentSecret =
            try configuration.tokens.keySource == nil ? LocalSecret.loadOrCreate(LocalSecret.developmentTokenSecretFile, in: dataDirectory) : nil
        verifier = try await TokenVerifier(configuration.tokens, keySource: configuration.tokens.keySource ?? .hs256(secret: developmentSecret!))
        developmentTokens = if let developmentSecret { await DevTokenSigner(secret: developmentSecret) } else { nil }
        if configuration.userIDSecret == nil, !configuration.usesEmbeddedSandbox {
            logger.warning("USER_ID_SECRET is not set: using a key generated under DATA_DIR; replicas must share one key")
        }
        let userIDSecret = try configuration.userIDSecret ?? Secret(LocalSecret.loadOrCreate(LocalSecret.userIDSecretFile, in: dataDirectory))
        subjectHasher = SubjectHasher(secret: userIDSecret)
        authentication = AuthenticationMiddleware(verifier: verifier, hasher: subjectHasher)
        limiter = RateLimiter(limits: configuration.limits)
        hub = EventHub(configuration.events)
        readCache = ReadCache(configuration.readCache)
        changes = UserChanges(hub: hub, cache: readCache)
        provisioner = UserProvisioner(store: store, mx: mx, idSecret: userIDSecret, changes: changes, logger: logger)
        sync = MemberSync(store: store, mx: mx, changes: changes)
        eventsTokens = await EventsTokenIssuer(secret: userIDSecret, lifetime: configuration.events.tokenLifetime)
        webhookWakeUp = WebhookWakeUp()
        if !configuration.webhooks.hasCredentials {
            logger.warning("MX_WEBHOOK_USERNAME and MX_WEBHOOK_PASSWORD are not set: every webhook delivery will be refused")
        }
    }

    /// Points the embedded sandbox, if any, at the address the server listens on, and says where that is.
    func serverIsRunning(at address: ListeningAddress) async {
        guard let sandbox else {
            logger.notice(
                "ConnectBroker listening",
                metadata: ["server.url": "http://\(address.hostPort)", "mx.base_url": "\(mxBaseURL.value ?? "")"]
            )
            return
        }
        mxBaseURL.bind("http://\(address.reachableHostPort)/sandbox/mx")
        await sandbox.setWebhookTarget("http://\(address.reachableHostPort)/v1/webhooks/mx")
        logger.notice(
            "ConnectBroker listening; the embedded MX sandbox stands in for MX",
            metadata: ["server.url": "http://\(address.hostPort)", "mx.base_url": "http://\(address.reachableHostPort)/sandbox/mx"]
        )
    }
}

extension MXSettings {
    /// The MX client's configuration for MX at `baseURL` with these credentials.
    func clientConfiguration(baseURL: MXBaseURL, clientID: String, apiKey: Secret, resilience: MXResilience? = nil) -> MXClientConfiguration {
        MXClientConfiguration(
            baseURL: baseURL,
            clientID: clientID,
            apiKey: apiKey,
            apiVersion: apiVersion,
            timeout: timeout,
            resilience: resilience ?? self.resilience
        )
    }
}

/// The MX HTTP client's settings: connect timeout, pool size and the egress proxy, if configured.
func makeHTTPClientConfiguration(_ settings: MXSettings) -> HTTPClient.Configuration {
    var client = HTTPClient.Configuration(timeout: .init(connect: .seconds(5)))
    client.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = settings.resilience.maxConcurrentRequests
    if let proxy = settings.httpsProxy {
        client.proxy = .server(
            host: proxy.host,
            port: proxy.port,
            authorization: proxy.credentials.map { .basic(username: $0.username, password: $0.password.value) }
        )
    }
    return client
}

/// The configured store, and the service it needs running (PostgreSQL's connection pool).
public func makeStore(_ settings: StoreSettings, logger: Logger) throws -> (any Store, (any Service)?) {
    guard let url = settings.databaseURL else {
        return (try SQLiteStore(path: settings.databasePath), nil)
    }
    let store = try PostgresStore(url: url.value, poolSize: settings.poolSize, logger: logger)
    return (store, store.service)
}

/// The address a server is bound to, written for URLs.
struct ListeningAddress {
    let host: String
    let port: Int

    init(_ address: SocketAddress?) {
        host = address?.ipAddress ?? "127.0.0.1"
        port = address?.port ?? 0
    }

    private static func bracketed(_ host: String) -> String {
        host.contains(":") ? "[\(host)]" : host
    }

    var hostPort: String { "\(Self.bracketed(host)):\(port)" }

    /// Like ``hostPort``, with a wildcard bind address replaced by loopback so it can be called.
    var reachableHostPort: String {
        let callable = host == "0.0.0.0" ? "127.0.0.1" : host == "::" ? "::1" : host
        return "\(Self.bracketed(callable)):\(port)"
    }
}

/// Shuts the MX HTTP client down when the application stops.
struct HTTPClientService: Service, CustomStringConvertible {
    var description: String { "HTTPClientService" }

    let client: HTTPClient

    func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}
