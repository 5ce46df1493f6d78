import AsyncHTTPClient
import BrokerStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import MXPlatform
import MXSandbox
import NIOCore
import ServiceLifecycle

/// Builds the broker: store, MX client, embedded sandbox when configured, and every route.
///
/// Tests call this with a configuration on port 0, so what is tested is what runs.
public func buildApplication(configuration: BrokerConfiguration, logger: Logger) async throws -> some ApplicationProtocol {
    try await buildApplication(configuration: configuration, logger: logger, registeredRoutes: { _ in })
}

/// Builds the broker, telling `registeredRoutes` every route its router holds.
func buildApplication(
    configuration: BrokerConfiguration,
    logger: Logger,
    registeredRoutes: ([Router<BrokerRequestContext>.RouteDescription]) -> Void
) async throws -> some ApplicationProtocol {
    try DataDirectory.prepare(configuration.dataDirectory)
    let (store, storeService) = try makeStore(configuration: configuration, logger: logger)
    let httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: makeHTTPClientConfiguration(configuration))
    let metrics = BrokerMetrics()

    let mxBaseURL: MXBaseURL
    let mxClientID: String
    let mxAPIKey: Secret
    let sandbox: MXSandbox?
    switch configuration.mx {
    case .embeddedSandbox(var sandboxConfiguration):
        sandboxConfiguration.stateFile = (configuration.dataDirectory as NSString).appendingPathComponent("sandbox-state.json")
        sandbox = MXSandbox(configuration: sandboxConfiguration, logger: logger)
        mxBaseURL = .late()
        mxClientID = sandboxConfiguration.clientID
        mxAPIKey = Secret(sandboxConfiguration.apiKey)
    case .remote(let baseURL, let clientID, let apiKey):
        sandbox = nil
        mxBaseURL = MXBaseURL(baseURL)
        mxClientID = clientID
        mxAPIKey = apiKey
    }
    let mx = MXClient(
        configuration: MXClientConfiguration(
            baseURL: mxBaseURL,
            clientID: mxClientID,
            apiKey: mxAPIKey,
            apiVersion: configuration.mxAPIVersion,
            timeout: configuration.mxTimeout,
            resilience: configuration.mxResilience
        ),
        httpClient: httpClient,
        logger: logger,
        metrics: metrics.factory
    )

    let developmentSecret =
        try configuration.tokenKeySource == nil
        ? LocalSecret.loadOrCreate(LocalSecret.developmentTokenSecretFile, in: configuration.dataDirectory) : nil
    let verifier = try await TokenVerifier(
        keySource: configuration.tokenKeySource ?? .hs256(secret: developmentSecret!),
        issuer: configuration.tokenIssuer,
        audience: configuration.tokenAudience,
        leeway: configuration.tokenLeeway,
        maxLifetime: configuration.tokenMaxLifetime,
        profileClaims: configuration.userProfileClaims
    )
    let userIDSecret =
        try configuration.userIDSecret
        ?? Secret(LocalSecret.loadOrCreate(LocalSecret.userIDSecretFile, in: configuration.dataDirectory))
    if configuration.userIDSecret == nil, !configuration.usesEmbeddedSandbox {
        logger.warning("USER_ID_SECRET is not set: using a key generated under DATA_DIR; replicas must share one key")
    }
    let hub = EventHub(
        heartbeat: configuration.heartbeatInterval,
        limits: EventHub.Limits(
            perUser: configuration.maxStreamsPerUser > 0 ? configuration.maxStreamsPerUser : nil,
            total: configuration.maxStreams
        )
    )
    let readCache = ReadCache(ttl: configuration.readCacheTTL, maxBytes: configuration.readCacheMaxBytes)
    let changes = UserChanges(hub: hub, cache: readCache)
    let provisioner = UserProvisioner(store: store, mx: mx, idSecret: userIDSecret, changes: changes, logger: logger)
    let sync = MemberSync(store: store, mx: mx, changes: changes)
    let eventsTokens = await EventsTokenIssuer(secret: userIDSecret, lifetime: configuration.eventsTokenLifetime)
    let webhookWakeUp = WebhookWakeUp()
    let webhookCredentials: WebhookCredentials? =
        if let username = configuration.webhookUsername, let password = configuration.webhookPassword {
            WebhookCredentials(username: username, password: password)
        } else {
            nil
        }
    if webhookCredentials == nil {
        logger.warning("MX_WEBHOOK_USERNAME and MX_WEBHOOK_PASSWORD are not set: every webhook delivery will be refused")
    }

    let router = Router(context: BrokerRequestContext.self)
    let edge = Edge(cors: CORSPolicy(allowedOrigins: configuration.corsAllowedOrigins), metrics: metrics)
    router.add(middleware: EdgeMiddleware(edge: edge))
    router.get("healthz") { _, _ in
        JSONAnswer.response(["status": "ok"], caching: .never)
    }
    router.get("readyz") { _, _ in
        do {
            try await withDeadline(.seconds(2)) { try await store.checkReady() }
        } catch {
            throw BrokerError(.serviceUnavailable, .notReady, "The store is unreachable or its migrations have not run.")
        }
        return JSONAnswer.response(["status": "ready"], caching: .never)
    }
    let metricsRouter = configuration.metricsPort == nil ? router : Router(context: BrokerRequestContext.self)
    if metricsRouter !== router { metricsRouter.add(middleware: EdgeMiddleware(edge: edge)) }
    let metricsGroup = metricsRouter.group()
    if let token = configuration.metricsToken {
        metricsGroup.add(
            middleware: OperatorTokenMiddleware(token: token, purpose: "metrics", key: "METRICS_TOKEN", wrongTokenCode: .invalidMetricsToken)
        )
    }
    metricsGroup.get("metrics") { _, _ in
        let counts = try? await withDeadline(.seconds(2)) { try await store.webhookCounts() }
        let body = metrics.render(inboxCounts: counts, openStreams: await hub.openStreams)
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: .init(byteBuffer: body))
    }
    router.get("openapi.yaml") { _, _ in
        Response(
            status: .ok,
            headers: [.contentType: "application/yaml; charset=utf-8"],
            body: .init(byteBuffer: OpenAPIDocument.yaml)
        )
    }
    sandbox?.addRoutes(to: router, mountPath: "/sandbox/mx")
    if let developmentSecret {
        SandboxTokenController(signer: await DevTokenSigner(secret: developmentSecret), maxBodyBytes: configuration.maxBodyBytes)
            .addRoutes(to: router.group("v1/sandbox"))
        addDemoSite(to: router, configuration: configuration, logger: logger)
    }
    let apiPath = "v1"
    let checkingOwnCredentials = router.group(RouterPath(apiPath))
    let authentication = AuthenticationMiddleware(verifier: verifier, hasher: SubjectHasher(secret: userIDSecret))
    let limiter = RateLimiter(limits: configuration.rateLimits)
    let api = UserRoutes(router.group(RouterPath(apiPath)).add(middleware: authentication), limiter: limiter)
    WidgetURLController(
        provisioner: provisioner,
        mx: mx,
        allowedRedirects: configuration.allowedRedirects,
        maxBodyBytes: configuration.maxBodyBytes
    )
    .addRoutes(to: api)
    let reads = ReadController(provisioner: provisioner, mx: mx, cache: readCache)
    reads.addRoutes(to: api)
    let cacheHits =
        readCache.isEnabled
        ? CacheHitResponder(
            mountPath: apiPath,
            edge: edge,
            verifier: verifier,
            hasher: authentication.hasher,
            limiter: limiter,
            reads: reads,
            logger: logger
        ) : nil
    MembersController(
        provisioner: provisioner,
        store: store,
        sync: sync,
        refreshInterval: configuration.memberRefreshInterval,
        pollInterval: configuration.memberPollInterval
    )
    .addRoutes(to: api)
    WidgetEventsController(provisioner: provisioner, store: store, sync: sync, maxBodyBytes: configuration.maxBodyBytes)
        .addRoutes(to: api)
    ConnectController(
        provisioner: provisioner,
        sync: sync,
        allowedRedirects: configuration.allowedRedirects,
        pollInterval: configuration.memberPollInterval,
        maxBodyBytes: configuration.maxBodyBytes
    )
    .addRoutes(to: api)
    EventStreamController(
        provisioner: provisioner,
        store: store,
        hub: hub,
        verifier: verifier,
        eventsTokens: eventsTokens,
        limiter: limiter,
        logger: logger
    )
    .addRoutes(checkingOwnCredentials: checkingOwnCredentials, user: api)
    WebhookReceiver(
        store: store,
        credentials: webhookCredentials,
        sources: WebhookSourcePolicy(
            allowed: configuration.webhookAllowedSources.compactMap(CIDRRange.init),
            trustedProxies: configuration.trustedProxies.compactMap(CIDRRange.init)
        ),
        maxBodyBytes: configuration.maxBodyBytes,
        wakeUp: webhookWakeUp
    )
    .addRoutes(to: checkingOwnCredentials)
    if let adminToken = configuration.adminToken {
        AdminWebhooksController(store: store, adminToken: adminToken, wakeUp: webhookWakeUp).addRoutes(to: router.group("v1/admin"))
    }

    registeredRoutes(router.routes)
    let http1 = HTTP1Channel.Configuration(
        additionalChannelHandlers: [ReceiveBufferSizing(), ShutdownNotice { Task { await hub.close() } }, ParserErrorHandler()],
        idleTimeout: TimeAmount(configuration.idleTimeout),
        httpDecoderConfiguration: .init(
            maxHeaderFieldSize: configuration.maxHeaderBytes,
            maxHeaderListSize: configuration.maxHeaderBytes,
            maxHeaderFieldCount: 100
        )
    )
    let connections = configuration.maxConnections.map(ConnectionBudget.init(limit:)) ?? ConnectionBudget()
    var app = Application(
        router: router,
        server: HTTPServerBuilder { responder in
            BrokerHTTP1Channel(base: HTTP1Channel(responder: responder, configuration: http1), cacheHits: cacheHits, budget: connections)
        },
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
        onServerRunning: { channel in
            let address = ListeningAddress(channel.localAddress)
            if let sandbox {
                mxBaseURL.bind("http://\(address.reachableHostPort)/sandbox/mx")
                await sandbox.setWebhookTarget("http://\(address.reachableHostPort)/v1/webhooks/mx")
                logger.notice(
                    "ConnectBroker listening; the embedded MX sandbox stands in for MX",
                    metadata: ["server.url": "http://\(address.hostPort)", "mx.base_url": "http://\(address.reachableHostPort)/sandbox/mx"]
                )
            } else {
                logger.notice(
                    "ConnectBroker listening",
                    metadata: ["server.url": "http://\(address.hostPort)", "mx.base_url": "\(mxBaseURL.value ?? "")"]
                )
            }
        },
        logger: logger
    )
    app.addServices(storeService.map { [$0] } ?? [])
    if let metricsPort = configuration.metricsPort {
        app.addServices(
            Application(
                router: metricsRouter,
                configuration: .init(address: .hostname(configuration.host, port: metricsPort), serverName: nil),
                onServerRunning: { channel in
                    logger.notice("Metrics listening", metadata: ["server.url": "http://\(ListeningAddress(channel.localAddress).hostPort)/metrics"])
                },
                logger: logger
            )
        )
    }
    app.addServices(
        HTTPClientService(client: httpClient),
        EventHubService(hub: hub),
        ReplicaEventsService(store: store, changes: changes),
        WebhookProcessor(
            store: store,
            handler: WebhookHandler(store: store, sync: sync),
            settings: WebhookProcessing(
                maxAttempts: configuration.webhookMaxAttempts,
                retryBase: configuration.webhookRetryBase,
                retryMax: configuration.webhookRetryMax,
                lease: configuration.webhookLease,
                concurrency: configuration.webhookConcurrency
            ),
            wakeUp: webhookWakeUp,
            logger: logger
        ),
        RetentionService(
            store: store,
            widgetEventRetention: configuration.widgetEventRetention,
            eventRetention: configuration.eventRetention,
            logger: logger
        )
    )
    if configuration.migrateOnStart {
        app.beforeServerStarts {
            try await store.migrate()
        }
    }
    return app
}

/// The MX HTTP client's settings: connect timeout and the egress proxy, if configured.
func makeHTTPClientConfiguration(_ configuration: BrokerConfiguration) -> HTTPClient.Configuration {
    var client = HTTPClient.Configuration(timeout: .init(connect: .seconds(5)))
    client.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = configuration.mxResilience.maxConcurrentRequests
    if let proxy = configuration.mxHTTPSProxy {
        client.proxy = .server(
            host: proxy.host,
            port: proxy.port,
            authorization: proxy.credentials.map { .basic(username: $0.username, password: $0.password.value) }
        )
    }
    return client
}

/// The configured store, and the service it needs running (PostgreSQL's connection pool).
public func makeStore(configuration: BrokerConfiguration, logger: Logger) throws -> (any Store, (any Service)?) {
    guard let url = configuration.databaseURL else {
        return (try SQLiteStore(path: configuration.databasePath), nil)
    }
    let store = try PostgresStore(url: url.value, poolSize: configuration.databasePoolSize, logger: logger)
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

/// Serves the demo front end from `DEMO_DIR` at `/`, or says why it is not served.
private func addDemoSite(to router: Router<BrokerRequestContext>, configuration: BrokerConfiguration, logger: Logger) {
    var widgetOrigins: [String] = []
    if case .embeddedSandbox(let sandbox) = configuration.mx, let url = sandbox.publicBaseURL, let origin = DemoSite.origin(of: url) {
        widgetOrigins.append(origin)
    }
    do {
        try DemoSite(directory: configuration.demoDirectory, widgetOrigins: widgetOrigins).addRoutes(to: router)
    } catch {
        logger.notice("No demo page at /: \(configuration.demoDirectory) has no readable index.html")
    }
}
