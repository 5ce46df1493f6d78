import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import Broker

@Suite("Event stream limits")
struct EventStreamLimitTests {
    private func open(_ broker: BrokerClient, as subject: String, lifetime: TimeInterval = 600) async throws -> EventStreamClient {
        try await EventStreamClient.open(
            "\(broker.baseURL)/v1/events",
            headers: [("Authorization", "Bearer \(try await broker.token(subject, lifetime: lifetime))")]
        )
    }

    @Test("a user holds at most MAX_STREAMS_PER_USER streams: the next is a 429 too_many_streams, and a closed one frees its place")
    func perUser() async throws {
        try await withBroker(sandboxEnvironment(["MAX_STREAMS_PER_USER": "2", "SSE_HEARTBEAT_SECONDS": "0.2"])) { broker async throws in
            let first = try await broker.openEvents(as: "alice")
            let second = try await broker.openEvents(as: "alice")
            let third = try await broker.send(.get, "/v1/events", as: "alice")
            #expect(third.status == .tooManyRequests)
            #expect(third.errorCode == "too_many_streams")
            let bob = try await broker.openEvents(as: "bob")
            first.close()
            let deadline = ContinuousClock.now + .seconds(5)
            var reopened = try await open(broker, as: "alice")
            while reopened.status != 200, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
                reopened = try await open(broker, as: "alice")
            }
            #expect(reopened.status == 200)
            for stream in [second, bob, reopened] { stream.close() }
        }
    }

    @Test("streams stop short of MAX_STREAMS with a 503, while other requests and health checks are served")
    func brokerWide() async throws {
        try await withBroker(sandboxEnvironment(["MAX_STREAMS": "2"])) { broker async throws in
            let alice = try await broker.openEvents(as: "alice")
            let bob = try await broker.openEvents(as: "bob")
            let carol = try await broker.send(.get, "/v1/events", as: "carol")
            #expect(carol.status == .serviceUnavailable)
            #expect(carol.errorCode == "streams_unavailable")
            #expect(carol.headers[.retryAfter] != nil)
            #expect(try await broker.send(.get, "/healthz").status == .ok)
            #expect(try await broker.send(.get, "/v1/accounts", as: "carol").status == .ok)
            alice.close()
            bob.close()
        }
        #expect(OpenFiles.reserve(of: 512) == 64)
        #expect(OpenFiles.reserve(of: 100_000) == 10_000)
        #expect(OpenFiles.streamBudget < OpenFiles.limit)
    }

    @Test("opening a stream spends a read of the caller's budget")
    func budget() async throws {
        try await withBroker(sandboxEnvironment(["RATE_LIMIT_READS_PER_MINUTE": "2"])) { broker async throws in
            let first = try await broker.openEvents(as: "alice")
            #expect(try await broker.send(.get, "/v1/accounts", as: "alice").status == .ok)
            let refused = try await broker.send(.get, "/v1/events", as: "alice")
            #expect(refused.status == .tooManyRequests)
            #expect(refused.errorCode == "rate_limited")
            first.close()
        }
    }

    @Test("a stream ends when the token that opened it expires")
    func tokenExpiry() async throws {
        try await withBroker(sandboxEnvironment(["JWT_LEEWAY_SECONDS": "0", "SSE_HEARTBEAT_SECONDS": "0.2"])) { broker async throws in
            let stream = try await open(broker, as: "alice", lifetime: 1.5)
            #expect(stream.status == 200)
            let deadline = ContinuousClock.now + .seconds(5)
            while !stream.isEnded, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(stream.isEnded)
            #expect(stream.all.contains { $0.comment?.contains("token expired") == true })
        }
    }

    @Test("a stream creates no MX user: it waits for the caller's, then carries every event of it")
    func noUserCreated() async throws {
        try await withBroker { broker async throws in
            let stream = try await broker.openEvents(as: "alice")
            try await Task.sleep(for: .milliseconds(100))
            #expect((try await broker.sandbox("/users")["users"] as? [Any])?.isEmpty == true)
            _ = try await broker.connectMember(as: "alice")
            let events = try await stream.wait { $0.contains { $0.event == "member.updated" } }.filter { $0.comment == nil }
            #expect(events.first?.id == "1", "the new user's events from the first")
            stream.close()

            #expect(try await broker.send(.delete, "/v1/me", as: "alice").status == .noContent)
            let again = try await broker.openEvents(as: "alice")
            try await Task.sleep(for: .milliseconds(100))
            #expect((try await broker.sandbox("/users")["users"] as? [Any])?.isEmpty == true, "not created again after DELETE /v1/me")
            again.close()
        }
    }
}
