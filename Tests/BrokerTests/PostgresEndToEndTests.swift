import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import PostgresNIO
import SandboxWidgetDriver
import Testing

@testable import Broker
@testable import BrokerStore

@Suite("The broker on PostgreSQL")
struct PostgresEndToEndTests {
    @Test(
        "widget, relay, webhooks and the event stream work the same on PostgreSQL",
        .enabled(if: postgresTestURL != nil, "POSTGRES_TEST_URL is not set: the PostgreSQL end-to-end test is skipped")
    )
    func endToEnd() async throws {
        try await withTestDatabase { databaseURL in
            try await withBroker(sandboxEnvironment(["DATABASE_URL": databaseURL, "ADMIN_TOKEN": adminToken])) { broker async throws in
                let stream = try await broker.openEvents(as: "alice")
                var (driver, member) = try await broker.connectThroughWidget(as: "alice")
                _ = try await driver.poll(member) { $0 == "CONNECTED" }
                let relayed = try await broker.relay("[\(driver.eventsJSON.joined(separator: ","))]", as: "alice")
                #expect(relayed.status == .accepted)
                try await stream.wait { $0.contains { $0.event == "aggregation.completed" } }
                #expect(try await broker.settledInbox()["processed"] == 2)
                let members = try await broker.send(.get, "/v1/members", as: "alice").json["members"] as? [[String: Any]]
                #expect(members?.first?["connection_status"] as? String == "CONNECTED")
                #expect(try await broker.send(.get, "/readyz").status == .ok)
                #expect(try await broker.send(.delete, "/v1/me", as: "alice").status == .noContent)
                stream.close()
            }
        }
    }
}

/// The PostgreSQL server the tests may use, from `POSTGRES_TEST_URL`.
let postgresTestURL = ProcessInfo.processInfo.environment["POSTGRES_TEST_URL"].flatMap { $0.isEmpty ? nil : $0 }

/// A fresh database on the test server, dropped afterwards.
func withTestDatabase(_ body: (String) async throws -> Void) async throws {
    let url = try #require(postgresTestURL)
    let name = "broker_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
    let admin = PostgresClient(configuration: try PostgresStore.configuration(url), backgroundLogger: Logger(label: "pg-admin"))
    let pool = Task { await admin.run() }
    defer { pool.cancel() }
    try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"))
    var components = try #require(URLComponents(string: url))
    components.path = "/\(name)"
    try await body(try #require(components.string))
    try await admin.query(PostgresQuery(unsafeSQL: "DROP DATABASE \(name) WITH (FORCE)"))
}
