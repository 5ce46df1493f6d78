import AsyncHTTPClient
import Broker
import Foundation
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
}
