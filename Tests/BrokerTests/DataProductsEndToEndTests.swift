import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import NIOFoundationCompat
import Testing

@testable import Broker

/// Fresh balances, extended history, statements and holdings end to end against the embedded
/// sandbox: the jobs, the events that announce them, and the reads.
@Suite("Balances, history, statements and holdings")
struct DataProductsEndToEndTests {
    private static let backend: HTTPFields = [.authorization: "Bearer \(testBackendKey)"]

    private func environment(_ extra: [String: String] = [:]) throws -> [String: String] {
        sandboxEnvironment(["BACKEND_API_KEYS_FILE": try backendKeysFile()].merging(extra) { _, new in new })
    }

    /// MX stamps completions in whole seconds, and the broker announces a job only when its
    /// stamp is newer than the last completion's: a job here starts in a second after the
    /// connection's aggregation.
    private static func waitForNextSecond() async throws {
        try await Task.sleep(for: .milliseconds(1001 - Int(Date().timeIntervalSince1970 * 1000) % 1000))
    }

    private func balances(_ broker: BrokerClient, as subject: String) async throws -> [String: Double] {
        let accounts = try #require(try await broker.send(.get, "/v1/accounts", as: subject).json["accounts"] as? [[String: Any]])
        return Dictionary(
            uniqueKeysWithValues: accounts.compactMap { account in
                (account["guid"] as? String).map { ($0, account["balance"] as? Double ?? .nan) }
            }
        )
    }

    @Test("a balance check: 202 started, then already_running, then balances.updated, and the accounts read shows the new balances")
    func balanceCheck() async throws {
        // Jobs run 1.5 s, so the second call finds the first running on a busy machine.
        try await withBroker(try environment(["SANDBOX_CONNECT_SECONDS": "1.5"])) { broker async throws in
            let member = try await broker.connectMember(as: "alice")
            try await broker.waitForAggregation(of: member, as: "alice")
            let before = try await balances(broker, as: "alice")
            #expect(try await balances(broker, as: "alice") == before, "read twice, the second from the cache")
            let stream = try await broker.openEvents(as: "alice")
            let started = try await broker.send(.post, "/v1/members/\(member)/check_balance", as: "alice")
            #expect(started.status == .accepted)
            #expect(try started.json["balance_check"] as? String == "started")
            #expect(
                try await broker.send(.post, "/v1/members/\(member)/check_balance", as: "alice").json["balance_check"] as? String == "already_running"
            )
            let other = try await broker.send(.post, "/v1/members/\(member)/extend_history", as: "alice")
            #expect(other.status == .conflict)
            #expect(other.errorCode == "job_conflict")
            let events = try await stream.wait(timeout: .seconds(15)) { $0.contains { $0.event == "balances.updated" } }
            #expect(events.first { $0.event == "balances.updated" }?.json["member_guid"] as? String == member)
            stream.close()
            let after = try await balances(broker, as: "alice")
            #expect(Set(after.keys) == Set(before.keys))
            #expect(after != before, "the read cache dropped the member's data when the balances moved")
        }
    }

    @Test("extended history: history.extended with MX's counts, then two years of transactions; from_updated_at lists just the new ones")
    func extendedHistory() async throws {
        try await withBroker(try environment()) { broker async throws in
            let member = try await broker.connectMember(as: "alice")
            try await broker.waitForAggregation(of: member, as: "alice")
            let path = "/v1/members/\(member)/transactions?from_date=2000-01-01&records_per_page=1000"
            let before = try #require(try await broker.send(.get, path, as: "alice").json["pagination"] as? [String: Any])
            try await Self.waitForNextSecond()
            let startedAt = Int64(Date().timeIntervalSince1970)
            let changed = "\(path)&from_updated_at=\(startedAt)"
            #expect((try await broker.send(.get, changed, as: "alice").json["transactions"] as? [Any])?.isEmpty == true)
            let stream = try await broker.openEvents(as: "alice")
            let started = try await broker.send(.post, "/v1/backend/users/alice/members/\(member)/extend_history", headers: Self.backend)
            #expect(started.status == .accepted)
            #expect(try started.json["history_extension"] as? String == "started")
            let events = try await stream.wait(timeout: .seconds(15)) { $0.contains { $0.event == "history.extended" } }
            let extended = try #require(events.first { $0.event == "history.extended" })
            #expect(extended.json["member_guid"] as? String == member)
            let counted = (extended.json["webhook"] as? [String: Any])?["transactions_created_count"] as? Int ?? 0
            #expect(counted > 0, "the event carries MX's count")
            stream.close()
            let after = try #require(try await broker.send(.get, path, as: "alice").json["pagination"] as? [String: Any])
            let total = { (pagination: [String: Any]) in pagination["total_entries"] as? Int ?? 0 }
            #expect(total(after) == total(before) + counted, "the cache was dropped and the older transactions are listed")
            let added = try #require(try await broker.send(.get, changed, as: "alice").json["pagination"] as? [String: Any])
            #expect(total(added) == counted, "from_updated_at lists just what the extension added")
            let enhanced = try await broker.send(.get, "\(path)&includes=merchants,merchants&records_per_page=10", as: "alice")
            let withMerchants = try #require(try enhanced.json["transactions"] as? [[String: Any]])
            #expect(withMerchants.allSatisfy { $0["merchant"] is [String: Any] }, "includes reaches MX")
            for bad in [
                "includes=merchants,%20geolocations", "includes=everything", "includes=", "from_updated_at=99999999999999", "from_updated_at=-1",
            ] {
                let refused = try await broker.send(.get, "\(path)&\(bad)", as: "alice")
                #expect(refused.status == .badRequest, "\(bad)")
                #expect(["invalid_includes", "invalid_date"].contains(refused.errorCode ?? ""), "\(bad)")
            }
            let backwards = try await broker.send(.get, "\(path)&from_updated_at=2026-02-02&to_updated_at=1700000000", as: "alice")
            #expect(backwards.errorCode == "invalid_date_range")
        }
    }

    @Test("fetching statements is announced as statements.ready with MX's count")
    func statementFetch() async throws {
        try await withBroker(try environment()) { broker async throws in
            let member = try await broker.connectMember(as: "alice")
            try await broker.waitForAggregation(of: member, as: "alice")
            let stream = try await broker.openEvents(as: "alice")
            try await Self.waitForNextSecond()
            let started = try await broker.send(.post, "/v1/members/\(member)/fetch_statements", as: "alice")
            #expect(try started.json["statement_fetch"] as? String == "started")
            let events = try await stream.wait(timeout: .seconds(15)) { $0.contains { $0.event == "statements.ready" } }
            let ready = try #require(events.first { $0.event == "statements.ready" })
            #expect((ready.json["webhook"] as? [String: Any])?["statements_created_count"] as? Int ?? 0 > 0)
            stream.close()
        }
    }

    @Test(
        "statements: listed and read in MX's shapes, the PDF streamed as MX sent it, not cached; another user finds none of them",
        arguments: ["v20250224", "v20111101"]
    )
    func statements(version: String) async throws {
        try await withBroker(try environment(["MX_API_VERSION": version])) { broker async throws in
            let member = try await broker.connectMember(as: "alice")
            try await broker.waitForAggregation(of: member, as: "alice")
            let empty = try await broker.send(.get, "/v1/members/\(member)/statements", as: "alice")
            #expect(empty.status == .ok)
            #expect((try empty.json["statements"] as? [Any])?.isEmpty == true)
            let stream = try await broker.openEvents(as: "alice")
            try await Self.waitForNextSecond()
            #expect(try await broker.send(.post, "/v1/members/\(member)/fetch_statements", as: "alice").status == .accepted)
            _ = try await stream.wait(timeout: .seconds(15)) { $0.contains { $0.event == "statements.ready" } }
            stream.close()
            let listed = try await broker.send(.get, "/v1/members/\(member)/statements?records_per_page=100", as: "alice")
            let statements = try #require(try listed.json["statements"] as? [[String: Any]])
            #expect(!statements.isEmpty, "the cache was dropped when the statements were ready")
            let statement = try #require(statements.first)
            let guid = try #require(statement["guid"] as? String)
            let read = try await broker.send(.get, "/v1/members/\(member)/statements/\(guid)", as: "alice")
            #expect((try read.json["statement"] as? [String: Any])?["content_hash"] as? String == statement["content_hash"] as? String)

            let pdf = try await broker.send(.get, "/v1/members/\(member)/statements/\(guid).pdf", as: "alice")
            #expect(pdf.status == .ok)
            #expect(pdf.headers[.contentType] == "application/pdf")
            #expect(pdf.headers[.contentDisposition] == "attachment; filename=\"\(guid).pdf\"")
            #expect(pdf.headers[.cacheControl] == "private, no-store")
            #expect(pdf.headers[.eTag] == nil)
            let bytes = Data(buffer: pdf.body)
            #expect(pdf.headers[.contentLength] == String(bytes.count))
            #expect(bytes.starts(with: Data("%PDF-".utf8)))
            #expect(SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined() == statement["content_hash"] as? String)
            let backend = try await broker.send(.get, "/v1/backend/users/alice/members/\(member)/statements/\(guid).pdf", headers: Self.backend)
            #expect(Data(buffer: backend.body) == bytes)

            _ = try await broker.connectMember(as: "bob")
            for path in [
                "/v1/members/\(member)/statements", "/v1/members/\(member)/statements/\(guid)", "/v1/members/\(member)/statements/\(guid).pdf",
            ] {
                #expect(try await broker.send(.get, path, as: "bob").status == .notFound, "\(path) as another user")
            }
            for bad in ["STA-%2E%2E", "STA-x%00", String(repeating: "S", count: 200)] {
                #expect(try await broker.send(.get, "/v1/members/\(member)/statements/\(bad).pdf", as: "alice").status == .notFound, "\(bad)")
            }
            #expect(try await broker.send(.get, "/v1/members/\(member)/statements/STA-unknown.pdf", as: "alice").status == .notFound)
        }
    }

    @Test(
        "investment holdings: all, a member's, an account's and one, summing to the account's balance; another user finds none",
        arguments: ["v20250224", "v20111101"]
    )
    func holdings(version: String) async throws {
        try await withBroker(try environment(["MX_API_VERSION": version])) { broker async throws in
            let member = try await broker.connectMember(as: "alice")
            try await broker.waitForAggregation(of: member, as: "alice")
            let all = try #require(
                try await broker.send(.get, "/v1/investment_holdings?records_per_page=1000", as: "alice").json["investment_holdings"]
                    as? [[String: Any]]
            )
            #expect(!all.isEmpty)
            let byMember = try await broker.send(.get, "/v1/members/\(member)/investment_holdings?records_per_page=1000", as: "alice")
            #expect((try byMember.json["investment_holdings"] as? [Any])?.count == all.count)
            let accounts = try #require(try await broker.send(.get, "/v1/accounts", as: "alice").json["accounts"] as? [[String: Any]])
            let invested = try #require(accounts.first { $0["subtype"] as? String == "BROKERAGE" })
            let accountGUID = try #require(invested["guid"] as? String)
            let held = try #require(
                try await broker.send(.get, "/v1/accounts/\(accountGUID)/investment_holdings", as: "alice").json["investment_holdings"]
                    as? [[String: Any]]
            )
            let total = held.reduce(Decimal(0)) { $0 + Decimal(string: "\($1["market_value"] ?? 0)")! }
            #expect(total == Decimal(string: "\(invested["balance"] ?? 0)")!)
            let one = try #require(held.first?["guid"] as? String)
            let read = try await broker.send(.get, "/v1/investment_holdings/\(one)", as: "alice")
            #expect((try read.json["investment_holding"] as? [String: Any])?["symbol"] as? String == held.first?["symbol"] as? String)
            #expect(read.headers[.eTag] != nil, "holdings are cached and revalidated like accounts")
            let backend = try await broker.send(.get, "/v1/backend/users/alice/investment_holdings/\(one)", headers: Self.backend)
            #expect(backend.status == .ok)

            _ = try await broker.connectMember(as: "bob")
            for path in [
                "/v1/investment_holdings/\(one)", "/v1/accounts/\(accountGUID)/investment_holdings", "/v1/members/\(member)/investment_holdings",
            ] {
                let probe = try await broker.send(.get, path, as: "bob")
                let list = (try? probe.json["investment_holdings"]) as? [Any]
                #expect(probe.status == .notFound || list?.isEmpty == true, "\(path) as another user")
            }
        }
    }

    @Test("MFA during an extended history, without the widget: the member asks again, the answers resume it, history.extended follows")
    func multiFactorHistory() async throws {
        try await withBroker(try environment()) { broker async throws in
            let member = try await broker.connectMultiFactorMember(as: "alice")
            let answers = ConnectEndToEndTests.rightAnswers
            let stream = try await broker.openEvents(as: "alice")
            try await Self.waitForNextSecond()
            #expect(try await broker.send(.post, "/v1/members/\(member)/extend_history", as: "alice").status == .accepted)
            let asked = try await broker.pollStatus(of: member, as: "alice") { $0["action_required"] as? String == "answer_mfa" }
            #expect(asked["connection_status"] as? String == "CHALLENGED")
            #expect(try await broker.send(.get, "/v1/members/\(member)/challenges", as: "alice").status == .ok)
            #expect(try await broker.send(.put, "/v1/members/\(member)/resume", as: "alice", json: answers).status == .accepted)
            let events = try await stream.wait(timeout: .seconds(15)) { $0.contains { $0.event == "history.extended" } }
            #expect(events.contains { $0.event == "connection.action_required" && $0.json["action_required"] as? String == "answer_mfa" })
            stream.close()
        }
    }

    @Test("the jobs of products the operator has not enabled are 403; a bank that offers none of them is 400 product_not_supported")
    func refusals() async throws {
        try await withBroker(try environment(["MX_PRODUCTS": "transactions"])) { broker async throws in
            let member = try await broker.connectMember(as: "alice")
            for job in ["check_balance", "extend_history", "fetch_statements"] {
                let refused = try await broker.send(.post, "/v1/members/\(member)/\(job)", as: "alice")
                #expect(refused.status == .forbidden, "\(job)")
                #expect(refused.errorCode == "product_not_enabled")
            }
            for read in [
                "/v1/members/\(member)/statements", "/v1/members/\(member)/statements/STA-1", "/v1/members/\(member)/statements/STA-1.pdf",
                "/v1/investment_holdings", "/v1/investment_holdings/HOL-1", "/v1/members/\(member)/investment_holdings",
            ] {
                let refused = try await broker.send(.get, read, as: "alice")
                #expect(refused.status == .forbidden, "\(read)")
                #expect(refused.errorCode == "product_not_enabled")
            }
        }
        try await withBroker(try environment(["MX_PRODUCTS": "account_verification"])) { broker async throws in
            let created = try await broker.send(.post, "/v1/members", as: "alice", json: ConnectEndToEndTests.memberBody("mxbank"))
            #expect(created.status == .forbidden, "a new member aggregates, which is the transactions product")
            #expect(created.errorCode == "product_not_enabled")
        }
        try await withBroker(try environment()) { broker async throws in
            let (_, member) = try await broker.connectThroughWidget(as: "alice", institution: "mx_credit_union")
            try await broker.waitForAggregation(of: member, as: "alice")
            for job in ["check_balance", "extend_history", "fetch_statements"] {
                let refused = try await broker.send(.post, "/v1/members/\(member)/\(job)", as: "alice")
                #expect(refused.status == .badRequest, "\(job)")
                #expect(refused.errorCode == "product_not_supported")
            }
        }
    }
}
