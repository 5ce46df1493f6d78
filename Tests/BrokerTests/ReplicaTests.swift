import Foundation
import NIOHTTP1
import Testing

@testable import Broker

@Suite("Several replicas on one PostgreSQL", .serialized)
struct ReplicaTests {
    @Test(
        "two broker processes share one database and one MX: one user, events across replicas, work taken over after a crash",
        .enabled(if: postgresTestURL != nil, "POSTGRES_TEST_URL is not set: the multi-process replica test is skipped"),
        .timeLimit(.minutes(4))
    )
    func replicas() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: BrokerProcess.executable.path), "build connect-broker first")
        try await withTestDatabase { databaseURL in
            let sandbox = try await BrokerProcess("sandbox", environment: ["SANDBOX_CONNECT_SECONDS": "0"])
            defer { sandbox.stop() }
            func replica() async throws -> BrokerProcess {
                try await BrokerProcess(environment: [
                    "DATABASE_URL": databaseURL, "MX_BASE_URL": sandbox.baseURL, "MX_CLIENT_ID": "sandbox-client-id", "MX_API_KEY": "sandbox-api-key",
                    "JWT_HS256_SECRET": testSecret, "USER_ID_SECRET": "one-secret-for-every-replica", "MX_WEBHOOK_USERNAME": "mx",
                    "MX_WEBHOOK_PASSWORD": "hook-secret", "ADMIN_TOKEN": adminToken, "WEBHOOK_LEASE_SECONDS": "1", "WEBHOOK_CONCURRENCY": "1",
                    "DATA_DIR": FileManager.default.temporaryDirectory.appendingPathComponent("replica-\(UUID().uuidString)").path,
                    "LOG_LEVEL": "notice",
                ])
            }
            let a = try await replica()
            let b = try await replica()
            defer { b.stop() }
            let token = try await DevTokenSigner(secret: testSecret).token(subject: "carol", lifetime: 600)
            let bearer = ("Authorization", "Bearer \(token)")

            let userIDs = try await withThrowingTaskGroup(of: String?.self) { group in
                for index in 0..<20 {
                    let replica = index.isMultiple(of: 2) ? a : b
                    group.addTask {
                        let (status, json) = try await httpRequest(
                            "\(replica.baseURL)/v1/widget_urls",
                            method: .POST,
                            headers: [bearer, ("Content-Type", "application/json")],
                            body: "{}"
                        )
                        return status == 200 ? (json["widget_url"] as? [String: Any])?["user_id"] as? String : nil
                    }
                }
                return try await group.reduce(into: [String?]()) { $0.append($1) }
            }
            #expect(userIDs.allSatisfy { $0 != nil } && Set(userIDs).count == 1, "every mint succeeded, for one user id")
            let users = try #require(try await httpRequest("\(sandbox.baseURL)/users", headers: sandboxAPIHeaders).json["users"] as? [[String: Any]])
            #expect(users.count == 1, "one MX user for concurrent first mints on two replicas")
            let user = try #require(users.first?["guid"] as? String)

            let member = try await createSandboxMember(baseURL: sandbox.baseURL, apiPath: "", user: user)
            let stream = try await EventStreamClient.open("\(b.baseURL)/v1/events", headers: [bearer])
            try await stream.wait { $0.contains { $0.comment == "connected" } }
            let hook = ("Authorization", "Basic " + Data("mx:hook-secret".utf8).base64EncodedString())
            let sent = ContinuousClock.now
            let (delivered, _) = try await httpRequest(
                "\(a.baseURL)/v1/webhooks/mx",
                method: .POST,
                headers: [hook, ("Content-Type", "application/json")],
                body: dataWebhook(user: user, member: member, completedAt: Int(Date().timeIntervalSince1970))
            )
            #expect(delivered == 204)
            try await stream.wait(timeout: .seconds(5)) { $0.contains { $0.event == "aggregation.completed" } }
            let elapsed = ContinuousClock.now - sent
            #expect(elapsed < .seconds(1), "a webhook to A reached a stream on B in \(elapsed)")
            stream.close()

            var members: [String] = []
            for _ in 0..<30 {
                members.append(try await createSandboxMember(baseURL: sandbox.baseURL, apiPath: "", user: user))
            }
            let acknowledged = Locked<Set<String>>([])
            let burst = members
            await withTaskGroup(of: Void.self) { group in
                for (index, guid) in burst.enumerated() {
                    group.addTask {
                        try? await Task.sleep(for: .milliseconds(index * 4))
                        let answer = try? await httpRequest(
                            "\(a.baseURL)/v1/webhooks/mx",
                            method: .POST,
                            headers: [hook, ("Content-Type", "application/json")],
                            body: dataWebhook(type: "BALANCE", user: user, member: guid, completedAt: 1_800_000_000)
                        )
                        if answer?.status == 204 { _ = acknowledged.withLock { $0.insert(guid) } }
                    }
                }
                group.addTask {
                    try? await Task.sleep(for: .milliseconds(80))
                    a.kill()
                }
            }
            let acked = acknowledged.withLock { $0 }
            #expect(!acked.isEmpty && acked.count < burst.count, "A died mid-burst (\(acked.count) of \(burst.count) acknowledged)")

            let deadline = ContinuousClock.now + .seconds(60)
            var counts: [String: Int] = [:]
            while ContinuousClock.now < deadline {
                counts =
                    try await httpRequest("\(b.baseURL)/v1/admin/webhooks/counts", headers: [("Authorization", "Bearer \(adminToken)")]).json[
                        "counts"
                    ] as? [String: Int] ?? [:]
                if counts["pending"] == 0, counts["processing"] == 0 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(counts["pending"] == 0 && counts["processing"] == 0, "B finished what A left: \(counts)")
            let inbox =
                try await httpRequest(
                    "\(b.baseURL)/v1/admin/webhooks?records_per_page=1000",
                    headers: [("Authorization", "Bearer \(adminToken)")]
                ).json["webhooks"] as? [[String: Any]] ?? []
            let stored = Set(inbox.filter { $0["type"] as? String == "BALANCE" }.compactMap { $0["member_guid"] as? String })
            #expect(acked.isSubset(of: stored), "nothing acknowledged was lost")

            let replay = try await EventStreamClient.open("\(b.baseURL)/v1/events?last_event_id=0", headers: [bearer])
            try await replay.wait { events in
                events.filter { $0.event == "balances.updated" && ($0.json["webhook"] as? [String: Any])?["type"] as? String == "BALANCE" }.count
                    >= stored.count
            }
            try await Task.sleep(for: .milliseconds(300))
            let announced = replay.events.filter { ($0.json["webhook"] as? [String: Any])?["type"] as? String == "BALANCE" }.compactMap {
                $0.json["member_guid"] as? String
            }
            replay.close()
            #expect(Set(announced) == stored, "every stored delivery took effect")
            #expect(announced.count == stored.count, "and took effect once")
        }
    }
}
