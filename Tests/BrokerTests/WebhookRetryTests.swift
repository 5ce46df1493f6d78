import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

@testable import Broker

@Suite("Webhook retries, dead letters and the admin API")
struct WebhookRetryTests {
    /// A broker whose MX knows one user and answers member reads with `memberStatus` codes in turn
    /// (the MX client does not retry, so each status is one inbox attempt).
    private func withFlakyMX(
        memberStatuses: [Int],
        extra: [String: String] = [:],
        _ body: @Sendable @escaping (BrokerClient) async throws -> Void
    ) async throws {
        let router = Router()
        let calls = Mutex(0)
        let json: @Sendable (String) -> Response = { text in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        router.post("users") { _, _ in json(#"{"user":{"guid":"USR-stub","id":"cb_stub"}}"#) }
        router.post("users/USR-stub/widget_urls") { _, _ in
            json(#"{"widget_url":{"type":"connect_widget","url":"https://widgets.example/x","user_id":"cb_stub"}}"#)
        }
        router.get("users/USR-stub/members/MBR-1") { _, _ in
            let call = calls.withLock { count in
                defer { count += 1 }
                return count
            }
            let status = memberStatuses[min(call, memberStatuses.count - 1)]
            guard status == 200 else { return Response(status: .init(code: status)) }
            return json(
                #"{"member":{"guid":"MBR-1","user_guid":"USR-stub","connection_status":"CONNECTED","is_being_aggregated":false,"successfully_aggregated_at":"2025-01-01T00:00:03Z","aggregated_at":"2025-01-01T00:00:00Z"}}"#
            )
        }
        try await Application(router: router).test(.live) { mx async throws in
            var environment = sandboxEnvironment([
                "MX_BASE_URL": "http://127.0.0.1:\(try #require(mx.port))", "MX_CLIENT_ID": "client", "MX_API_KEY": "key",
                "MX_WEBHOOK_USERNAME": "mx", "MX_WEBHOOK_PASSWORD": "hook-secret", "ADMIN_TOKEN": adminToken,
                "WEBHOOK_MAX_ATTEMPTS": "3", "WEBHOOK_RETRY_BASE_SECONDS": "0.05", "WEBHOOK_RETRY_MAX_SECONDS": "0.1",
                "MX_RETRY_ATTEMPTS": "1",
            ])
            environment.merge(extra) { $1 }
            try await withBroker(environment) { broker async throws in
                _ = try await broker.mintWidgetURL(as: "alice")
                try await body(broker)
            }
        }
    }

    @Test("a failure is retried with backoff; the retry that succeeds processes the webhook")
    func retried() async throws {
        try await withFlakyMX(memberStatuses: [503, 500, 200]) { broker async throws in
            #expect(
                try await broker.deliver(dataWebhook(user: "USR-stub", member: "MBR-1", completedAt: 5), credentials: "mx:hook-secret").status
                    == .noContent
            )
            let counts = try await broker.settledInbox()
            #expect(counts["processed"] == 1)
            let entry = try #require(try await broker.inbox().first)
            #expect(entry["attempts"] as? Int == 3)
            let members = try await broker.send(.get, "/v1/members/MBR-1", as: "alice")
            #expect(members.status == .ok)
        }
    }

    @Test("after the configured attempts a webhook is dead-lettered; a replay gives it another round")
    func deadLetters() async throws {
        try await withFlakyMX(memberStatuses: [500, 500, 500, 200]) { broker async throws in
            _ = try await broker.deliver(dataWebhook(user: "USR-stub", member: "MBR-1", completedAt: 5), credentials: "mx:hook-secret")
            let counts = try await broker.settledInbox()
            #expect(counts["dead"] == 1)
            let dead = try #require(try await broker.inbox("dead").first)
            #expect(dead["attempts"] as? Int == 3)
            #expect(dead["note"] as? String == "mx_server_error (500)")
            let id = try #require(dead["id"] as? Int)

            let detail = try await broker.admin(.get, "/webhooks/\(id)").json["webhook"] as? [String: Any]
            #expect((detail?["body"] as? [String: Any])?["type"] as? String == "AGGREGATION")

            #expect(try await broker.admin(.post, "/webhooks/\(id)/replay").status == .accepted)
            #expect(try await broker.settledInbox()["processed"] == 1)
            #expect(try await broker.admin(.post, "/webhooks/999999/replay").status == .notFound)
        }
    }

    @Test("the admin API needs its token, filters by status and pages with a total")
    func adminAPI() async throws {
        try await withBroker(sandboxEnvironment(["ADMIN_TOKEN": adminToken])) { broker async throws in
            for index in 0..<5 {
                _ = try await broker.deliver(dataWebhook(user: "USR-none", member: "MBR-\(index)", completedAt: index))
            }
            try await broker.settledInbox()
            let page = try await broker.admin(.get, "/webhooks?status=ignored&page=2&records_per_page=2").json
            #expect(page["total"] as? Int == 5)
            #expect((page["webhooks"] as? [Any])?.count == 2)
            #expect((page["pagination"] as? [String: Any])?["total_pages"] as? Int == 3)
            #expect(try await broker.admin(.get, "/webhooks?status=processed").json["total"] as? Int == 0)
            #expect(try await broker.admin(.get, "/webhooks?status=lost").errorCode == "invalid_status")
            #expect(try await broker.admin(.get, "/webhooks/abc").status == .notFound)

            let noToken = try await broker.client.execute(uri: "/v1/admin/webhooks", method: .get) { $0 }
            #expect(noToken.status == .unauthorized)
            let wrong = try await broker.client.execute(uri: "/v1/admin/webhooks", method: .get, headers: [.authorization: "Bearer nope"]) { $0 }
            #expect(wrong.status == .forbidden)
        }
    }

    @Test("without ADMIN_TOKEN there is no admin API")
    func adminDisabled() async throws {
        try await withBroker { broker async throws in
            #expect(try await broker.admin(.get, "/webhooks").status == .notFound)
        }
    }
}
