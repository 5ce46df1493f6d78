import AsyncHTTPClient
import Foundation
import GRDB
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import Synchronization
import Testing

@testable import Broker

@Suite("Webhook durability across a crash", .serialized)
struct WebhookDurabilityTests {
    @Test("a burst of webhooks, SIGKILL mid-burst, restart: every acknowledged delivery is kept and takes effect once", .timeLimit(.minutes(3)))
    func crashMidBurst() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: BrokerProcess.executable.path), "build connect-broker first")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("durability-\(UUID().uuidString)").path
        let environment = [
            "DATA_DIR": directory, "JWT_HS256_SECRET": testSecret, "ADMIN_TOKEN": adminToken, "SANDBOX_CONNECT_SECONDS": "0",
            "WEBHOOK_CONCURRENCY": "1", "WEBHOOK_LEASE_SECONDS": "1", "LOG_LEVEL": "notice",
            "MX_WEBHOOK_USERNAME": "mx", "MX_WEBHOOK_PASSWORD": "hook-secret",
        ]
        let first = try await BrokerProcess(environment: environment)
        let token = try await DevTokenSigner(secret: testSecret).token(subject: "alice", lifetime: 600)
        let (minted, _) = try await httpRequest(
            "\(first.baseURL)/v1/widget_urls",
            method: .POST,
            headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")],
            body: "{}"
        )
        #expect(minted == 200)
        let users = try #require(
            try await httpRequest("\(first.baseURL)/sandbox/mx/users", headers: sandboxAPIHeaders).json["users"] as? [[String: Any]]
        )
        let user = try #require(users.first?["guid"] as? String)

        let memberCount = 60
        var members: [String] = []
        for _ in 0..<memberCount {
            members.append(try await createSandboxMember(baseURL: first.baseURL, apiPath: "/sandbox/mx", user: user))
        }

        let acknowledged = Locked<Set<String>>([])
        let hook = ("Authorization", "Basic " + Data("mx:hook-secret".utf8).base64EncodedString())
        let baseURL = first.baseURL
        let burst = members
        await withTaskGroup(of: Void.self) { group in
            for (index, member) in burst.enumerated() {
                group.addTask {
                    try? await Task.sleep(for: .milliseconds(index * 4))
                    let body = dataWebhook(type: "BALANCE", user: user, member: member, completedAt: 1_800_000_000)
                    let answer = try? await httpRequest(
                        "\(baseURL)/v1/webhooks/mx",
                        method: .POST,
                        headers: [hook, ("Content-Type", "application/json")],
                        body: body
                    )
                    if answer?.0 == 204 { _ = acknowledged.withLock { $0.insert(member) } }
                }
            }
            group.addTask {
                try? await Task.sleep(for: .milliseconds(memberCount * 2))
                first.kill()
            }
        }
        let acked = acknowledged.withLock { $0 }
        #expect(!acked.isEmpty && acked.count < memberCount, "the kill landed mid-burst (\(acked.count) of \(memberCount) acknowledged)")

        let second = try await BrokerProcess(environment: environment)
        defer { second.stop() }
        let deadline = ContinuousClock.now + .seconds(60)
        var settled = false
        while ContinuousClock.now < deadline, !settled {
            let counts =
                try await httpRequest("\(second.baseURL)/v1/admin/webhooks/counts", headers: [("Authorization", "Bearer \(adminToken)")])
                .json["counts"] as? [String: Int] ?? [:]
            settled = counts["pending"] == 0 && counts["processing"] == 0
            if !settled { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(settled, "the restarted broker finished the inbox")

        let database = try DatabaseQueue(path: (directory as NSString).appendingPathComponent("broker.sqlite"))
        let (stored, statuses, announcements) = try await database.read { db in
            let stored = Set(try String.fetchAll(db, sql: "SELECT member_guid FROM webhook_inbox WHERE type = 'BALANCE'"))
            let statuses = Set(try String.fetchAll(db, sql: "SELECT DISTINCT status FROM webhook_inbox"))
            let payloads = try String.fetchAll(db, sql: "SELECT payload FROM events WHERE kind = 'balances.updated'")
            return (stored, statuses, payloads)
        }
        #expect(acked.isSubset(of: stored), "every acknowledged delivery is in the inbox")
        #expect(statuses == ["processed"])
        let announced = announcements.compactMap { payload -> String? in
            guard let object = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any],
                (object["webhook"] as? [String: Any])?["type"] as? String == "BALANCE"
            else { return nil }
            return object["member_guid"] as? String
        }
        #expect(Set(announced) == stored, "each stored delivery took effect")
        #expect(announced.count == Set(announced).count, "and took effect once")
    }
}
