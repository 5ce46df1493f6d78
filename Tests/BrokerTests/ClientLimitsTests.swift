import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import NIOPosix
import Testing

@testable import Broker

#if canImport(Glibc)
import Glibc
#endif

@Suite("Limits toward clients")
struct ClientLimitsTests {
    @Test("each user has their own budget per kind of request; past it, 429 with Retry-After")
    func rateLimits() async throws {
        let environment = sandboxEnvironment([
            "RATE_LIMIT_WIDGET_URLS_PER_MINUTE": "3", "RATE_LIMIT_READS_PER_MINUTE": "5", "RATE_LIMIT_RELAYS_PER_MINUTE": "2",
        ])
        try await withBroker(environment) { broker async throws in
            for _ in 0..<3 { _ = try await broker.mintWidgetURL(as: "alice") }
            let limited = try await broker.send(.post, "/v1/widget_urls", as: "alice", json: #"{"widget_url":{}}"#)
            #expect(limited.status == .tooManyRequests)
            #expect(limited.errorCode == "rate_limited")
            let retryAfter = try #require(limited.headers[.retryAfter].flatMap { Int($0) })
            #expect((1...20).contains(retryAfter))

            for _ in 0..<5 { #expect(try await broker.send(.get, "/v1/accounts", as: "alice").status == .ok) }
            #expect(try await broker.send(.get, "/v1/transactions", as: "alice").status == .tooManyRequests)

            let users = try #require(try await broker.sandbox("/users")["users"] as? [[String: Any]])
            let userGUID = try #require(users.first?["guid"] as? String)
            let relay = #"{"type":"mx/connect/loaded","metadata":{"initial_step":"search","session_guid":"ANS-1","user_guid":"\#(userGUID)"}}"#
            for _ in 0..<2 {
                let accepted = try await broker.relay(relay, as: "alice")
                #expect(accepted.status == .accepted, "\(String(buffer: accepted.body))")
            }
            #expect(try await broker.relay(relay, as: "alice").status == .tooManyRequests)

            _ = try await broker.mintWidgetURL(as: "bob")
            #expect(try await broker.send(.get, "/v1/accounts", as: "bob").status == .ok)
        }
    }

    @Test("oversized request headers are refused and the server keeps serving")
    func headerLimit() async throws {
        try await withBroker(sandboxEnvironment(["MAX_HEADER_BYTES": "4096"])) { broker async throws in
            let big = String(repeating: "a", count: 8192)
            let refused = try await broker.send(.get, "/healthz", headers: [HTTPField.Name("X-Padding")!: big])
            #expect(refused.status == .requestHeaderFieldsTooLarge)
            #expect(refused.errorCode == "headers_too_large")
            #expect(try await broker.send(.get, "/healthz", headers: [HTTPField.Name("X-Padding")!: "small"]).status == .ok)
            let larger = String(repeating: "b", count: 3000)
            let read = try await broker.send(.get, "/healthz", headers: [HTTPField.Name("X-Padding")!: larger])
            #expect(read.status == .ok, "headers larger than a connection's first 1 KB receive buffer, within the limit")
        }
    }

    @Test("1,000 slow connections do not stop normal requests, and are closed when idle", .timeLimit(.minutes(1)))
    func slowConnections() async throws {
        raiseOpenFileLimit(to: 8192)
        try await withBroker(sandboxEnvironment(["IDLE_TIMEOUT_SECONDS": "1"])) { broker async throws in
            let port = try #require(broker.client.port)
            let slow = try await withThrowingTaskGroup(of: [any Channel].self) { group in
                for _ in 0..<10 {
                    group.addTask {
                        var channels: [any Channel] = []
                        for _ in 0..<100 {
                            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                                .connect(host: "127.0.0.1", port: port).get()
                            try await channel.writeAndFlush(ByteBuffer(string: "GET /healthz HTTP/1.1\r\nHost: slow\r\nX-Slow: "))
                            channels.append(channel)
                        }
                        return channels
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(slow.count == 1000)

            let started = ContinuousClock.now
            for _ in 0..<20 {
                #expect(try await broker.send(.get, "/healthz").status == .ok)
            }
            #expect(ContinuousClock.now - started < .seconds(2))

            let deadline = ContinuousClock.now + .seconds(8)
            while ContinuousClock.now < deadline, slow.contains(where: \.isActive) {
                try await Task.sleep(for: .milliseconds(200))
            }
            let stillOpen = slow.filter(\.isActive).count
            #expect(stillOpen == 0, "\(stillOpen) slow connections were not closed")
            for channel in slow where channel.isActive { try? await channel.close() }
        }
    }
}

/// Lets this process hold `limit` open files (sockets), within the hard limit.
private func raiseOpenFileLimit(to limit: rlim_t) {
    var current = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &current) == 0, current.rlim_cur < limit else { return }
    current.rlim_cur = min(limit, current.rlim_max)
    setrlimit(Int32(RLIMIT_NOFILE.rawValue), &current)
}
