import AsyncHTTPClient
import Broker
import Foundation
import GRDB
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

@Suite("Graceful shutdown")
struct GracefulShutdownTests {
    @Test(
        "SIGTERM: in-flight requests finish, event streams end with a retry hint, new connections are refused, exit 0",
        .timeLimit(.minutes(1))
    )
    func sigterm() async throws {
        let broker = try await BrokerProcess(environment: sandboxEnvironment())
        defer { broker.stop() }
        let token = try await DevTokenSigner(secret: testSecret).token(subject: "alice", lifetime: 600)
        let auth = [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")]
        #expect(try await httpRequest("\(broker.baseURL)/v1/widget_urls", method: .POST, headers: auth, body: #"{"widget_url":{}}"#).status == 200)
        let faults = #"{"faults":[{"path":"/users/*/accounts","kind":"latency","latency_ms":1500}]}"#
        #expect(try await httpRequest("\(broker.baseURL)/sandbox/mx/_faults", method: .PUT, headers: sandboxAPIHeaders, body: faults).status == 200)

        let stream = try await EventStreamClient.open("\(broker.baseURL)/v1/events", headers: auth)
        try await stream.wait { $0.contains { $0.comment == "connected" } }
        async let slowRead = httpRequest("\(broker.baseURL)/v1/accounts", headers: auth)
        try await Task.sleep(for: .milliseconds(400))
        broker.terminate()

        let read = try await slowRead
        #expect(read.status == 200)
        #expect(read.json["accounts"] is [Any])
        let goodbye = try await stream.wait { $0.contains { $0.comment == "server shutting down; reconnect" } }.last
        #expect(goodbye?.retry == 1000)
        #expect(await broker.exitStatus() == 0)
        #expect(stream.isEnded)
        let port = try #require(URLComponents(string: broker.baseURL)?.port)
        await #expect(throws: (any Error).self) {
            try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get().close()
        }
    }

    @Test("SIGTERM while a webhook is being processed: the delivery is finished before the process exits", .timeLimit(.minutes(1)))
    func finishesTheDeliveryInHand() async throws {
        let sandbox = try await BrokerProcess("sandbox", environment: ["SANDBOX_CONNECT_SECONDS": "0"])
        defer { sandbox.stop() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("shutdown-\(UUID().uuidString)").path
        let broker = try await BrokerProcess(environment: [
            "DATA_DIR": directory, "MX_BASE_URL": sandbox.baseURL, "MX_CLIENT_ID": "sandbox-client-id", "MX_API_KEY": "sandbox-api-key",
            "JWT_HS256_SECRET": testSecret, "MX_WEBHOOK_USERNAME": "mx", "MX_WEBHOOK_PASSWORD": "hook-secret", "LOG_LEVEL": "notice",
        ])
        defer { broker.stop() }
        let token = try await DevTokenSigner(secret: testSecret).token(subject: "alice", lifetime: 600)
        let auth = [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")]
        #expect(try await httpRequest("\(broker.baseURL)/v1/widget_urls", method: .POST, headers: auth, body: #"{"widget_url":{}}"#).status == 200)
        let users = try #require(try await httpRequest("\(sandbox.baseURL)/users", headers: sandboxAPIHeaders).json["users"] as? [[String: Any]])
        let user = try #require(users.first?["guid"] as? String)
        let member = try await createSandboxMember(baseURL: sandbox.baseURL, apiPath: "", user: user)
        let faults = #"{"faults":[{"method":"GET","path":"/users/*/members/*","kind":"latency","latency_ms":1500}]}"#
        #expect(try await httpRequest("\(sandbox.baseURL)/_faults", method: .PUT, headers: sandboxAPIHeaders, body: faults).status == 200)

        let hook = [("Authorization", "Basic " + Data("mx:hook-secret".utf8).base64EncodedString()), ("Content-Type", "application/json")]
        let body = dataWebhook(user: user, member: member, completedAt: 1_800_000_000)
        #expect(try await httpRequest("\(broker.baseURL)/v1/webhooks/mx", method: .POST, headers: hook, body: body).status == 204)
        try await Task.sleep(for: .milliseconds(500))
        broker.terminate()
        #expect(await broker.exitStatus() == 0)

        let database = try DatabaseQueue(path: (directory as NSString).appendingPathComponent("broker.sqlite"))
        let rows = try database.read { db in try Row.fetchAll(db, sql: "SELECT status, attempts FROM webhook_inbox") }
        #expect(rows.count == 1)
        #expect(rows.first?["status"] as String? == "processed")
        #expect(rows.first?["attempts"] as Int? == 1)
    }

    @Test(
        "out of file descriptors: idle connections past the budget are shed, health checks answered, others 503; it recovers and SIGTERM exits 0",
        .timeLimit(.minutes(1))
    )
    func runsOutOfDescriptors() async throws {
        let broker = try await BrokerProcess(
            environment: sandboxEnvironment(["MAX_STREAMS_PER_USER": "0", "RATE_LIMIT_READS_PER_MINUTE": "0"]),
            openFileLimit: 128
        )
        defer { broker.stop() }
        let port = try #require(URLComponents(string: broker.baseURL)?.port)
        let token = try await DevTokenSigner(secret: testSecret).token(subject: "alice", lifetime: 600)
        let auth = [("Authorization", "Bearer \(token)")]
        var idle: [any Channel] = []
        for _ in 0..<160 {
            idle.append(try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get())
        }
        try await Task.sleep(for: .seconds(3))
        // A probe, like an orchestrator's, tries again when a connection is cut while the broker
        // sheds the connections queued before it.
        func probe(_ path: String, headers: [(String, String)] = []) async -> (status: Int, json: [String: Any]) {
            for _ in 0..<3 {
                if let answer = try? await httpRequest("\(broker.baseURL)\(path)", headers: headers) { return answer }
            }
            return (0, [:])
        }
        #expect(await probe("/healthz").status == 200, "a health check is answered past the budget")
        let busy = await probe("/v1/accounts", headers: auth)
        #expect(busy.status == 503)
        #expect((busy.json["error"] as? [String: Any])?["code"] as? String == "server_busy")

        for channel in idle { try? await channel.close() }
        let deadline = ContinuousClock.now + .seconds(10)
        var status = 0
        while status != 200, ContinuousClock.now < deadline {
            status = (try? await httpRequest("\(broker.baseURL)/v1/accounts", headers: auth).status) ?? 0
            if status != 200 { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(status == 200, "serving again once the connections closed")
        broker.terminate()
        #expect(await broker.exitStatus() == 0)
        #expect(!broker.log.contains(" error "), "\(broker.log.split(separator: "\n").filter { $0.contains(" error ") }.prefix(3))")
    }
}
