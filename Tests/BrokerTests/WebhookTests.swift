import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SandboxWidgetDriver
import Testing

@testable import Broker

let adminToken = "admin-token-0123456789"

extension BrokerClient {
    /// Delivers a webhook with `credentials` (user:password; the sandbox's by default).
    func deliver(
        _ json: String,
        credentials: String? = "sandbox-webhooks:sandbox-webhook-password",
        headers extra: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = extra
        headers[.contentType] = headers[.contentType] ?? "application/json; charset=utf-8"
        if let credentials { headers[.authorization] = "Basic " + Data(credentials.utf8).base64EncodedString() }
        return try await client.execute(uri: "/v1/webhooks/mx", method: .post, headers: headers, body: ByteBuffer(string: json)) { $0 }
    }

    /// A call to the admin API with the test admin token.
    func admin(_ method: HTTPRequest.Method, _ path: String) async throws -> TestResponse {
        try await client.execute(uri: "/v1/admin\(path)", method: method, headers: [.authorization: "Bearer \(adminToken)"]) { $0 }
    }

    /// Waits until no delivery is pending or being processed; returns the counts by status.
    @discardableResult
    func settledInbox(timeout: Duration = .seconds(10)) async throws -> [String: Int] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let counts = try await admin(.get, "/webhooks/counts").json["counts"] as? [String: Int] ?? [:]
            if counts["pending"] == 0, counts["processing"] == 0 { return counts }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the inbox did not settle")
        return [:]
    }

    /// The inbox entries of one status, newest first.
    func inbox(_ status: String = "all") async throws -> [[String: Any]] {
        try await admin(.get, "/webhooks?status=\(status)&records_per_page=1000").json["webhooks"] as? [[String: Any]] ?? []
    }
}

/// A data webhook as MX shapes it.
func dataWebhook(type: String = "AGGREGATION", user: String, member: String, completedAt: Int, extra: String = "") -> String {
    #"{"action":"member_data_updated","completed_at":\#(completedAt),"completed_on":"2025-01-01","is_background":false,"job_guid":"JOB-1","member_guid":"\#(member)","transactions_created_count":3,"transactions_updated_count":1,"type":"\#(type)","user_guid":"\#(user)","user_id":"cb_x"\#(extra)}"#
}

@Suite("POST /v1/webhooks/mx")
struct WebhookReceiverTests {
    /// A fresh broker environment with the admin API on.
    static func environment() -> [String: String] {
        sandboxEnvironment(["ADMIN_TOKEN": adminToken])
    }

    @Test("credentials: none → 401, wrong → 403, right → 204")
    func authentication() async throws {
        try await withBroker(Self.environment()) { broker async throws in
            let body = #"{"type":"AGGREGATION","member_guid":"MBR-1","user_guid":"USR-1","completed_at":1}"#
            let none = try await broker.deliver(body, credentials: nil)
            #expect(none.status == .unauthorized)
            #expect(none.errorCode == "missing_credentials")
            #expect(try await broker.deliver(body, credentials: "sandbox-webhooks:wrong").status == .forbidden)
            #expect(try await broker.deliver(body, credentials: "someone:sandbox-webhook-password").status == .forbidden)
            #expect(try await broker.deliver(body).status == .noContent)
        }
    }

    @Test("bodies must be JSON objects within the size limit")
    func malformed() async throws {
        try await withBroker(Self.environment()) { broker async throws in
            #expect(try await broker.deliver("{").errorCode == "malformed_json")
            #expect(try await broker.deliver("[1]").errorCode == "invalid_webhook")
            #expect(try await broker.deliver("{}", headers: [.contentType: "text/plain"]).status == .unsupportedMediaType)
            #expect(try await broker.deliver(#"{"pad":"\#(String(repeating: "x", count: 70_000))"}"#).status == .contentTooLarge)
            #expect(
                try await broker.admin(.get, "/webhooks/counts").json["counts"] as? [String: Int] == [
                    "pending": 0, "processing": 0, "processed": 0, "ignored": 0, "dead": 0,
                ]
            )
        }
    }

    @Test(
        "source allow-list, with X-Forwarded-For believed only from trusted proxies",
        arguments: [
            ("127.0.0.0/8", nil, nil, HTTPResponse.Status.noContent),
            ("10.0.0.0/8", nil, nil, .forbidden),
            ("10.0.0.0/8", "10.1.2.3", nil, .forbidden),
            ("10.0.0.0/8", "10.1.2.3", "127.0.0.1/32,::1/128", .noContent),
            ("10.0.0.0/8", "192.0.2.9, 10.1.2.3", "127.0.0.1/32,::1/128", .noContent),
            ("10.0.0.0/8", "10.1.2.3, 192.0.2.9", "127.0.0.1/32,::1/128", .forbidden),
        ]
    )
    func sources(allowed: String, forwardedFor: String?, proxies: String?, expected: HTTPResponse.Status) async throws {
        var settings = Self.environment()
        settings["MX_WEBHOOK_ALLOWED_CIDRS"] = allowed.contains("127.") ? "127.0.0.0/8,::1/128" : allowed
        settings["TRUSTED_PROXY_CIDRS"] = proxies
        let environment = settings
        try await withBroker(environment) { broker async throws in
            var headers: HTTPFields = [:]
            if let forwardedFor { headers[.xForwardedFor] = forwardedFor }
            let response = try await broker.deliver(#"{"type":"PING"}"#, headers: headers)
            #expect(response.status == expected)
        }
    }

    @Test("without configured credentials outside sandbox mode every delivery is refused")
    func notConfigured() async throws {
        let environment = sandboxEnvironment(["MX_BASE_URL": "http://127.0.0.1:9", "MX_CLIENT_ID": "c", "MX_API_KEY": "k"])
        try await withBroker(environment) { broker async throws in
            let response = try await broker.deliver(#"{"type":"PING"}"#)
            #expect(response.status == .serviceUnavailable)
            #expect(response.errorCode == "webhooks_not_configured")
        }
    }

    @Test("a redelivered webhook answers 204, is counted, and is processed once")
    func duplicates() async throws {
        try await withBroker(Self.environment()) { broker async throws in
            let body = dataWebhook(user: "USR-unknown", member: "MBR-1", completedAt: 1_700_000_000)
            for _ in 0..<3 {
                #expect(try await broker.deliver(body).status == .noContent)
            }
            let reordered =
                #"{"user_guid":"USR-unknown","type":"AGGREGATION","completed_at":1700000000,"member_guid":"MBR-1","action":"member_data_updated"}"#
            #expect(try await broker.deliver(reordered).status == .noContent)
            let counts = try await broker.settledInbox()
            #expect(counts["ignored"] == 1)
            let entries = try await broker.inbox()
            #expect(entries.count == 1)
            #expect(entries.first?["duplicates"] as? Int == 3)
            #expect(entries.first?["note"] as? String == "unknown user")
            #expect(entries.first?["attempts"] as? Int == 1)
        }
    }
}

@Suite("Webhook processing end to end")
struct WebhookProcessingTests {
    @Test("connect a member in the sandbox widget → MX's webhook → the stream shows aggregation.completed, with no relay and no read")
    func sandboxToStream() async throws {
        try await withBroker(sandboxEnvironment(["ADMIN_TOKEN": adminToken])) { broker async throws in
            let stream = try await broker.openEvents(as: "alice")
            var (driver, member) = try await broker.connectThroughWidget(as: "alice")
            _ = try await driver.poll(member) { $0 == "CONNECTED" }
            let events = try await stream.wait { $0.contains { $0.event == "aggregation.completed" } }
            let completed = try #require(events.first { $0.event == "aggregation.completed" })
            #expect(completed.json["member_guid"] as? String == member)
            let webhook = try #require(completed.json["webhook"] as? [String: Any], "the announcement came from a webhook")
            let type = try #require(webhook["type"] as? String)
            #expect(["AGGREGATION", "initial_data_ready"].contains(type), "whichever of MX's two webhooks was applied first")
            if type == "AGGREGATION" {
                #expect((webhook["transactions_created_count"] as? Int ?? 0) > 0)
            }
            #expect(webhook["user_guid"] == nil, "identifiers are not repeated in event data")
            let counts = try await broker.settledInbox()
            #expect(counts["processed"] == 2, "AGGREGATION and initial_data_ready")
            #expect(stream.events.filter { $0.event == "aggregation.completed" }.count == 1, "announced once")
            stream.close()
        }
    }

    @Test("out-of-order deliveries never move a member backwards nor announce old work again")
    func outOfOrder() async throws {
        try await withBroker(sandboxEnvironment(["ADMIN_TOKEN": adminToken])) { broker async throws in
            let member = try await broker.connectMember(as: "alice")
            let user = try #require(try await broker.relayedUserGUID(as: "alice"))
            try await broker.settledInbox()
            let stream = try await broker.openEvents(as: "alice")
            let staleStatus =
                #"{"action":"CHANGED","connection_status":"CHALLENGED","connection_status_id":3,"member_guid":"\#(member)","type":"CONNECTION_STATUS","user_guid":"\#(user)"}"#
            #expect(try await broker.deliver(staleStatus).status == .noContent)
            let now = Int(Date().timeIntervalSince1970)
            #expect(try await broker.deliver(dataWebhook(type: "BALANCE", user: user, member: member, completedAt: now + 100)).status == .noContent)
            try await broker.settledInbox()
            #expect(try await broker.deliver(dataWebhook(type: "BALANCE", user: user, member: member, completedAt: now + 50)).status == .noContent)
            try await broker.settledInbox()
            try await Task.sleep(for: .milliseconds(200))
            let view = try await broker.send(.get, "/v1/members/\(member)", as: "alice").json["member"] as? [String: Any]
            #expect(view?["connection_status"] as? String == "CONNECTED")
            let kinds = stream.events.compactMap(\.event)
            #expect(!kinds.contains("connection.action_required"))
            #expect(kinds.filter { $0 == "balances.updated" }.count == 1, "the newer BALANCE only: \(kinds)")
            stream.close()
        }
    }

    @Test("webhooks about unknown users or members, or of unhandled types, are recorded as ignored")
    func ignored() async throws {
        try await withBroker(sandboxEnvironment(["ADMIN_TOKEN": adminToken])) { broker async throws in
            _ = try await broker.mintWidgetURL(as: "alice")
            let user = try #require(try await broker.relayedUserGUID(as: "alice"))
            _ = try await broker.deliver(dataWebhook(user: "USR-stranger", member: "MBR-1", completedAt: 1))
            _ = try await broker.deliver(dataWebhook(user: user, member: "MBR-nowhere", completedAt: 2))
            _ = try await broker.deliver(#"{"action":"created","user":{"guid":"\#(user)"}}"#)
            _ = try await broker.deliver(#"{"type":"HOLDINGS","user_guid":"\#(user)","member_guid":"MBR-x"}"#)
            try await broker.settledInbox()
            let notes = Set(try await broker.inbox("ignored").compactMap { $0["note"] as? String })
            #expect(notes == ["unknown user", "unknown member", "unhandled type HOLDINGS"])
        }
    }
}
