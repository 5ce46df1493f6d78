import BrokerStore
import Foundation
import Testing

@Suite("SQLite store: members, events, relayed widget events")
struct SQLiteMemberStoreTests {
    private func makeStore() async throws -> SQLiteStore {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: directory.appendingPathComponent("broker.sqlite").path)
        try await store.migrate()
        for (subject, guid) in [("alice", "USR-a"), ("bob", "USR-b")] {
            _ = try await store.insertUser(StoredUser(subject: subject, mxUserID: "cb_\(subject)", mxUserGUID: guid, createdAt: Date()))
        }
        return store
    }

    private func member(_ guid: String, user: String = "USR-a", status: String = "CONNECTED") -> MemberRecord {
        MemberRecord(
            guid: guid,
            mxUserGUID: user,
            institutionCode: "mxbank",
            name: "MX Bank",
            connectionStatus: status,
            isBeingAggregated: false,
            aggregatedAt: "2025-01-01T00:00:00Z",
            successfullyAggregatedAt: "2025-01-01T00:00:03Z",
            refreshedAt: Date(timeIntervalSince1970: 1_700_000_000)
        )
    }

    @Test("a member and its events are stored together; events are numbered per store and read per user")
    func membersAndEvents() async throws {
        let store = try await makeStore()
        let first = try await store.saveMember(member("MBR-1"), events: [NewEvent(kind: "member.updated", payload: "{}")])
        let other = try await store.saveMember(member("MBR-2", user: "USR-b"), events: [NewEvent(kind: "member.updated", payload: "{\"b\":1}")])
        let second = try await store.saveMember(
            member("MBR-1", status: "CHALLENGED"),
            events: [
                NewEvent(kind: "member.updated", payload: "{\"x\":1}"), NewEvent(kind: "connection.action_required", payload: "{}"),
            ]
        )
        #expect(first.map(\.sequence) + second.map(\.sequence) == (first + second).map(\.sequence).sorted())
        #expect(other[0].sequence > first[0].sequence && other[0].sequence < second[0].sequence)

        #expect(try await store.member(guid: "MBR-1", mxUserGUID: "USR-a")?.connectionStatus == "CHALLENGED")
        #expect(try await store.member(guid: "MBR-1", mxUserGUID: "USR-b") == nil, "scoped to the user")
        #expect(try await store.members(mxUserGUID: "USR-a").map(\.guid) == ["MBR-1"])

        let all = try await store.events(mxUserGUID: "USR-a", after: 0, limit: 100)
        #expect(all.map(\.kind) == ["member.updated", "member.updated", "connection.action_required"])
        #expect(try await store.events(mxUserGUID: "USR-a", after: all[0].sequence, limit: 100) == Array(all.dropFirst()))
        #expect(try await store.events(mxUserGUID: "USR-a", after: 0, limit: 2).count == 2)
        #expect(try await store.lastEventSequence(mxUserGUID: "USR-a") == all.last?.sequence)
        #expect(try await store.lastEventSequence(mxUserGUID: "USR-nobody") == 0)
    }

    @Test("a member of one user cannot be overwritten under another user")
    func memberOwnership() async throws {
        let store = try await makeStore()
        _ = try await store.saveMember(member("MBR-1"), events: [])
        _ = try await store.saveMember(member("MBR-1", user: "USR-b", status: "DENIED"), events: [])
        #expect(try await store.member(guid: "MBR-1", mxUserGUID: "USR-a")?.connectionStatus == "CONNECTED")
    }

    @Test("deleting a member appends its events only when there was one")
    func deleteMember() async throws {
        let store = try await makeStore()
        _ = try await store.saveMember(member("MBR-1"), events: [])
        let gone = try await store.deleteMember(guid: "MBR-1", mxUserGUID: "USR-a", events: [NewEvent(kind: "member.deleted", payload: "{}")])
        #expect(gone?.map(\.kind) == ["member.deleted"])
        #expect(try await store.deleteMember(guid: "MBR-1", mxUserGUID: "USR-a", events: [NewEvent(kind: "member.deleted", payload: "{}")]) == nil)
        #expect(try await store.events(mxUserGUID: "USR-a", after: 0, limit: 10).count == 1)
    }

    @Test("a deleted member, or a member of a user who is not stored, is never written back")
    func noResurrection() async throws {
        let store = try await makeStore()
        _ = try await store.saveMember(member("MBR-1"), events: [])
        _ = try await store.deleteMember(guid: "MBR-1", mxUserGUID: "USR-a", events: [])
        #expect(try await store.saveMember(member("MBR-1"), events: [NewEvent(kind: "member.updated", payload: "{}")]).isEmpty)
        #expect(try await store.member(guid: "MBR-1", mxUserGUID: "USR-a") == nil)
        #expect(try await store.saveMember(member("MBR-9", user: "USR-gone"), events: [NewEvent(kind: "member.updated", payload: "{}")]).isEmpty)
        #expect(try await store.events(mxUserGUID: "USR-a", after: 0, limit: 10).isEmpty)
    }

    @Test("deleting a user removes the mapping, members, events and relayed widget events")
    func deleteUser() async throws {
        let store = try await makeStore()
        _ = try await store.saveMember(member("MBR-1"), events: [NewEvent(kind: "member.updated", payload: "{}")])
        _ = try await store.saveMember(member("MBR-2", user: "USR-b"), events: [NewEvent(kind: "member.updated", payload: "{}")])
        try await store.recordWidgetEvents([WidgetEventRecord(mxUserGUID: "USR-a", type: "mx/load", known: true, metadata: "{}", receivedAt: Date())])
        try await store.deleteUser(subject: "alice")
        #expect(try await store.user(subject: "alice") == nil)
        #expect(try await store.members(mxUserGUID: "USR-a").isEmpty)
        #expect(try await store.events(mxUserGUID: "USR-a", after: 0, limit: 10).isEmpty)
        #expect(try await store.user(subject: "bob") != nil)
        #expect(try await store.members(mxUserGUID: "USR-b").count == 1)
        #expect(try await store.prune(widgetEventsBefore: .distantFuture, eventsBefore: .distantPast) == 0, "alice's widget events went with her")
    }

    @Test("pruning removes what is past retention and keeps the rest")
    func prune() async throws {
        let store = try await makeStore()
        let old = Date(timeIntervalSinceNow: -86_400 * 40)
        try await store.recordWidgetEvents([
            WidgetEventRecord(mxUserGUID: "USR-a", type: "mx/load", known: true, metadata: "{}", receivedAt: old),
            WidgetEventRecord(mxUserGUID: "USR-a", type: "mx/ping", known: true, metadata: "{}", receivedAt: Date()),
        ])
        _ = try await store.saveMember(member("MBR-1"), events: [NewEvent(kind: "member.updated", payload: "{}")])
        #expect(
            try await store.prune(widgetEventsBefore: Date(timeIntervalSinceNow: -86_400 * 30), eventsBefore: Date(timeIntervalSinceNow: -3600)) == 1
        )
        #expect(try await store.prune(widgetEventsBefore: Date(timeIntervalSinceNow: -86_400 * 30), eventsBefore: Date(timeIntervalSinceNow: 1)) == 1)
    }

    @Test("the time of the last whole member sync is kept on the user")
    func membersSynced() async throws {
        let store = try await makeStore()
        #expect(try await store.user(subject: "alice")?.membersSyncedAt == nil)
        try await store.markMembersSynced(mxUserGUID: "USR-a", at: Date(timeIntervalSince1970: 1_800_000_000))
        #expect(try await store.user(subject: "alice")?.membersSyncedAt == Date(timeIntervalSince1970: 1_800_000_000))
    }
}
