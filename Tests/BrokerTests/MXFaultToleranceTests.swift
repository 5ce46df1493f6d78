import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import Broker

/// The broker against a sandbox that misbehaves on purpose: every fault is answered within its
/// limits with the right status, and the broker recovers by itself when the faults stop.
@Suite("Resilience toward MX")
struct MXFaultToleranceTests {
    /// Fast retries, so tests measure behaviour rather than backoff, and no read cache, so every
    /// read reaches the sandbox.
    static func environment(_ extra: [String: String] = [:]) -> [String: String] {
        sandboxEnvironment(["MX_RETRY_BASE_MILLISECONDS": "10", "READ_CACHE_SECONDS": "0"].merging(extra) { $1 })
    }

    @Test("transient 503s on a read are retried and the caller gets the data")
    func transientServerErrors() async throws {
        try await withBroker(Self.environment()) { broker async throws in
            _ = try await broker.mintWidgetURL(as: "alice")
            try await broker.injectFaults(#"[{"method":"GET","path":"/users/*/accounts","kind":"status","status":503,"times":2}]"#)
            let response = try await broker.send(.get, "/v1/accounts", as: "alice")
            #expect(response.status == .ok)
            #expect(try response.json["accounts"] is [Any])
            let fault = try #require(try await broker.faultReport().first)
            #expect(fault["matched"] as? Int == 3)
            #expect(fault["injected"] as? Int == 2)
            #expect(try await broker.metric("mx_retries_total", "/users/{id}/accounts", "mx_server_error") == 2)
        }
    }

    @Test("a short Retry-After is waited out; a long one is passed on to the caller")
    func retryAfter() async throws {
        try await withBroker(Self.environment(["MX_RETRY_MAX_WAIT_SECONDS": "5"])) { broker async throws in
            _ = try await broker.mintWidgetURL(as: "alice")
            try await broker.injectFaults(#"[{"path":"/users/*/accounts","kind":"status","status":429,"retry_after":1,"times":1}]"#)
            let started = ContinuousClock.now
            #expect(try await broker.send(.get, "/v1/accounts", as: "alice").status == .ok)
            #expect(ContinuousClock.now - started >= .milliseconds(950))

            try await broker.injectFaults(#"[{"path":"/users/*/accounts","kind":"status","status":429,"retry_after":30}]"#)
            let limited = try await broker.send(.get, "/v1/accounts", as: "alice")
            #expect(limited.status == .serviceUnavailable)
            #expect(limited.errorCode == "mx_rate_limited")
            #expect(limited.headers[.retryAfter] == "30")
            #expect(try await broker.faultReport().first?["injected"] as? Int == 1)

            try await broker.clearFaults()
            #expect(try await broker.send(.get, "/v1/accounts", as: "alice").status == .ok)
        }
    }

    @Test("a dropped connection is retried; one that keeps dropping, or a body that is not JSON, is a 502")
    func resetsAndMalformedBodies() async throws {
        try await withBroker(Self.environment()) { broker async throws in
            _ = try await broker.mintWidgetURL(as: "alice")
            try await broker.injectFaults(#"[{"path":"/users/*/accounts","kind":"reset","times":1}]"#)
            #expect(try await broker.send(.get, "/v1/accounts", as: "alice").status == .ok)

            try await broker.injectFaults(#"[{"path":"/users/*/accounts","kind":"reset"}]"#)
            let dropped = try await broker.send(.get, "/v1/accounts", as: "alice")
            #expect(dropped.status == .badGateway)
            #expect(dropped.errorCode == "mx_unavailable")
            #expect(try await broker.faultReport().first?["injected"] as? Int == 3)

            try await broker.injectFaults(#"[{"path":"/users/*/transactions","kind":"malformed_json"}]"#)
            let malformed = try await broker.send(.get, "/v1/transactions", as: "alice")
            #expect(malformed.status == .badGateway)
            #expect(malformed.errorCode == "mx_unavailable")

            try await broker.clearFaults()
            #expect(try await broker.send(.get, "/v1/transactions", as: "alice").status == .ok)
        }
    }

    @Test("a slow MX is answered with 504 at the deadline, without a retry")
    func slowMX() async throws {
        // The deadline leaves the set-up calls room on a loaded machine while the test runs in
        // parallel with the others; the read is held well past it.
        try await withBroker(Self.environment(["MX_TIMEOUT_SECONDS": "1"])) { broker async throws in
            _ = try await broker.mintWidgetURL(as: "alice")
            try await broker.injectFaults(#"[{"path":"/users/*/accounts","kind":"latency","latency_ms":4000}]"#)
            let started = ContinuousClock.now
            let response = try await broker.send(.get, "/v1/accounts", as: "alice")
            #expect(response.status == .gatewayTimeout)
            #expect(response.errorCode == "mx_timeout")
            #expect(ContinuousClock.now - started < .seconds(3))
            #expect(try await broker.faultReport().first?["matched"] as? Int == 1)
        }
    }

    @Test("a failed POST is never retried")
    func postsAreNotRetried() async throws {
        try await withBroker(Self.environment()) { broker async throws in
            try await broker.injectFaults(#"[{"method":"POST","path":"/users","kind":"status","status":503}]"#)
            let response = try await broker.send(.post, "/v1/widget_urls", as: "alice", json: #"{"widget_url":{}}"#)
            #expect(response.status == .badGateway)
            #expect(try await broker.faultReport().first?["injected"] as? Int == 1)
        }
    }

    @Test("while MX keeps failing the circuit opens and calls fail fast; a probe closes it when MX is back")
    func circuitBreaker() async throws {
        let environment = Self.environment(["MX_BREAKER_FAILURES": "3", "MX_BREAKER_OPEN_SECONDS": "1", "MX_RETRY_ATTEMPTS": "1"])
        try await withBroker(environment) { broker async throws in
            _ = try await broker.mintWidgetURL(as: "alice")
            try await broker.injectFaults(#"[{"path":"/users/*/accounts","kind":"status","status":500}]"#)
            for _ in 0..<3 {
                #expect(try await broker.send(.get, "/v1/accounts", as: "alice").status == .badGateway)
            }
            let started = ContinuousClock.now
            let rejected = try await broker.send(.get, "/v1/accounts", as: "alice")
            #expect(rejected.status == .serviceUnavailable)
            #expect(rejected.errorCode == "mx_unavailable")
            #expect(rejected.headers[.retryAfter] == "1")
            #expect(ContinuousClock.now - started < .milliseconds(500))
            #expect(try await broker.faultReport().first?["matched"] as? Int == 3)
            #expect(try await broker.metric("mx_breaker_state") == 1)

            try await broker.clearFaults()
            try await Task.sleep(for: .milliseconds(1100))
            #expect(try await broker.send(.get, "/v1/accounts", as: "alice").status == .ok)
            #expect(try await broker.metric("mx_breaker_state") == 0)
        }
    }

    @Test("no more calls are in flight to MX at once than configured")
    func concurrencyCap() async throws {
        try await withBroker(Self.environment(["MX_MAX_CONCURRENT_REQUESTS": "2"])) { broker async throws in
            _ = try await broker.mintWidgetURL(as: "alice")
            try await broker.injectFaults(#"[{"path":"/users/*/accounts","kind":"latency","latency_ms":300}]"#)
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for page in 1...6 {
                    group.addTask { try await broker.send(.get, "/v1/accounts?page=\(page)", as: "alice").status }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == .ok })
            let fault = try #require(try await broker.faultReport().first)
            #expect(fault["matched"] as? Int == 6)
            #expect(fault["max_in_flight"] as? Int == 2)
        }
    }

    @Test("identical reads of one user in flight together become one MX call; other users' do not join")
    func coalescing() async throws {
        try await withBroker(Self.environment()) { broker async throws in
            _ = try await broker.mintWidgetURL(as: "alice")
            _ = try await broker.mintWidgetURL(as: "bob")
            // MX answers after 1.5 s, so all eight reads are in flight together even on a busy machine.
            try await broker.injectFaults(#"[{"path":"/users/*/accounts","kind":"latency","latency_ms":1500}]"#)
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for index in 0..<8 {
                    group.addTask { try await broker.send(.get, "/v1/accounts", as: index < 6 ? "alice" : "bob").status }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == .ok })
            #expect(try await broker.faultReport().first?["matched"] as? Int == 2)
            #expect(try await broker.metric("mx_coalesced_requests_total", "/users/{id}/accounts") == 6)
        }
    }
}
