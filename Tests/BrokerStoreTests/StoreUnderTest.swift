import BrokerStore
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Testing

/// The stores the conformance suite runs against: SQLite always, PostgreSQL when
/// `POSTGRES_TEST_URL` names a server (CI always provides one).
enum StoreKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    static var postgresURL: String? {
        ProcessInfo.processInfo.environment["POSTGRES_TEST_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Whether the PostgreSQL half must run (CI sets `REQUIRE_POSTGRES_TESTS=1`), so that a
    /// missing server fails the run instead of skipping half the suite.
    static var postgresRequired: Bool {
        ProcessInfo.processInfo.environment["REQUIRE_POSTGRES_TESTS"] == "1"
    }

    /// The kinds available on this machine.
    static var available: [StoreKind] {
        postgresURL == nil ? [.sqlite] : [.sqlite, .postgres]
    }
}

/// Runs `body` with a fresh, migrated store of `kind`: a new SQLite file, or a new PostgreSQL
/// schema of its own.
func withStore(_ kind: StoreKind, _ body: @Sendable (any Store) async throws -> Void) async throws {
    switch kind {
    case .sqlite:
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: directory.appendingPathComponent("broker.sqlite").path)
        try await store.migrate()
        try await body(store)
    case .postgres:
        let url = try #require(StoreKind.postgresURL)
        let schema = "test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await withPostgres(try PostgresStore.configuration(url)) { client in
            try await client.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA \(schema)"))
        }
        var configuration = try PostgresStore.configuration(url)
        configuration.options.additionalStartupParameters = [("search_path", schema)]
        let store = PostgresStore(configuration: configuration, logger: Logger(label: "store-test"))
        try await withRunning(store.service) {
            try await store.migrate()
            try await body(store)
        }
        try await withPostgres(try PostgresStore.configuration(url)) { client in
            try await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \(schema) CASCADE"))
        }
    }
}

/// Runs `body` with a plain PostgreSQL client.
func withPostgres(_ configuration: PostgresClient.Configuration, _ body: (PostgresClient) async throws -> Void) async throws {
    let client = PostgresClient(configuration: configuration, backgroundLogger: Logger(label: "postgres-test"))
    try await withRunning(client) { try await body(client) }
}

/// Runs a service (a connection pool) for the duration of `body`.
func withRunning(_ service: some Service, _ body: () async throws -> Void) async throws {
    let task = Task { try? await service.run() }
    defer { task.cancel() }
    try await body()
}
