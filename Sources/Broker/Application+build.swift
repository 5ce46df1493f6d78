import AsyncHTTPClient
import BrokerStore
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import MXSandbox
import NIOCore
import ServiceLifecycle

/// Builds the broker: its dependencies, its router and the services that run beside the server.
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
    let dependencies = try await BrokerDependencies(configuration: configuration, logger: logger)
    let routers = buildRouters(dependencies, configuration: configuration)
    registeredRoutes(routers.api.routes)
    let http = configuration.http
    let channel = HTTP1Channel.Configuration(
        additionalChannelHandlers: [ReceiveBufferSizing(), ShutdownNotice { Task { await dependencies.hub.close() } }, ParserErrorHandler()],
        idleTimeout: TimeAmount(http.idleTimeout),
        httpDecoderConfiguration: .init(maxHeaderFieldSize: http.maxHeaderBytes, maxHeaderListSize: http.maxHeaderBytes, maxHeaderFieldCount: 100)
    )
    let budget = http.maxConnections.map(ConnectionBudget.init(limit:)) ?? ConnectionBudget()
    let cacheHits = routers.cacheHits
    var app = Application(
        router: routers.api,
        server: HTTPServerBuilder { responder in
            BrokerHTTP1Channel(base: HTTP1Channel(responder: responder, configuration: channel), cacheHits: cacheHits, budget: budget)
        },
        configuration: .init(address: .hostname(http.host, port: http.port), serverName: nil),
        onServerRunning: { channel in await dependencies.serverIsRunning(at: ListeningAddress(channel.localAddress)) },
        logger: logger
    )
    app.addServices(makeServices(dependencies, configuration: configuration, metricsRouter: routers.metrics))
    if configuration.store.migrateOnStart {
        app.beforeServerStarts { try await dependencies.store.migrate() }
    }
    return app
}

/// The API router, the router of `/metrics` when it has a port of its own, and the early
/// answer for cached reads (when the read cache is on).
struct BrokerRouters {
    let api: Router<BrokerRequestContext>
    let metrics: Router<BrokerRequestContext>?
    let cacheHits: CacheHitResponder?
}

/// Every route, each controller given the dependencies it uses.
func buildRouters(_ dependencies: BrokerDependencies, configuration: BrokerConfiguration) -> BrokerRouters {
    let deps = dependencies
    let maxBodyBytes = configuration.http.maxBodyBytes
    let router = Router(context: BrokerRequestContext.self)
    router.add(middleware: EdgeMiddleware(edge: deps.edge))
    HealthController(store: deps.store).addRoutes(to: router)
    let metricsRouter = configuration.operators.metricsPort == nil ? router : Router(context: BrokerRequestContext.self)
    if metricsRouter !== router { metricsRouter.add(middleware: EdgeMiddleware(edge: deps.edge)) }
    MetricsController(inbox: deps.store, metrics: deps.metrics, hub: deps.hub, token: configuration.operators.metricsToken)
        .addRoutes(to: metricsRouter)
    deps.sandbox?.addRoutes(to: router, mountPath: "/sandbox/mx")
    if let signer = deps.developmentTokens {
        SandboxTokenController(signer: signer, maxBodyBytes: maxBodyBytes).addRoutes(to: router.group("v1/sandbox"))
        addDemoSite(to: router, configuration: configuration, logger: deps.logger)
    }
    let apiPath = "v1"
    let checkingOwnCredentials = router.group(RouterPath(apiPath))
    let user = UserRoutes(router.group(RouterPath(apiPath)), authentication: deps.authentication, limiter: deps.limiter)
    let connect = configuration.connect
    WidgetURLController(
        provisioner: deps.provisioner,
        mx: deps.mx,
        allowedRedirects: connect.allowedRedirects,
        products: connect.enabledProducts,
        maxBodyBytes: maxBodyBytes
    )
    .addRoutes(to: user)
    let reads = ReadController(provisioner: deps.provisioner, mx: deps.mx, cache: deps.readCache, products: connect.enabledProducts)
    reads.addRoutes(to: user)
    let statements = StatementPDFController(provisioner: deps.provisioner, mx: deps.mx, products: connect.enabledProducts)
    statements.addRoutes(to: user)
    let members = MembersController(
        provisioner: deps.provisioner,
        store: deps.store,
        sync: deps.sync,
        mx: deps.mx,
        changes: deps.changes,
        settings: connect
    )
    members.addRoutes(to: user)
    let audit = AuditTrail(log: deps.store, hasher: deps.subjectHasher, metrics: deps.metrics)
    let accountDetails = AccountDetailsController(
        provisioner: deps.provisioner,
        mx: deps.mx,
        audit: audit,
        products: connect.enabledProducts,
        frontEndExposure: configuration.accountDetails.frontEndExposure
    )
    accountDetails.addRoutes(to: user)
    let microdeposits = MicrodepositsController(
        provisioner: deps.provisioner,
        mx: deps.mx,
        audit: audit,
        products: connect.enabledProducts,
        frontEndExposure: configuration.accountDetails.frontEndExposure,
        maxBodyBytes: maxBodyBytes
    )
    microdeposits.addRoutes(to: user)
    if let keys = configuration.backend.keys {
        let backend = UserRoutes(
            router.group(RouterPath(apiPath + "/backend/users/:user_id")),
            authentication: BackendKeyAuthentication(keys: keys, hasher: deps.subjectHasher),
            limiter: deps.limiter
        )
        reads.addRoutes(to: backend)
        statements.addRoutes(to: backend)
        members.addBackendRoutes(to: backend)
        accountDetails.addRoutes(to: backend)
        microdeposits.addRoutes(to: backend)
    }
    WidgetEventsController(provisioner: deps.provisioner, store: deps.store, sync: deps.sync, maxBodyBytes: maxBodyBytes).addRoutes(to: user)
    ConnectController(provisioner: deps.provisioner, sync: deps.sync, mx: deps.mx, settings: connect, maxBodyBytes: maxBodyBytes)
        .addRoutes(to: user)
    EventStreamController(
        provisioner: deps.provisioner,
        store: deps.store,
        hub: deps.hub,
        verifier: deps.verifier,
        eventsTokens: deps.eventsTokens,
        limiter: deps.limiter,
        logger: deps.logger
    )
    .addRoutes(checkingOwnCredentials: checkingOwnCredentials, user: user)
    WebhookReceiver(inbox: deps.store, settings: configuration.webhooks, maxBodyBytes: maxBodyBytes, wakeUp: deps.webhookWakeUp)
        .addRoutes(to: checkingOwnCredentials)
    if let adminToken = configuration.operators.adminToken {
        AdminWebhooksController(inbox: deps.store, adminToken: adminToken, wakeUp: deps.webhookWakeUp).addRoutes(to: router.group("v1/admin"))
        AdminAuditController(log: deps.store, hasher: deps.subjectHasher, adminToken: adminToken).addRoutes(to: router.group("v1/admin"))
    }
    let cacheHits =
        deps.readCache.isEnabled
        ? CacheHitResponder(
            mountPath: apiPath,
            edge: deps.edge,
            steps: user.steps(spending: ReadController.budget),
            reads: reads,
            logger: deps.logger
        ) : nil
    return BrokerRouters(api: router, metrics: metricsRouter === router ? nil : metricsRouter, cacheHits: cacheHits)
}

/// The services that run beside the server: the store's pool, `/metrics` on its own port, the
/// MX HTTP client's shutdown, the event hub, replica events, the webhook inbox and retention.
func makeServices(
    _ dependencies: BrokerDependencies,
    configuration: BrokerConfiguration,
    metricsRouter: Router<BrokerRequestContext>?
) -> [any Service] {
    let deps = dependencies
    var services: [any Service] = deps.storeService.map { [$0] } ?? []
    if let metricsRouter, let port = configuration.operators.metricsPort {
        let logger = deps.logger
        services.append(
            Application(
                router: metricsRouter,
                configuration: .init(address: .hostname(configuration.http.host, port: port), serverName: nil),
                onServerRunning: { channel in
                    logger.notice("Metrics listening", metadata: ["server.url": "http://\(ListeningAddress(channel.localAddress).hostPort)/metrics"])
                },
                logger: logger
            )
        )
    }
    services += [
        HTTPClientService(client: deps.httpClient),
        EventHubService(hub: deps.hub),
        ReplicaEventsService(store: deps.store, changes: deps.changes),
        WebhookProcessor(
            store: deps.store,
            handler: WebhookHandler(store: deps.store, events: deps.store, sync: deps.sync),
            settings: configuration.webhooks.processing,
            wakeUp: deps.webhookWakeUp,
            logger: deps.logger
        ),
        RetentionService(store: deps.store, retention: configuration.store.retention, logger: deps.logger),
    ]
    return services
}

/// Serves the demo front end from `DEMO_DIR` at `/`, or says why it is not served.
private func addDemoSite(to router: Router<BrokerRequestContext>, configuration: BrokerConfiguration, logger: Logger) {
    var widgetOrigins: [String] = []
    if case .embeddedSandbox(let sandbox) = configuration.mx.target, let url = sandbox.publicBaseURL, let origin = DemoSite.origin(of: url) {
        widgetOrigins.append(origin)
    }
    do {
        try DemoSite(directory: configuration.demo.directory, widgetOrigins: widgetOrigins).addRoutes(to: router)
    } catch {
        logger.notice("No demo page at /: \(configuration.demo.directory) has no readable index.html")
    }
}
