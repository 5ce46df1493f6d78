import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SandboxWidgetDriver
import Testing

@testable import Broker

/// Verification and identification end to end against the embedded sandbox: jobs, numbers and
/// owners as each kind of caller sees them, the audit log, the products an operator enables.
@Suite("Account numbers and owners")
struct AccountDetailsEndToEndTests {
    static let adminToken = "admin-token-0123456789"

    private func environment(_ extra: [String: String] = [:]) throws -> [String: String] {
        sandboxEnvironment(["ADMIN_TOKEN": Self.adminToken, "BACKEND_API_KEYS_FILE": try backendKeysFile()].merging(extra) { _, new in new })
    }

    private static let backend: HTTPFields = [.authorization: "Bearer \(testBackendKey)"]

    /// Polls `path` as `subject` (or with `headers`) until its `key` list is not empty (ten seconds at most).
    private func waitForList(
        _ broker: BrokerClient,
        _ path: String,
        key: String,
        as subject: String? = nil,
        headers: HTTPFields = [:]
    ) async throws -> [[String: Any]] {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            let response = try await broker.send(.get, path, as: subject, headers: headers)
            if let list = try response.json[key] as? [[String: Any]], !list.isEmpty { return list }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("\(path) stayed empty")
        return []
    }

    @Test("a verification's numbers: masked to the front end, whole to the backend, never cached, every read audited")
    func verification() async throws {
        let logs = LogCapture()
        // Jobs run 1.5 s, so the calls made while the verification runs find it running on a busy machine.
        let environment = try environment(["SANDBOX_CONNECT_SECONDS": "1.5"])
        let dataDirectory = try #require(environment["DATA_DIR"])
        try await withBroker(environment, logs: logs) { broker async throws in
            let member = try await broker.connectMember(as: "alice")
            try await broker.waitForAggregation(of: member, as: "alice")
            let stream = try await broker.openEvents(as: "alice")
            let started = try await broker.send(.post, "/v1/members/\(member)/verify", as: "alice")
            #expect(started.status == .accepted)
            #expect(try started.json["verification"] as? String == "started")
            let again = try await broker.send(.post, "/v1/members/\(member)/verify", as: "alice")
            #expect(try again.json["verification"] as? String == "already_running")
            let aggregate = try await broker.send(.post, "/v1/members/\(member)/aggregate", as: "alice")
            #expect(aggregate.status == .conflict)
            #expect(aggregate.errorCode == "job_conflict")

            let masked = try await waitForList(broker, "/v1/members/\(member)/account_numbers", key: "account_numbers", as: "alice")
            let frontEnd = try await broker.send(.get, "/v1/members/\(member)/account_numbers", as: "alice")
            #expect(frontEnd.headers[.cacheControl] == "no-store")
            #expect(frontEnd.headers[.eTag] == nil)
            let whole = try await broker.send(.get, "/v1/backend/users/alice/members/\(member)/account_numbers", headers: Self.backend)
            #expect(whole.status == .ok)
            let full = try #require(try whole.json["account_numbers"] as? [[String: Any]])
            #expect(full.count == masked.count)
            var fullNumbers: [String] = []
            for (shown, entry) in zip(masked, full) {
                let number = try #require(entry["account_number"] as? String)
                fullNumbers.append(number)
                #expect(number.count == 10 && number.allSatisfy(\.isNumber))
                #expect(shown["account_number"] as? String == "XXXXXX" + number.suffix(4))
                #expect(shown["routing_number"] as? String == entry["routing_number"] as? String, "routing numbers are public")
                #expect(shown["passed_validation"] as? Bool == true)
            }
            let account = try #require(masked.first?["account_guid"] as? String)
            let events = try await stream.wait { $0.contains { $0.event == "verification.completed" } }
            let completed = try #require(events.first { $0.event == "verification.completed" })
            #expect(completed.json["member_guid"] as? String == member)
            let verified = (completed.json["webhook"] as? [String: Any])?["accounts"] as? [String]
            #expect(Set(verified ?? []) == Set(masked.compactMap { $0["account_guid"] as? String }), "the event names the verified accounts")
            stream.close()
            let byAccount =
                try await broker.send(.get, "/v1/accounts/\(account)/account_numbers", as: "alice").json["account_numbers"] as? [[String: Any]]
            #expect(byAccount?.count == 1)

            let audit = try await broker.send(.get, "/v1/admin/audit?user_id=alice", headers: [.authorization: "Bearer \(Self.adminToken)"])
            #expect(audit.status == .ok)
            let entries = try #require(try audit.json["audit"] as? [[String: Any]])
            let callers = entries.compactMap { $0["caller"] as? String }
            #expect(callers.contains("user") && callers.contains("backend:app"))
            #expect(entries.allSatisfy { $0["member_guid"] as? String == member || $0["account_guid"] as? String == account })
            #expect(entries.contains { ($0["route"] as? String)?.hasPrefix("GET /v1/backend/users/{user_id}/") == true })
            let forBob = try await broker.send(.get, "/v1/admin/audit?user_id=bob", headers: [.authorization: "Bearer \(Self.adminToken)"])
            #expect((try forBob.json["audit"] as? [Any])?.isEmpty == true)
            #expect(try await broker.metric("account_details_reads_total", #"caller="backend""#) ?? 0 >= 1)

            let auditText = String(buffer: audit.body)
            let streamText = events.map(\.data).joined(separator: "\n")
            let stored = try Self.bytes(under: dataDirectory)
            #expect(stored.count > 0)
            for number in fullNumbers {
                #expect(stored.firstRange(of: Data(number.utf8)) == nil, "a full account number was written under DATA_DIR")
                #expect(!logs.text.contains(number), "a full account number reached the logs")
                #expect(!auditText.contains(number))
                #expect(!streamText.contains(number), "a full account number reached an event")
            }
        }
    }

    /// Every byte of every file under `directory` (the SQLite file, its WAL, the sandbox's state).
    private static func bytes(under directory: String) throws -> Data {
        var all = Data()
        let files = FileManager.default.enumerator(atPath: directory)?.compactMap { $0 as? String } ?? []
        for file in files {
            let path = (directory as NSString).appendingPathComponent(file)
            if let contents = FileManager.default.contents(atPath: path) { all.append(contents) }
        }
        return all
    }

    @Test("the widget in verification mode, with identity: memberConnected only once numbers and owners are fetched")
    func widgetVerification() async throws {
        try await withBroker(try environment()) { broker async throws in
            let widget = try await broker.mintWidgetURL(as: "alice", #"{"mode":"verification","include_identity":true}"#)
            var driver = try await WidgetSessionDriver(client: broker.client, url: try #require(widget["url"] as? String))
            let member = try await driver.connect("mxbank")
            let deadline = ContinuousClock.now + .seconds(15)
            while ContinuousClock.now < deadline, !driver.types.contains("mx/connect/memberConnected") {
                _ = try await driver.poll(member) { _ in true }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(driver.types.contains("mx/connect/memberConnected"))
            let numbers = try await broker.send(.get, "/v1/members/\(member)/account_numbers", as: "alice").json["account_numbers"] as? [Any]
            #expect(numbers?.isEmpty == false, "verified before the widget said connected")
            let owners = try await broker.send(.get, "/v1/members/\(member)/account_owners", as: "alice").json["account_owners"] as? [Any]
            #expect(owners?.isEmpty == false, "identified before the widget said connected")
        }
    }

    @Test("an identification's owners, for the front end and the backend")
    func identification() async throws {
        try await withBroker(try environment()) { broker async throws in
            let member = try await broker.connectMember(as: "alice")
            try await broker.waitForAggregation(of: member, as: "alice")
            let stream = try await broker.openEvents(as: "alice")
            let started = try await broker.send(.post, "/v1/backend/users/alice/members/\(member)/identify", headers: Self.backend)
            #expect(started.status == .accepted)
            #expect(try started.json["identification"] as? String == "started")
            let owners = try await waitForList(broker, "/v1/members/\(member)/account_owners", key: "account_owners", as: "alice")
            #expect(owners.allSatisfy { ($0["owner_name"] as? String)?.isEmpty == false })
            let backend = try await broker.send(.get, "/v1/backend/users/alice/members/\(member)/account_owners", headers: Self.backend)
            #expect((try backend.json["account_owners"] as? [Any])?.count == owners.count)
            #expect(backend.headers[.cacheControl] == "no-store")
            let events = try await stream.wait { $0.contains { $0.event == "identity.completed" } }
            #expect(events.first { $0.event == "identity.completed" }?.json["member_guid"] as? String == member, "announced after MX is polled")
            stream.close()
        }
    }

    @Test("MFA during a verification, without the widget: the member asks again, the answers resume it, the numbers follow")
    func multiFactorVerification() async throws {
        try await withBroker(try environment()) { broker async throws in
            let member = try await broker.connectMultiFactorMember(as: "alice")
            let answers = ConnectEndToEndTests.rightAnswers

            #expect(try await broker.send(.post, "/v1/members/\(member)/verify", as: "alice").status == .accepted)
            let asked = try await broker.pollStatus(of: member, as: "alice") { $0["action_required"] as? String == "answer_mfa" }
            #expect(asked["connection_status"] as? String == "CHALLENGED")
            #expect(try await broker.send(.get, "/v1/members/\(member)/challenges", as: "alice").status == .ok)
            #expect(try await broker.send(.put, "/v1/members/\(member)/resume", as: "alice", json: answers).status == .accepted)
            let numbers = try await waitForList(broker, "/v1/members/\(member)/account_numbers", key: "account_numbers", as: "alice")
            #expect(!numbers.isEmpty)
        }
    }

    @Test("an institution without verification is a 400 product_not_supported")
    func unsupported() async throws {
        try await withBroker(try environment()) { broker async throws in
            let (_, member) = try await broker.connectThroughWidget(as: "alice", institution: "mx_credit_union")
            try await broker.waitForAggregation(of: member, as: "alice")
            let verify = try await broker.send(.post, "/v1/members/\(member)/verify", as: "alice")
            #expect(verify.status == .badRequest)
            #expect(verify.errorCode == "product_not_supported")
        }
    }

    @Test("products the operator has not enabled are refused with 403, on widget URLs, jobs and reads")
    func productsNotEnabled() async throws {
        try await withBroker(try environment(["MX_PRODUCTS": "transactions"])) { broker async throws in
            let member = try await broker.connectMember(as: "alice")
            for widget in [
                #"{"mode":"verification"}"#, #"{"mode":"aggregation,verification"}"#, #"{"include_identity":true}"#,
                #"{"data_request":{"products":["transactions","account_verification"]}}"#,
            ] {
                let response = try await broker.send(.post, "/v1/widget_urls", as: "alice", json: #"{"widget_url":\#(widget)}"#)
                #expect(response.status == .forbidden, "\(widget)")
                #expect(response.errorCode == "product_not_enabled", "\(widget)")
            }
            #expect(
                try await broker.send(.post, "/v1/widget_urls", as: "alice", json: #"{"widget_url":{"data_request":{"products":["transactions"]}}}"#)
                    .status == .ok
            )
            let unknown = try await broker.send(
                .post,
                "/v1/widget_urls",
                as: "alice",
                json: #"{"widget_url":{"data_request":{"products":["gold"]}}}"#
            )
            #expect(unknown.status == .unprocessableContent)
            for path in ["verify", "identify"] {
                #expect(try await broker.send(.post, "/v1/members/\(member)/\(path)", as: "alice").errorCode == "product_not_enabled")
            }
            for path in ["account_numbers", "account_owners"] {
                #expect(try await broker.send(.get, "/v1/members/\(member)/\(path)", as: "alice").errorCode == "product_not_enabled")
            }
        }
    }

    @Test("FRONT_END_ACCOUNT_NUMBERS: full shows whole numbers to front ends, none refuses the routes; the backend always reads them")
    func frontEndExposure() async throws {
        for (setting, status) in [("full", HTTPResponse.Status.ok), ("none", .forbidden)] {
            try await withBroker(try environment(["FRONT_END_ACCOUNT_NUMBERS": setting])) { broker async throws in
                let member = try await broker.connectMember(as: "alice")
                try await broker.waitForAggregation(of: member, as: "alice")
                _ = try await broker.send(.post, "/v1/members/\(member)/verify", as: "alice")
                let path = "/v1/backend/users/alice/members/\(member)/account_numbers"
                #expect(try await !waitForList(broker, path, key: "account_numbers", headers: Self.backend).isEmpty)
                let response = try await broker.send(.get, "/v1/members/\(member)/account_numbers", as: "alice")
                #expect(response.status == status, "\(setting)")
                if setting == "full" {
                    let numbers = try #require(try response.json["account_numbers"] as? [[String: Any]])
                    #expect(numbers.allSatisfy { ($0["account_number"] as? String)?.hasPrefix("XXXXXX") == false })
                }
            }
        }
    }

    @Test("another user's member and accounts are not found on every new route, from the front end and the backend")
    func crossUser() async throws {
        try await withBroker(try environment()) { broker async throws in
            let member = try await broker.connectMember(as: "alice")
            try await broker.waitForAggregation(of: member, as: "alice")
            _ = try await broker.send(.post, "/v1/members/\(member)/verify", as: "alice")
            let numbers = try await waitForList(broker, "/v1/members/\(member)/account_numbers", key: "account_numbers", as: "alice")
            let account = try #require(numbers.first?["account_guid"] as? String)
            _ = try await broker.mintWidgetURL(as: "bob")
            let reads = ["/members/\(member)/account_numbers", "/accounts/\(account)/account_numbers", "/members/\(member)/account_owners"]
            let jobs = ["/members/\(member)/verify", "/members/\(member)/identify"]
            for path in reads {
                let asBob = try await broker.send(.get, "/v1" + path, as: "bob")
                let viaBackend = try await broker.send(.get, "/v1/backend/users/bob" + path, headers: Self.backend)
                for response in [asBob, viaBackend] {
                    let emptyList = (try? response.json.values.compactMap { $0 as? [Any] }.allSatisfy(\.isEmpty)) ?? false
                    #expect(response.status == .notFound || (response.status == .ok && emptyList), "\(path): \(response.status)")
                    #expect(!String(buffer: response.body).contains(account), "\(path) shows nothing of alice's")
                }
            }
            for path in jobs {
                #expect(try await broker.send(.post, "/v1" + path, as: "bob").status == .notFound, "\(path)")
                #expect(try await broker.send(.post, "/v1/backend/users/bob" + path, headers: Self.backend).status == .notFound, "\(path)")
            }
        }
    }

    @Test("backend keys and user tokens are each accepted only on their own routes; the user id is percent-decoded")
    func keysAndTokens() async throws {
        try await withBroker(try environment()) { broker async throws in
            let member = try await broker.connectMember(as: "auth0|alice")
            let token = try await broker.token("auth0|alice")
            let tokenOnBackend = try await broker.send(.get, "/v1/backend/users/auth0%7Calice/members", headers: [.authorization: "Bearer \(token)"])
            #expect(tokenOnBackend.status == .unauthorized)
            #expect(tokenOnBackend.errorCode == "invalid_backend_key")
            let keyOnFrontEnd = try await broker.send(.get, "/v1/members", headers: Self.backend)
            #expect(keyOnFrontEnd.status == .unauthorized)
            let wrongKey = try await broker.send(.get, "/v1/backend/users/x/members", headers: [.authorization: "Bearer \(testBackendKey)x"])
            #expect(wrongKey.errorCode == "invalid_backend_key")
            #expect(try await broker.send(.get, "/v1/backend/users/x/members").errorCode == "missing_token")
            // Sent as raw bytes, so the path reaches the broker exactly as written here.
            let port = try #require(broker.client.port)
            func members(_ encodedUserID: String) async throws -> (status: String, body: String) {
                let request = "GET /v1/backend/users/\(encodedUserID)/members HTTP/1.1\r\nHost: b\r\nAuthorization: Bearer \(testBackendKey)\r\n\r\n"
                let answer = try #require(try await RawHTTPConnection.exchange(port: port, request, responses: 1).first)
                return (answer.statusLine, answer.body)
            }
            let listed = try await members("auth0%7Calice")
            #expect(listed.body.contains(member), "the decoded id is the token's sub")
            let twice = try await members("auth0%257Calice")
            #expect(twice.status == "HTTP/1.1 200 OK")
            #expect(!twice.body.contains(member), "decoded once: auth0%7Calice is another user")
            let bad = try await members("%FF")
            #expect(bad.status == "HTTP/1.1 400 Bad Request")
            #expect(bad.body.contains("invalid_subject"))
        }
    }
}
