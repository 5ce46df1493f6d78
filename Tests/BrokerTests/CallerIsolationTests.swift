import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import Broker

/// Callers are kept apart by the bytes of their subject, and nothing one caller does to a guid
/// changes another caller's data.
@Suite("Callers kept apart")
struct CallerIsolationTests {
    /// Pairs of subjects Swift's `String` calls equal (canonical equivalence) and the store and
    /// MX do not: KELVIN SIGN against K, and NFD against NFC.
    static let lookalikes: [(owner: String, lookalike: String)] = [("Kim", "\u{212A}im"), ("jos\u{E9}", "jose\u{301}")]

    @Test("canonically equivalent subjects are two users on every read route, cached, uncached and answered early", arguments: lookalikes)
    func equivalentSubjects(owner: String, lookalike: String) async throws {
        try await withBroker { broker async throws in
            let member = try await broker.connectMember(as: owner)
            try await broker.waitForAggregation(of: member, as: owner)
            let ownerHeaders: HTTPFields = [.authorization: "Bearer \(try await broker.token(owner))"]
            let lookalikeHeaders: HTTPFields = [.authorization: "Bearer \(try await broker.token(lookalike))"]
            let accounts = try #require(try await broker.send(.get, "/v1/accounts", headers: ownerHeaders).json["accounts"] as? [[String: Any]])
            let account = try #require(accounts.first?["guid"] as? String)
            let lists = [
                ("/v1/accounts", "accounts"), ("/v1/transactions", "transactions"), ("/v1/members", "members"),
                ("/v1/members/\(member)/accounts", "accounts"), ("/v1/accounts/\(account)/transactions", "transactions"),
                ("/v1/members/\(member)/transactions", "transactions"),
            ]
            let objects = ["/v1/accounts/\(account)", "/v1/members/\(member)", "/v1/members/\(member)/status"]

            for _ in 0..<2 {
                for (path, key) in lists {
                    let read = try await broker.send(.get, path, headers: ownerHeaders)
                    #expect((try read.json[key] as? [Any])?.isEmpty == false, "\(path)")
                }
            }
            let earlyBefore = try #require(try await broker.metric("read_cache_early_answers_total"))
            #expect(earlyBefore > 0, "the owner's second round was answered early")

            func seesNothing(_ round: String) async throws {
                for (path, key) in lists {
                    let read = try await broker.send(.get, path, headers: lookalikeHeaders)
                    if path.hasPrefix("/v1/members/\(member)") || path.hasPrefix("/v1/accounts/\(account)") {
                        let empty = read.status == .ok ? (try read.json[key] as? [Any])?.isEmpty == true : false
                        #expect(read.status == .notFound || empty, "\(round) \(path)")
                    } else {
                        #expect(read.status == .ok, "\(round) \(path)")
                        #expect((try read.json[key] as? [Any])?.isEmpty == true, "\(round) \(path)")
                    }
                }
                for path in objects {
                    #expect(try await broker.send(.get, path, headers: lookalikeHeaders).status == .notFound, "\(round) \(path)")
                }
            }
            try await seesNothing("before the lookalike has an MX user")
            try await seesNothing("with the lookalike's token remembered")

            let ownerUser = try #require(try await broker.mintWidgetURL(as: owner)["user_id"] as? String)
            let lookalikeUser = try #require(try await broker.mintWidgetURL(as: lookalike)["user_id"] as? String)
            #expect(ownerUser != lookalikeUser)
            try await seesNothing("with an MX user of its own")
            try await seesNothing("once more, where the cache could answer early")
            let users = try #require(try await broker.sandbox("/users")["users"] as? [[String: Any]])
            #expect(users.count == 2)

            let ownerGUID = try #require(try await broker.relayedUserGUID(as: owner))
            let relay =
                #"{"mx":true,"type":"mx/connect/memberConnected","metadata":{"user_guid":"\#(ownerGUID)","session_guid":"S","member_guid":"\#(member)"}}"#
            #expect(try await broker.send(.post, "/v1/widget_events", json: relay, headers: lookalikeHeaders).status == .forbidden)
            #expect(try await broker.send(.delete, "/v1/me", headers: lookalikeHeaders).status == .noContent)
            let kept = try await broker.send(.get, "/v1/accounts", headers: ownerHeaders)
            #expect((try kept.json["accounts"] as? [Any])?.isEmpty == false, "erasing the lookalike leaves the owner's data")
        }
    }

    @Test("canonically equivalent subjects have their own rate-limit budgets, log hashes and event streams", arguments: lookalikes)
    func equivalentSubjectsApart(owner: String, lookalike: String) async throws {
        let logs = LogCapture()
        try await withBroker(sandboxEnvironment(["RATE_LIMIT_READS_PER_MINUTE": "3"]), logs: logs) { broker async throws in
            let ownerHeaders: HTTPFields = [.authorization: "Bearer \(try await broker.token(owner))"]
            let lookalikeHeaders: HTTPFields = [.authorization: "Bearer \(try await broker.token(lookalike))"]
            for _ in 0..<3 {
                #expect(try await broker.send(.get, "/v1/accounts", headers: ownerHeaders).status == .ok)
            }
            #expect(try await broker.send(.get, "/v1/accounts", headers: ownerHeaders).status == .tooManyRequests)
            #expect(try await broker.send(.get, "/v1/accounts", headers: lookalikeHeaders).status == .ok)

            let hashes = logs.text.split(separator: "\n").filter { $0.contains("http.route=/v1/accounts") }
                .compactMap { $0.firstMatch(of: /user\.hash=([0-9a-f]+)/)?.1 }
            #expect(hashes.count == 5)
            #expect(Set(hashes).count == 2)
            #expect(hashes.first != hashes.last)
        }
        try await withBroker { broker async throws in
            let member = try await broker.connectMember(as: owner)
            _ = try await broker.mintWidgetURL(as: lookalike)
            let theirs = try await broker.openEvents(as: lookalike)
            let mine = try await broker.openEvents(as: owner)
            #expect(try await broker.send(.post, "/v1/members/\(member)/aggregate", as: owner).status == .accepted)
            try await mine.wait { $0.contains { $0.event == "member.updated" } }
            try await Task.sleep(for: .milliseconds(200))
            #expect(theirs.events.isEmpty, "the lookalike's stream hears nothing of the owner's member")
            mine.close()
            theirs.close()
        }
    }

    @Test("another user's probes of a member's guid leave the owner's member updating and its events flowing")
    func probesChangeNothing() async throws {
        try await withBroker { broker async throws in
            let member = try await broker.connectMember(as: "alice")
            try await broker.waitForAggregation(of: member, as: "alice")
            _ = try await broker.mintWidgetURL(as: "bob")
            let probes: [(HTTPRequest.Method, String)] = [
                (.get, "/v1/members/\(member)"), (.get, "/v1/members/\(member)/status"), (.post, "/v1/members/\(member)/aggregate"),
                (.get, "/v1/members/\(member)/challenges"), (.get, "/v1/members/\(member)/oauth_window_uri"),
                (.get, "/v1/members/\(member)/accounts"), (.get, "/v1/members/\(member)/transactions"),
                (.delete, "/v1/members/\(member)"),
            ]
            for (method, path) in probes {
                let probe = try await broker.send(method, path, as: "bob")
                #expect(probe.status == .notFound, "\(path)")
            }
            let relay =
                #"{"mx":true,"type":"mx/connect/memberDeleted","metadata":{"user_guid":"\#(try #require(try await broker.relayedUserGUID(as: "bob")))","session_guid":"S","member_guid":"\#(member)"}}"#
            _ = try await broker.relay(relay, as: "bob")

            let stream = try await broker.openEvents(as: "alice")
            #expect(try await broker.send(.post, "/v1/members/\(member)/aggregate", as: "alice").status == .accepted)
            try await broker.waitForAggregation(of: member, as: "alice")
            try await stream.wait { $0.contains { $0.event == "aggregation.completed" } }
            let view = try await broker.send(.get, "/v1/members/\(member)", as: "alice")
            #expect(view.status == .ok)
            #expect((try view.json["member"] as? [String: Any])?["connection_status"] as? String == "CONNECTED")
            stream.close()
        }
    }
}
