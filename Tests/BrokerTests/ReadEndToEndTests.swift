import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import Broker

@Suite("Caller-scoped reads end to end")
struct ReadEndToEndTests {
    @Test("a caller reads their members, accounts and transactions, in MX's shapes", arguments: ["v20250224", "v20111101"])
    func reads(version: String) async throws {
        try await withBroker(sandboxEnvironment(["MX_API_VERSION": version])) { broker async throws in
            let member = try await broker.connectMember(as: "alice")

            let members = try #require(try await broker.send(.get, "/v1/members", as: "alice").json["members"] as? [[String: Any]])
            #expect(members.map { $0["guid"] as? String } == [member])

            let accountsBody = try await broker.send(.get, "/v1/accounts?records_per_page=2&page=1", as: "alice").json
            let accounts = try #require(accountsBody["accounts"] as? [[String: Any]])
            #expect(accounts.count == 2)
            let pagination = try #require(accountsBody["pagination"] as? [String: Any])
            #expect(pagination["per_page"] as? Int == 2)
            #expect((pagination["total_entries"] as? Int ?? 0) >= 3)
            let account = try #require(accounts.first?["guid"] as? String)
            #expect(try await broker.send(.get, "/v1/accounts/\(account)", as: "alice").json["account"] != nil)
            #expect((try await broker.send(.get, "/v1/members/\(member)/accounts", as: "alice").json["accounts"] as? [Any])?.isEmpty == false)

            let today = CalendarDayText.today(offset: 0)
            let weekAgo = CalendarDayText.today(offset: -7)
            let ranged = try #require(
                try await broker.send(
                    .get,
                    "/v1/accounts/\(account)/transactions?from_date=\(weekAgo)&to_date=\(today)&records_per_page=1000",
                    as: "alice"
                )
                .json["transactions"] as? [[String: Any]]
            )
            #expect(!ranged.isEmpty)
            #expect(ranged.allSatisfy { ($0["date"] as? String).map { $0 >= weekAgo && $0 <= today } == true })
            #expect(ranged.allSatisfy { $0["amount"] is NSNumber && $0["account_guid"] as? String == account })

            let memberTransactions = try await broker.send(.get, "/v1/members/\(member)/transactions?records_per_page=5", as: "alice").json
            #expect((memberTransactions["transactions"] as? [Any])?.count == 5)
            let all = try await broker.send(.get, "/v1/transactions?page=2&records_per_page=10", as: "alice").json
            #expect((all["pagination"] as? [String: Any])?["current_page"] as? Int == 2)
        }
    }

    @Test("user B can see nothing of user A's")
    func isolation() async throws {
        try await withBroker { broker async throws in
            let member = try await broker.connectMember(as: "alice")
            let accounts = try #require(try await broker.send(.get, "/v1/accounts", as: "alice").json["accounts"] as? [[String: Any]])
            let account = try #require(accounts.first?["guid"] as? String)

            for path in ["/v1/members", "/v1/accounts", "/v1/transactions"] {
                let body = try await broker.send(.get, path, as: "bob").json
                let key = String(path.split(separator: "/").last!)
                #expect((body[key] as? [Any])?.isEmpty == true, "\(path) for bob")
            }
            _ = try await broker.mintWidgetURL(as: "bob")
            for path in [
                "/v1/members/\(member)", "/v1/members/\(member)/accounts", "/v1/members/\(member)/transactions",
                "/v1/accounts/\(account)", "/v1/accounts/\(account)/transactions",
            ] {
                let response = try await broker.send(.get, path, as: "bob")
                #expect(response.status == .notFound, "\(path) for bob")
                #expect(response.errorCode == "not_found")
            }
            #expect((try await broker.send(.get, "/v1/members", as: "bob").json["members"] as? [Any])?.isEmpty == true)
        }
    }

    @Test("a caller with no MX user yet reads empty lists and creates nothing")
    func noUserYet() async throws {
        try await withBroker { broker async throws in
            let body = try await broker.send(.get, "/v1/transactions?records_per_page=50&page=3", as: "newcomer").json
            #expect((body["transactions"] as? [Any])?.isEmpty == true)
            #expect((body["pagination"] as? [String: Any])?["per_page"] as? Int == 50)
            #expect(try await broker.send(.get, "/v1/accounts/ACT-1", as: "newcomer").status == .notFound)
            #expect((try await broker.sandbox("/users")["users"] as? [Any])?.isEmpty == true)
        }
    }

    @Test(
        "paging and date parameters are checked before MX sees them",
        arguments: [
            "records_per_page=0", "records_per_page=1001", "records_per_page=ten", "page=0", "page=-1",
            "from_date=2025-02-30", "to_date=yesterday", "from_date=2025-03-01&to_date=2025-02-01",
        ]
    )
    func invalidQueries(query: String) async throws {
        try await withBroker { broker async throws in
            let response = try await broker.send(.get, "/v1/transactions?\(query)", as: "alice")
            #expect(response.status == .badRequest)
            #expect(response.errorCode?.hasPrefix("invalid_") == true)
        }
    }

    @Test("identifiers that could escape the caller's MX path are not found")
    func pathInjection() async throws {
        try await withBroker { broker async throws in
            _ = try await broker.mintWidgetURL(as: "alice")
            for guid in ["..%2F..%2Fusers", "ACT-1%3Fpage%3D2", "MBR%20x"] {
                #expect(try await broker.send(.get, "/v1/accounts/\(guid)", as: "alice").status == .notFound)
            }
        }
    }
}

/// `YYYY-MM-DD` of today (UTC) plus `offset` days.
enum CalendarDayText {
    static func today(offset: Int) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let date = calendar.date(byAdding: .day, value: offset, to: Date())!
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!)
    }
}
