import AsyncHTTPClient
import BrokerCore
import BrokerStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import MXPlatform
import Testing

@testable import Broker

@Suite("Event stream resources")
struct EventStreamResourceTests {
    @Test("a client that goes away frees its stream at the next heartbeat")
    func closedClientIsFreed() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("streams-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: directory.appendingPathComponent("broker.sqlite").path)
        try await store.migrate()
        _ = try await store.insertUser(StoredUser(subject: "alice", mxUserID: "cb_alice", mxUserGUID: "USR-alice", createdAt: Date()))
        let hub = EventHub(heartbeat: .milliseconds(50))
        let mx = MXClient(
            configuration: MXClientConfiguration(baseURL: MXBaseURL("http://127.0.0.1:9"), clientID: "c", apiKey: Secret("k")),
            httpClient: .shared,
            logger: Logger(label: "mx")
        )
        let limiter = RateLimiter(limits: RateLimits(widgetURLsPerMinute: 0, readsPerMinute: 0, relaysPerMinute: 0, connectionAttemptsPerMinute: 0))
        let controller = EventStreamController(
            provisioner: UserProvisioner(store: store, mx: mx, idSecret: Secret("secret"), logger: Logger(label: "users")),
            store: store,
            hub: hub,
            verifier: try await TokenVerifier(keySource: .hs256(secret: testSecret), issuer: nil, audience: nil, leeway: 5),
            eventsTokens: await EventsTokenIssuer(secret: Secret("secret"), lifetime: .seconds(60)),
            limiter: limiter,
            logger: Logger(label: "events")
        )
        let router = Router(context: BrokerRequestContext.self)
        router.add(middleware: EdgeMiddleware(edge: Edge(cors: CORSPolicy(allowedOrigins: []), metrics: BrokerMetrics())))
        controller.addRoutes(checkingOwnCredentials: router.group("v1"), user: UserRoutes(router.group("v1"), authentication: nil, limiter: limiter))
        try await Application(router: router).test(.live) { client async throws in
            let token = try await DevTokenSigner(secret: testSecret).token(subject: "alice", lifetime: 60)
            let streams = try await (0..<3).asyncMap { _ in
                try await EventStreamClient.open(
                    "http://localhost:\(try #require(client.port))/v1/events",
                    headers: [("Authorization", "Bearer \(token)")]
                )
            }
            try await Self.waitUntil { await hub.openStreams == 3 }
            #expect(await hub.openStreams == 3)
            streams[0].close()
            streams[1].close()
            try await Self.waitUntil { await hub.openStreams == 1 }
            #expect(await hub.openStreams == 1, "two closed clients were let go")
            streams[2].close()
        }
    }

    private static func waitUntil(_ condition: () async -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline, !(await condition()) {
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

extension Sequence {
    /// `map` with an asynchronous transform, in order.
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
