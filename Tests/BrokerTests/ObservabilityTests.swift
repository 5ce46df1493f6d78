import AsyncHTTPClient
import BrokerStore
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import NIOHTTP1
import Testing

@testable import Broker

@Suite("Metrics and readiness")
struct ObservabilityTests {
    @Test("/metrics counts requests by route and status, times MX calls, and shows inbox depth and open streams")
    func metrics() async throws {
        try await withBroker { broker async throws in
            _ = try await broker.mintWidgetURL(as: "alice")
            #expect(try await broker.send(.get, "/v1/members", as: "alice").status == .ok)
            #expect(try await broker.send(.get, "/v1/members").status == .unauthorized)
            #expect(try await broker.send(.get, "/v1/members").status == .unauthorized)
            for method in ["PROPFIND", "PURGE"] {
                _ = try await broker.send(HTTPRequest.Method(method)!, "/v1/members")
            }
            let stream = try await broker.openEvents(as: "alice")
            defer { stream.close() }

            let text = String(buffer: try await broker.send(.get, "/metrics").body)
            #expect(try await broker.metric("http_requests_total", #"route="/v1/members""#, #"status="200""#) == 1)
            #expect(try await broker.metric("http_requests_total", #"route="/v1/members""#, #"method="GET""#, #"status="401""#) == 2)
            #expect(try await broker.metric("http_requests_total", #"method="other""#) == 2)
            #expect(!text.contains("PROPFIND"))
            #expect(try await broker.metric("http_request_duration_seconds_count", #"route="/v1/widget_urls""#) == 1)
            #expect(try await broker.metric("mx_request_duration_seconds_count", #"endpoint="/users/{id}/widget_urls""#, #"status="200""#) == 1)
            #expect(try await broker.metric("sse_open_streams") == 1)
            #expect(try await broker.metric("webhook_inbox_items", #"status="pending""#) != nil)
            #expect(try await broker.metric("mx_breaker_state") == 0)
            #expect(try await broker.metric("store_reachable") == 1)
            #expect(!text.contains("alice"))
            #expect(!text.contains("USR-"))
        }
    }

    @Test("/readyz fails until pending migrations are applied")
    func readinessWaitsForMigrations() async throws {
        let environment = sandboxEnvironment(["MIGRATE_ON_START": "false"])
        try await withBroker(environment) { broker async throws in
            let pending = try await broker.send(.get, "/readyz")
            #expect(pending.status == .serviceUnavailable)
            #expect(pending.errorCode == "not_ready")
            #expect(try await broker.send(.get, "/healthz").status == .ok)

            try await SQLiteStore(path: try BrokerConfiguration(environment: environment).store.databasePath).migrate()
            #expect(try await broker.send(.get, "/readyz").status == .ok)
        }
    }

    @Test("METRICS_TOKEN keeps /metrics for the scraper: 401 without the token, 403 with another")
    func metricsToken() async throws {
        let token = "metrics-token-0123456789"
        try await withBroker(sandboxEnvironment(["METRICS_TOKEN": token])) { broker async throws in
            let missing = try await broker.send(.get, "/metrics")
            #expect(missing.status == .unauthorized)
            #expect(missing.errorCode == "missing_token")
            #expect(try await broker.send(.get, "/metrics", headers: [.authorization: "Bearer not-the-token"]).errorCode == "invalid_metrics_token")
            let scraped = try await broker.send(.get, "/metrics", headers: [.authorization: "Bearer \(token)"])
            #expect(scraped.status == .ok)
            #expect(String(buffer: scraped.body).contains("store_reachable"))
            #expect(try await broker.send(.get, "/healthz").status == .ok, "health checks stay open")
        }
        #expect(throws: ConfigurationError.self) { try BrokerConfiguration(environment: sandboxEnvironment(["METRICS_TOKEN": "short"])) }
    }

    @Test("METRICS_PORT serves /metrics on a port of its own, and not with the API")
    func metricsPort() async throws {
        let logs = LogCapture()
        try await withBroker(sandboxEnvironment(["METRICS_PORT": "0"]), logs: logs) { broker async throws in
            #expect(try await broker.send(.get, "/metrics").status == .notFound)
            let deadline = ContinuousClock.now + .seconds(5)
            var url: Substring?
            while url == nil, ContinuousClock.now < deadline {
                url = logs.text.firstMatch(of: /Metrics listening server\.url=(\S+)/)?.1
                if url == nil { try await Task.sleep(for: .milliseconds(50)) }
            }
            let address = try #require(url)
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: String(address)), timeout: .seconds(5))
            #expect(response.status == .ok)
            let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
            #expect(text.contains("http_requests"))
        }
    }

    @Test("webhook processing and pruning wait for the migrations instead of failing against an empty database")
    func workersWaitForMigrations() async throws {
        let logs = LogCapture()
        let environment = sandboxEnvironment(["MIGRATE_ON_START": "false"])
        try await withBroker(environment, logs: logs) { broker async throws in
            try await Task.sleep(for: .milliseconds(400))
            try await SQLiteStore(path: try BrokerConfiguration(environment: environment).store.databasePath).migrate()
            #expect(try await broker.deliver(#"{"type":"PING"}"#).status == .noContent)
            let deadline = ContinuousClock.now + .seconds(10)
            while try await broker.metric("webhook_inbox_items", #"status="pending""#) ?? 0 > 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(try await broker.metric("webhook_inbox_items", #"status="pending""#) == 0, "processed once the store was migrated")
        }
        #expect(!logs.text.contains("failed"), "\(logs.text.split(separator: "\n").filter { $0.contains("failed") })")
    }

    @Test("/readyz fails, promptly, while the database cannot be reached")
    func readinessNeedsTheDatabase() async throws {
        let environment = sandboxEnvironment(["MIGRATE_ON_START": "false", "DATABASE_URL": "postgres://broker@127.0.0.1:1/broker?sslmode=disable"])
        try await withBroker(environment) { broker async throws in
            let started = ContinuousClock.now
            let response = try await broker.send(.get, "/readyz")
            #expect(response.status == .serviceUnavailable)
            #expect(ContinuousClock.now - started < .seconds(4))
            #expect(try await broker.send(.get, "/healthz").status == .ok)
            #expect(try await broker.metric("store_reachable") == 0)
        }
    }
}
