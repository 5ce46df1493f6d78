import BrokerStore
import Foundation
import Testing

/// One suite, run against every store: what SQLite does, PostgreSQL must do too.
@Suite("Store conformance")
struct StoreConformanceTests {
    private static func member(_ guid: String, user: String = "USR-a", status: String = "CONNECTED") -> MemberRecord {
        MemberRecord(
            guid: guid,
            mxUserGUID: user,
            institutionCode: "mxbank",
            name: "MX Bank",
            connectionStatus: status,
            isBeingAggregated: false,
            aggregatedAt: "2025-01-01T00:00:00Z",
            successfullyAggregatedAt: "2025-01-01T00:00:03Z",
            refreshedAt: Date(timeIntervalSince1970: 1_700_000_000),
            lastCompletedAt: 1_700_000_003
        )
    }

    private static func withUsers(_ kind: StoreKind, _ body: @Sendable (any Store) async throws -> Void) async throws {
        try await withStore(kind) { store in
            for (subject, guid) in [("alice", "USR-a"), ("bob", "USR-b")] {
                _ = try await store.insertUser(
                    StoredUser(subject: subject, mxUserID: "cb_\(subject)", mxUserGUID: guid, createdAt: Date(timeIntervalSince1970: 1_700_000_000))
                )
            }
            try await body(store)
        }
    }

    @Test("is ready once migrated; migrating again is harmless", arguments: StoreKind.available)
    func readiness(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.migrate()
            try await store.checkReady()
        }
    }

    @Test("a user mapping is stored once: a second insert for the subject keeps the first", arguments: StoreKind.available)
    func userMapping(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            #expect(try await store.user(subject: "alice") == nil)
            let first = StoredUser(subject: "alice", mxUserID: "cb_1", mxUserGUID: "USR-1", createdAt: Date(timeIntervalSince1970: 1_700_000_000))
            #expect(try await store.insertUser(first) == first)
            let second = StoredUser(subject: "alice", mxUserID: "cb_1", mxUserGUID: "USR-2", createdAt: Date())
            #expect(try await store.insertUser(second) == first)
            #expect(try await store.user(mxUserGUID: "USR-1") == first)
            #expect(try await store.user(mxUserGUID: "USR-2") == nil)
            try await store.markMembersSynced(mxUserGUID: "USR-1", at: Date(timeIntervalSince1970: 1_800_000_000))
            #expect(try await store.user(subject: "alice")?.membersSyncedAt == Date(timeIntervalSince1970: 1_800_000_000))
            #expect(try await store.user(subject: "alice")?.profileDigest == nil)
            try await store.setProfileDigest("digest-1", mxUserGUID: "USR-1")
            #expect(try await store.user(subject: "alice")?.profileDigest == "digest-1")
            #expect(try await store.user(mxUserGUID: "USR-1")?.profileDigest == "digest-1")
        }
    }

    @Test("concurrent inserts for one subject all answer the same mapping", arguments: StoreKind.available)
    func concurrentInserts(kind: StoreKind) async throws {
        try await withStore(kind) { store in
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

    @Test("a member and its events are stored together; events are numbered and read per user", arguments: StoreKind.available)
    func membersAndEvents(kind: StoreKind) async throws {
        try await Self.withUsers(kind) { store in
            let first = try await store.saveMember(Self.member("MBR-1"), events: [NewEvent(kind: "member.updated", payload: "{}")])
            let other = try await store.saveMember(
                Self.member("MBR-2", user: "USR-b"),
                events: [NewEvent(kind: "member.updated", payload: "{\"b\":1}")]
            )
            let second = try await store.saveMember(
                Self.member("MBR-1", status: "CHALLENGED"),
                events: [NewEvent(kind: "member.updated", payload: "{\"x\":1}"), NewEvent(kind: "connection.action_required", payload: "{}")]
            )
            #expect(other[0].sequence > first[0].sequence && other[0].sequence < second[0].sequence)
            #expect(second[0].sequence < second[1].sequence)

            let stored = try #require(try await store.member(guid: "MBR-1", mxUserGUID: "USR-a"))
            #expect(stored == Self.member("MBR-1", status: "CHALLENGED"))
            #expect(try await store.member(guid: "MBR-1", mxUserGUID: "USR-b") == nil, "scoped to the user")
            #expect(try await store.members(mxUserGUID: "USR-a").map(\.guid) == ["MBR-1"])

            let all = try await store.events(mxUserGUID: "USR-a", after: 0, limit: 100)
            #expect(all.map(\.kind) == ["member.updated", "member.updated", "connection.action_required"])
            #expect(try await store.events(mxUserGUID: "USR-a", after: all[0].sequence, limit: 100) == Array(all.dropFirst()))
            #expect(try await store.events(mxUserGUID: "USR-a", after: 0, limit: 2).count == 2)
            #expect(try await store.lastEventSequence(mxUserGUID: "USR-a") == all.last?.sequence)
            #expect(try await store.lastEventSequence(mxUserGUID: "USR-nobody") == 0)
        }
    }

    @Test("a member is never written under another user, after its deletion, or for a user not stored", arguments: StoreKind.available)
    func memberGuards(kind: StoreKind) async throws {
        try await Self.withUsers(kind) { store in
            _ = try await store.saveMember(Self.member("MBR-1"), events: [])
            #expect(
                try await store.saveMember(Self.member("MBR-1", user: "USR-b", status: "DENIED"), events: [NewEvent(kind: "x", payload: "{}")])
                    .isEmpty
            )
            #expect(try await store.member(guid: "MBR-1", mxUserGUID: "USR-a")?.connectionStatus == "CONNECTED")

            let gone = try await store.deleteMember(guid: "MBR-1", mxUserGUID: "USR-a", events: [NewEvent(kind: "member.deleted", payload: "{}")])
            #expect(gone?.map(\.kind) == ["member.deleted"])
            #expect(
                try await store.deleteMember(guid: "MBR-1", mxUserGUID: "USR-a", events: [NewEvent(kind: "member.deleted", payload: "{}")]) == nil
            )
            #expect(try await store.saveMember(Self.member("MBR-1"), events: [NewEvent(kind: "member.updated", payload: "{}")]).isEmpty)
            #expect(try await store.member(guid: "MBR-1", mxUserGUID: "USR-a") == nil)
            #expect(
                try await store.saveMember(Self.member("MBR-9", user: "USR-gone"), events: [NewEvent(kind: "member.updated", payload: "{}")]).isEmpty
            )
            #expect(try await store.events(mxUserGUID: "USR-a", after: 0, limit: 10).map(\.kind) == ["member.deleted"])
        }
    }

    @Test("a tombstone is its user's: another user's deletion of a guid leaves the owner's member updating", arguments: StoreKind.available)
    func tombstonesPerUser(kind: StoreKind) async throws {
        try await Self.withUsers(kind) { store in
            _ = try await store.saveMember(Self.member("MBR-1"), events: [])
            #expect(
                try await store.deleteMember(guid: "MBR-1", mxUserGUID: "USR-b", events: [NewEvent(kind: "member.deleted", payload: "{}")]) == nil
            )
            #expect(try await store.deleteMember(guid: "MBR-2", mxUserGUID: "USR-b", events: []) == nil)
            let updated = try await store.saveMember(
                Self.member("MBR-1", status: "DENIED"),
                events: [NewEvent(kind: "member.updated", payload: "{}")]
            )
            #expect(updated.map(\.kind) == ["member.updated"])
            #expect(try await store.member(guid: "MBR-1", mxUserGUID: "USR-a")?.connectionStatus == "DENIED")
            _ = try await store.saveMember(Self.member("MBR-2"), events: [])
            #expect(try await store.member(guid: "MBR-2", mxUserGUID: "USR-a") != nil)
            #expect(try await store.events(mxUserGUID: "USR-b", after: 0, limit: 10).isEmpty)
        }
    }

    @Test("concurrent writers of one member decide against each other's writes: a change is announced once", arguments: StoreKind.available)
    func concurrentUpdates(kind: StoreKind) async throws {
        try await Self.withUsers(kind) { store in
            _ = try await store.saveMember(Self.member("MBR-1"), events: [])
            var done = Self.member("MBR-1")
            done.lastCompletedAt = 1_900_000_000
            let finished = done
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<12 {
                    group.addTask {
                        _ = try await store.updateMember(guid: "MBR-1", mxUserGUID: "USR-a") { previous in
                            Thread.sleep(forTimeInterval: 0.02)
                            return previous?.lastCompletedAt == finished.lastCompletedAt
                                ? (finished, []) : (finished, [NewEvent(kind: "aggregation.completed", payload: "{}")])
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await store.events(mxUserGUID: "USR-a", after: 0, limit: 100).count == 1)
            let (record, events) = try await store.updateMember(guid: "MBR-1", mxUserGUID: "USR-a") { previous in (previous ?? finished, []) }
            #expect(record == finished)
            #expect(events.isEmpty)
        }
    }

    @Test("deleting a user removes the mapping, members, events and relayed widget events", arguments: StoreKind.available)
    func deleteUser(kind: StoreKind) async throws {
        try await Self.withUsers(kind) { store in
            _ = try await store.saveMember(Self.member("MBR-1"), events: [NewEvent(kind: "member.updated", payload: "{}")])
            _ = try await store.saveMember(Self.member("MBR-2", user: "USR-b"), events: [NewEvent(kind: "member.updated", payload: "{}")])
            try await store.recordWidgetEvents([
                WidgetEventRecord(mxUserGUID: "USR-a", type: "mx/load", known: true, metadata: "{}", receivedAt: Date())
            ])
            try await store.deleteUser(subject: "alice")
            #expect(try await store.user(subject: "alice") == nil)
            #expect(try await store.members(mxUserGUID: "USR-a").isEmpty)
            #expect(try await store.events(mxUserGUID: "USR-a", after: 0, limit: 10).isEmpty)
            #expect(try await store.user(subject: "bob") != nil)
            #expect(try await store.members(mxUserGUID: "USR-b").count == 1)
            #expect(try await store.prune(widgetEventsBefore: .distantFuture, eventsBefore: .distantPast) == 0, "alice's widget events went with her")
            try await store.deleteUser(subject: "nobody")
        }
    }

    @Test("pruning removes what is past retention and keeps the rest", arguments: StoreKind.available)
    func prune(kind: StoreKind) async throws {
        try await Self.withUsers(kind) { store in
            try await store.recordWidgetEvents([
                WidgetEventRecord(
                    mxUserGUID: "USR-a",
                    type: "mx/load",
                    known: true,
                    metadata: "{}",
                    receivedAt: Date(timeIntervalSinceNow: -86_400 * 40)
                ),
                WidgetEventRecord(mxUserGUID: "USR-a", type: "mx/ping", known: true, metadata: "{}", receivedAt: Date()),
            ])
            _ = try await store.saveMember(Self.member("MBR-1"), events: [NewEvent(kind: "member.updated", payload: "{}")])
            #expect(
                try await store.prune(widgetEventsBefore: Date(timeIntervalSinceNow: -86_400 * 30), eventsBefore: Date(timeIntervalSinceNow: -3600))
                    == 1
            )
            #expect(
                try await store.prune(widgetEventsBefore: Date(timeIntervalSinceNow: -86_400 * 30), eventsBefore: Date(timeIntervalSinceNow: 1)) == 1
            )
        }
    }

    private static func delivery(_ key: String, at date: Date = Date()) -> WebhookDelivery {
        WebhookDelivery(
            dedupKey: key,
            type: "AGGREGATION",
            action: "member_data_updated",
            mxUserGUID: "USR-a",
            memberGUID: "MBR-1",
            body: "{\"k\":\"\(key)\"}",
            receivedAt: date
        )
    }

    @Test("the inbox: duplicates counted, due deliveries leased once, retries, outcomes, replay, paging", arguments: StoreKind.available)
    func inbox(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let now = Date()
            guard case .accepted(let first) = try await store.enqueueWebhook(Self.delivery("a", at: now)) else { throw StoreTestFailure() }
            #expect(try await store.enqueueWebhook(Self.delivery("a", at: now)) == .duplicate(first))
            #expect(try await store.enqueueWebhook(Self.delivery("a", at: now)) == .duplicate(first))
            guard case .accepted(let second) = try await store.enqueueWebhook(Self.delivery("b", at: now)) else { throw StoreTestFailure() }

            let claimed = try await store.claimWebhooks(limit: 10, lease: 60, now: now)
            #expect(claimed.map(\.id) == [first, second])
            #expect(claimed.allSatisfy { $0.status == .processing && $0.attempts == 1 })
            #expect(claimed.first?.duplicates == 2)
            #expect(claimed.first?.delivery == Self.delivery("a", at: Date(timeIntervalSince1970: now.timeIntervalSince1970)))
            #expect(try await store.claimWebhooks(limit: 10, lease: 60, now: now).isEmpty, "leased rows are not claimed again")

            try await store.retryWebhook(id: first, error: "mx_timeout", at: now.addingTimeInterval(30))
            #expect(try await store.claimWebhooks(limit: 10, lease: 60, now: now.addingTimeInterval(10)).isEmpty, "not due yet")
            let retried = try await store.claimWebhooks(limit: 10, lease: 60, now: now.addingTimeInterval(31))
            #expect(retried.map(\.id) == [first])
            #expect(retried.first?.attempts == 2)
            #expect(retried.first?.note == "mx_timeout")

            let expired = try await store.claimWebhooks(limit: 10, lease: 60, now: now.addingTimeInterval(61))
            #expect(expired.map(\.id) == [second], "a lease that ran out lets another worker take over")

            try await store.finishWebhook(id: first, status: .processed, note: nil, now: now)
            try await store.finishWebhook(id: second, status: .dead, note: "mx_unavailable", now: now)
            #expect(try await store.webhookCounts() == [.pending: 0, .processing: 0, .processed: 1, .ignored: 0, .dead: 1])
            #expect(try await store.webhook(id: second)?.status == .dead)
            #expect(try await store.webhook(id: 999_999) == nil)

            #expect(try await store.replayWebhook(id: second, now: now))
            let replayed = try #require(try await store.webhook(id: second))
            #expect(replayed.status == .pending && replayed.attempts == 0)
            #expect(try await store.replayWebhook(id: 999_999, now: now) == false)

            for index in 0..<5 { _ = try await store.enqueueWebhook(Self.delivery("more-\(index)", at: now)) }
            let (page, total) = try await store.webhooks(status: .pending, page: 2, perPage: 2)
            #expect(total == 6)
            #expect(page.count == 2)
            #expect(try await store.webhooks(status: nil, page: 1, perPage: 100).total == 7)
        }
    }

    @Test("concurrent deliveries are each stored once: one accepted per key, the rest counted as duplicates", arguments: StoreKind.available)
    func concurrentDeliveries(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let results = try await withThrowingTaskGroup(of: (String, EnqueueResult).self) { group in
                for index in 0..<300 {
                    let key = "burst-\(index % 100)"
                    group.addTask { (key, try await store.enqueueWebhook(Self.delivery(key))) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let accepted = results.compactMap { key, result in if case .accepted(let id) = result { (key, id) } else { nil } }
            #expect(Set(accepted.map(\.0)).count == 100 && accepted.count == 100)
            let idByKey = Dictionary(uniqueKeysWithValues: accepted)
            for (key, result) in results {
                if case .duplicate(let id) = result { #expect(id == idByKey[key]) }
            }
            let claimed = try await store.claimWebhooks(limit: 500, lease: 60, now: Date())
            #expect(claimed.count == 100)
            #expect(claimed.allSatisfy { $0.duplicates == 2 })
        }
    }

    @Test("a claim takes the earliest due first, expired leases and pending deliveries alike, up to its limit", arguments: StoreKind.available)
    func claimOrder(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let now = Date()
            guard case .accepted(let leased) = try await store.enqueueWebhook(Self.delivery("leased", at: now)) else { throw StoreTestFailure() }
            #expect(try await store.claimWebhooks(limit: 1, lease: 60, now: now).map(\.id) == [leased])
            var pending: [Int64] = []
            for index in 0..<3 {
                let delivery = Self.delivery("pending-\(index)", at: now.addingTimeInterval(Double(index + 1)))
                guard case .accepted(let id) = try await store.enqueueWebhook(delivery) else { throw StoreTestFailure() }
                pending.append(id)
            }
            let later = now.addingTimeInterval(61)
            #expect(try await store.claimWebhooks(limit: 2, lease: 60, now: later).map(\.id) == [leased, pending[0]])
            #expect(try await store.claimWebhooks(limit: 5, lease: 60, now: later).map(\.id) == [pending[1], pending[2]])
        }
    }

    @Test("concurrent claims never hand one delivery to two workers", arguments: StoreKind.available)
    func concurrentClaims(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            for index in 0..<40 { _ = try await store.enqueueWebhook(Self.delivery("k\(index)")) }
            let claimed = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        var mine: [Int64] = []
                        while true {
                            let batch = try await store.claimWebhooks(limit: 3, lease: 60, now: Date())
                            if batch.isEmpty { return mine }
                            mine += batch.map(\.id)
                        }
                    }
                }
                return try await group.reduce(into: [Int64]()) { $0 += $1 }
            }
            #expect(claimed.count == 40)
            #expect(Set(claimed).count == 40)
        }
    }
}

@Suite("PostgreSQL half of the conformance suite")
struct PostgresAvailabilityTests {
    @Test(
        "runs where CI asks for it (REQUIRE_POSTGRES_TESTS) or POSTGRES_TEST_URL is set: the URL is given and its server answers",
        .enabled(
            if: StoreKind.postgresURL != nil || StoreKind.postgresRequired,
            "neither REQUIRE_POSTGRES_TESTS nor POSTGRES_TEST_URL is set: the PostgreSQL half of the store suite is skipped"
        )
    )
    func postgresAnswers() async throws {
        _ = try #require(StoreKind.postgresURL, "REQUIRE_POSTGRES_TESTS is set, so POSTGRES_TEST_URL must name a server")
        try await withStore(.postgres) { store in
            try await store.checkReady()
        }
    }
}

struct StoreTestFailure: Error {}

extension StoreConformanceTests {
    private static func audit(_ seconds: Double, user: String, member: String?, caller: String = "user") -> AuditEntry {
        AuditEntry(
            at: Date(timeIntervalSince1970: 1_700_000_000 + seconds),
            route: "GET /v1/members/{member_guid}/account_numbers",
            memberGUID: member,
            accountGUID: member == nil ? "ACT-1" : nil,
            microdepositGUID: member == nil ? "MIC-1" : nil,
            userHash: user,
            caller: caller,
            requestID: "req-\(seconds)"
        )
    }

    @Test(
        "the audit log keeps every read, newest first, filtered and paged; it outlives the user and is pruned by age",
        arguments: StoreKind.available
    )
    func auditLog(kind: StoreKind) async throws {
        try await Self.withUsers(kind) { store in
            let entries = [
                Self.audit(1, user: "hash-a", member: "MBR-1"), Self.audit(2, user: "hash-b", member: "MBR-2", caller: "backend:app"),
                Self.audit(3, user: "hash-a", member: nil), Self.audit(4, user: "hash-a", member: "MBR-1", caller: "backend:app"),
            ]
            for entry in entries { try await store.recordAudit(entry) }
            let all = try await store.auditEntries(matching: AuditFilter(), page: 1, perPage: 10)
            #expect(all.total == 4)
            #expect(all.items.map(\.entry) == entries.reversed(), "newest first, every field kept")
            #expect(Set(all.items.map(\.id)).count == 4)

            let alice = try await store.auditEntries(matching: AuditFilter(userHash: "hash-a"), page: 1, perPage: 2)
            #expect(alice.total == 3)
            #expect(alice.items.map(\.entry.requestID) == ["req-4.0", "req-3.0"])
            let secondPage = try await store.auditEntries(matching: AuditFilter(userHash: "hash-a"), page: 2, perPage: 2)
            #expect(secondPage.items.map(\.entry.requestID) == ["req-1.0"])
            let member = try await store.auditEntries(matching: AuditFilter(memberGUID: "MBR-1"), page: 1, perPage: 10)
            #expect(member.items.map(\.entry.requestID) == ["req-4.0", "req-1.0"])
            let window = AuditFilter(from: Date(timeIntervalSince1970: 1_700_000_002), until: Date(timeIntervalSince1970: 1_700_000_004))
            #expect(try await store.auditEntries(matching: window, page: 1, perPage: 10).items.map(\.entry.requestID) == ["req-3.0", "req-2.0"])

            try await store.deleteUser(subject: "alice")
            #expect(try await store.auditEntries(matching: AuditFilter(), page: 1, perPage: 10).total == 4, "an erasure keeps who read what")
            #expect(try await store.pruneAudit(before: Date(timeIntervalSince1970: 1_700_000_003)) == 2)
            #expect(
                try await store.auditEntries(matching: AuditFilter(), page: 1, perPage: 10).items.map(\.entry.requestID) == ["req-4.0", "req-3.0"]
            )
        }
    }
}

extension StoreConformanceTests {
    @Test("events that announce no member's change are appended to a stored user's stream only", arguments: StoreKind.available)
    func appendedEvents(kind: StoreKind) async throws {
        try await Self.withUsers(kind) { store in
            let appended = try await store.appendEvents(
                [NewEvent(kind: "micro_deposit.updated", payload: #"{"status":"DEPOSITED"}"#)],
                mxUserGUID: "USR-a"
            )
            #expect(appended.map(\.kind) == ["micro_deposit.updated"])
            #expect(try await store.events(mxUserGUID: "USR-a", after: 0, limit: 10).map(\.sequence) == appended.map(\.sequence))
            #expect(try await store.events(mxUserGUID: "USR-b", after: 0, limit: 10).isEmpty)
            #expect(try await store.appendEvents([NewEvent(kind: "micro_deposit.updated", payload: "{}")], mxUserGUID: "USR-gone").isEmpty)
            #expect(try await store.lastEventSequence(mxUserGUID: "USR-gone") == 0)
        }
    }
}
