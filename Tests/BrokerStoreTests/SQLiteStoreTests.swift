import BrokerStore
import Foundation
import Testing

@Suite("SQLite store")
struct SQLiteStoreTests {
    private func makeStore() throws -> (SQLiteStore, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("broker.sqlite").path
        return (try SQLiteStore(path: path), path)
    }

    @Test("is not ready until migrated; migrating twice is harmless")
    func readiness() async throws {
        let (store, _) = try makeStore()
        await #expect(throws: (any Error).self) { try await store.checkReady() }
        try await store.migrate()
        try await store.migrate()
        try await store.checkReady()
    }

    @Test("a user mapping is stored once: a second insert for the subject keeps the first")
    func userMapping() async throws {
        let (store, path) = try makeStore()
        try await store.migrate()
        #expect(try await store.user(subject: "alice") == nil)
        let first = StoredUser(subject: "alice", mxUserID: "cb_1", mxUserGUID: "USR-1", createdAt: Date(timeIntervalSince1970: 1_700_000_000))
        #expect(try await store.insertUser(first) == first)
        let second = StoredUser(subject: "alice", mxUserID: "cb_1", mxUserGUID: "USR-2", createdAt: Date())
        #expect(try await store.insertUser(second) == first)

        let reopened = try SQLiteStore(path: path)
        #expect(try await reopened.user(subject: "alice") == first, "the mapping survives a restart")
    }

    @Test("concurrent inserts for one subject all answer the same mapping")
    func concurrentInserts() async throws {
        let (store, _) = try makeStore()
        try await store.migrate()
        let results = try await withThrowingTaskGroup(of: StoredUser.self) { group in
            for index in 0..<20 {
                group.addTask {
                    try await store.insertUser(StoredUser(subject: "bob", mxUserID: "cb_bob", mxUserGUID: "USR-\(index)", createdAt: Date()))
                }
            }
            return try await group.reduce(into: [StoredUser]()) { $0.append($1) }
        }
        #expect(Set(results.map(\.mxUserGUID)).count == 1)
    }
}
