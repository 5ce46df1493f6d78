import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SandboxWidgetDriver
import Testing

@testable import Broker

/// Microdeposits end to end against the embedded sandbox, whose deposits are always 0.07 and 0.11.
@Suite("Microdeposits")
struct MicrodepositEndToEndTests {
    static let adminToken = "admin-token-0123456789"
    static let account = #"{"micro_deposit":{"account_number":"1234567890","routing_number":"091000019","account_type":"CHECKING"}}"#
    static let rightAmounts = #"{"micro_deposit":{"deposit_amount_1":0.11,"deposit_amount_2":0.07}}"#
    private static let backend: HTTPFields = [.authorization: "Bearer \(testBackendKey)"]

    private func environment(_ extra: [String: String] = [:]) throws -> [String: String] {
        sandboxEnvironment(["ADMIN_TOKEN": Self.adminToken, "BACKEND_API_KEYS_FILE": try backendKeysFile()].merging(extra) { _, new in new })
    }

    /// Reads the microdeposit as `subject` until its deposits have landed (ten seconds at most).
    private func waitUntilDeposited(_ broker: BrokerClient, _ guid: String, as subject: String) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        var status = ""
        while ContinuousClock.now < deadline, status != "DEPOSITED" {
            let read = try await broker.send(.get, "/v1/micro_deposits/\(guid)", as: subject)
            status = (try read.json["micro_deposit"] as? [String: Any])?["status"] as? String ?? ""
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(status == "DEPOSITED")
    }

    private func create(_ broker: BrokerClient, as subject: String) async throws -> [String: Any] {
        let created = try await broker.send(.post, "/v1/micro_deposits", as: subject, json: Self.account)
        #expect(created.status == .ok, "\(String(buffer: created.body))")
        #expect(created.headers[.cacheControl] == "no-store")
        return try #require(try created.json["micro_deposit"] as? [String: Any])
    }

    @Test("create, deposits land, the right amounts verify: numbers masked to the front end, announced without them, audited")
    func verified() async throws {
        let logs = LogCapture()
        try await withBroker(try environment(), logs: logs) { broker async throws in
            _ = try await broker.mintWidgetURL(as: "alice")
            let stream = try await broker.openEvents(as: "alice")
            let created = try await create(broker, as: "alice")
            let guid = try #require(created["guid"] as? String)
            #expect(created["account_number"] as? String == "XXXXXX7890")
            #expect(created["routing_number"] as? String == "091000019")
            #expect(created["status"] as? String == "INITIATED")

            try await stream.wait { events in events.contains { $0.event == "micro_deposit.updated" && $0.json["status"] as? String == "DEPOSITED" } }
            let whole = try await broker.send(.get, "/v1/backend/users/alice/micro_deposits/\(guid)", headers: Self.backend)
            #expect((try whole.json["micro_deposit"] as? [String: Any])?["account_number"] as? String == "1234567890")
            let list = try await broker.send(.get, "/v1/micro_deposits", as: "alice")
            #expect((try list.json["micro_deposits"] as? [[String: Any]])?.map { $0["guid"] as? String } == [guid])

            let verified = try await broker.send(.put, "/v1/micro_deposits/\(guid)/verify", as: "alice", json: Self.rightAmounts)
            #expect(verified.status == .ok)
            #expect((try verified.json["micro_deposit"] as? [String: Any])?["status"] as? String == "VERIFIED")
            let events = try await stream.wait { events in
                events.contains { $0.event == "micro_deposit.updated" && $0.json["status"] as? String == "VERIFIED" }
            }
            #expect(events.filter { $0.event == "micro_deposit.updated" }.allSatisfy { $0.json["micro_deposit_guid"] as? String == guid })
            stream.close()

            let audit = try await broker.send(.get, "/v1/admin/audit?user_id=alice", headers: [.authorization: "Bearer \(Self.adminToken)"])
            let entries = try #require(try audit.json["audit"] as? [[String: Any]])
            #expect(entries.contains { $0["micro_deposit_guid"] as? String == guid && $0["caller"] as? String == "backend:app" })
            #expect(entries.count >= 4, "create, the backend's read, the list and the verification")
            let streamText = events.map(\.data).joined()
            #expect(!streamText.contains("1234567890") && !streamText.contains("7890"))
            #expect(!logs.text.contains("1234567890"))
        }
    }

    @Test("in the widget: verification at a bank without instant verification leads to microdeposits; the widget reopened on one confirms it")
    func throughTheWidget() async throws {
        try await withBroker(try environment()) { broker async throws in
            let pre = try await broker.send(
                .post,
                "/v1/micro_deposits",
                as: "alice",
                json: #"{"micro_deposit":{"email":"a@example.com","first_name":"Ada","last_name":"Lovelace"}}"#
            )
            let guid = try #require((try pre.json["micro_deposit"] as? [String: Any])?["guid"] as? String)
            let first = try await broker.mintWidgetURL(as: "alice", #"{"mode":"verification","current_microdeposit_guid":"\#(guid)"}"#)
            var numbers = try await WidgetSessionDriver(client: broker.client, url: try #require(first["url"] as? String))
            let selected = try await numbers.call(.post, "/select", ["institution_code": "mxbank_microdeposits"])
            #expect(selected["step"] as? String == "microdeposits")
            let submitted = try await numbers.call(
                .post,
                "/micro_deposits",
                ["account_number": "1234567890", "routing_number": "091000019", "account_type": "CHECKING"]
            )
            #expect((submitted["micro_deposit"] as? [String: Any])?["guid"] as? String == guid, "the pre-initiated one is completed")

            try await waitUntilDeposited(broker, guid, as: "alice")
            let second = try await broker.mintWidgetURL(as: "alice", #"{"current_microdeposit_guid":"\#(guid)"}"#)
            var confirm = try await WidgetSessionDriver(client: broker.client, url: try #require(second["url"] as? String))
            #expect(confirm.events.contains { ($0["metadata"] as? [String: Any])?["initial_step"] as? String == "microdeposits" })
            let verified = try await confirm.call(.post, "/micro_deposits/\(guid)/verify", ["deposit_amount_1": "0.07", "deposit_amount_2": "0.11"])
            #expect((verified["micro_deposit"] as? [String: Any])?["status"] as? String == "VERIFIED")
        }
    }

    @Test("bad bodies and amounts are 400 invalid_micro_deposit before MX is called")
    func invalid() async throws {
        try await withBroker(try environment(["RATE_LIMIT_CONNECTION_ATTEMPTS_PER_MINUTE": "100"])) { broker async throws in
            for body in [
                #"{"micro_deposit":{"account_number":"12","routing_number":"091000019","account_type":"CHECKING"}}"#,
                #"{"micro_deposit":{"account_number":"1234567890","routing_number":"091000018","account_type":"CHECKING"}}"#,
                #"{"micro_deposit":{"account_number":"1234567890","routing_number":"091000019","account_type":"LOAN"}}"#,
                #"{"micro_deposit":{"email":"a@example.com"}}"#, #"{"micro_deposit":{"account_number":1234567890}}"#, #"{}"#,
            ] {
                let response = try await broker.send(.post, "/v1/micro_deposits", as: "alice", json: body)
                #expect(response.errorCode == "invalid_micro_deposit", "\(body)")
            }
            let pre = try await broker.send(
                .post,
                "/v1/micro_deposits",
                as: "alice",
                json: #"{"micro_deposit":{"email":"a@example.com","first_name":"Ada","last_name":"Lovelace"}}"#
            )
            #expect((try pre.json["micro_deposit"] as? [String: Any])?["status"] as? String == "PREINITIATED")
            let guid = try #require(try await create(broker, as: "alice")["guid"] as? String)
            for amounts in ["1.5, 0.07", "0, 0.07", "0.071, 0.07", "\"0.07\", 0.11", "1e308, 0.07", "7, 11"] {
                let parts = amounts.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                let body = #"{"micro_deposit":{"deposit_amount_1":\#(parts[0]),"deposit_amount_2":\#(parts[1])}}"#
                let response = try await broker.send(.put, "/v1/micro_deposits/\(guid)/verify", as: "alice", json: body)
                #expect(response.errorCode == "invalid_micro_deposit", "\(amounts)")
            }
        }
    }

    @Test("another user's microdeposit is not found on every route, and MX is never asked to verify it")
    func crossUser() async throws {
        try await withBroker(try environment()) { broker async throws in
            let guid = try #require(try await create(broker, as: "alice")["guid"] as? String)
            _ = try await broker.mintWidgetURL(as: "bob")
            #expect(try await broker.send(.get, "/v1/micro_deposits/\(guid)", as: "bob").status == .notFound)
            #expect(try await broker.send(.delete, "/v1/micro_deposits/\(guid)", as: "bob").status == .notFound)
            #expect(try await broker.send(.get, "/v1/backend/users/bob/micro_deposits/\(guid)", headers: Self.backend).status == .notFound)
            let list = try await broker.send(.get, "/v1/micro_deposits", as: "bob")
            #expect(!String(buffer: list.body).contains(guid))
            let widget = try await broker.send(.post, "/v1/widget_urls", as: "bob", json: #"{"widget_url":{"current_microdeposit_guid":"\#(guid)"}}"#)
            #expect(widget.status == .notFound)
            #expect(
                try await broker.send(.post, "/v1/widget_urls", as: "alice", json: #"{"widget_url":{"current_microdeposit_guid":"\#(guid)"}}"#).status
                    == .ok
            )

            try await waitUntilDeposited(broker, guid, as: "alice")
            let probe = try await broker.send(.put, "/v1/micro_deposits/\(guid)/verify", as: "bob", json: Self.rightAmounts)
            #expect(probe.status == .notFound)
            let read = try await broker.send(.get, "/v1/micro_deposits/\(guid)", as: "alice")
            #expect((try read.json["micro_deposit"] as? [String: Any])?["status"] as? String == "DEPOSITED", "bob's guess never reached MX")
            #expect(try await broker.send(.delete, "/v1/micro_deposits/\(guid)", as: "alice").status == .noContent)
            #expect(try await broker.send(.get, "/v1/micro_deposits/\(guid)", as: "alice").status == .notFound)
        }
    }

    @Test("guesses at the amounts spend the small budget of connection attempts")
    func guessesAreBounded() async throws {
        try await withBroker(try environment(["RATE_LIMIT_CONNECTION_ATTEMPTS_PER_MINUTE": "3"])) { broker async throws in
            let guid = try #require(try await create(broker, as: "alice")["guid"] as? String)
            var codes: [String?] = []
            for _ in 0..<4 {
                codes.append(try await broker.send(.put, "/v1/micro_deposits/\(guid)/verify", as: "alice", json: Self.rightAmounts).errorCode)
            }
            #expect(codes.last == "rate_limited", "\(codes)")
            #expect(try await broker.send(.get, "/v1/micro_deposits/\(guid)", as: "alice").status == .ok, "reads have a budget of their own")
        }
    }

    @Test("microdeposits are account verification: refused when the operator has not enabled it")
    func productNotEnabled() async throws {
        try await withBroker(try environment(["MX_PRODUCTS": "transactions"])) { broker async throws in
            #expect(try await broker.send(.post, "/v1/micro_deposits", as: "alice", json: Self.account).errorCode == "product_not_enabled")
            #expect(try await broker.send(.get, "/v1/micro_deposits", as: "alice").errorCode == "product_not_enabled")
        }
    }
}
