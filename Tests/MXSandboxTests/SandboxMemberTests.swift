import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOFoundationCompat
import Testing

@testable import MXSandbox

@Suite("Sandbox: members, accounts, transactions, widget URLs")
struct SandboxMemberTests {
    @Test("a member with MX Bank's test credentials goes CREATED → CONNECTED, then has accounts")
    func memberConnects() async throws {
        try await withSandbox(connectDelay: .seconds(3)) { client async throws in
            let user = try await client.createUser(id: "u1")
            let member = try await client.createMember(user: user)
            let first = try #require(try await client.mx(.get, "/users/\(user)/members/\(member)").json["member"] as? [String: Any])
            #expect(first["connection_status"] as? String == "CREATED")
            #expect(first["is_being_aggregated"] as? Bool == true)
            let before = try await client.mx(.get, "/users/\(user)/accounts").json["accounts"] as? [Any]
            #expect(before?.isEmpty == true, "no accounts before the member connects")

            #expect(try await client.settledStatus(user: user, member: member) == "CONNECTED")
            let accounts = try #require(try await client.mx(.get, "/users/\(user)/members/\(member)/accounts").json["accounts"] as? [[String: Any]])
            let types = Set(accounts.compactMap { $0["type"] as? String })
            #expect(types.isSuperset(of: ["CHECKING", "SAVINGS", "CREDIT_CARD"]))
        }
    }

    @Test("wrong credentials and a denying institution end DENIED")
    func memberDenied() async throws {
        try await withSandbox { client async throws in
            let user = try await client.createUser(id: "u1")
            let wrong = try await client.createMember(user: user, password: "nope")
            let denied = try await client.createMember(user: user, institution: "denied_bank")
            #expect(try await client.settledStatus(user: user, member: wrong) == "DENIED")
            #expect(try await client.settledStatus(user: user, member: denied) == "DENIED")
        }
    }

    @Test("a member needs a value for each credential of a known institution")
    func memberValidation() async throws {
        try await withSandbox { client async throws in
            let user = try await client.createUser(id: "u1")
            #expect(
                try await client.mx(.post, "/users/\(user)/members", #"{"member":{"institution_code":"mxbank","credentials":[]}}"#).status
                    == .badRequest
            )
            #expect(
                try await client.mx(.post, "/users/\(user)/members", #"{"member":{"institution_code":"nowhere","credentials":[]}}"#).status
                    == .badRequest
            )
        }
    }

    @Test("another user's member is not found")
    func memberScopedToUser() async throws {
        try await withSandbox { client async throws in
            let alice = try await client.createUser(id: "alice")
            let bob = try await client.createUser(id: "bob")
            let member = try await client.createMember(user: alice)
            #expect(try await client.mx(.get, "/users/\(bob)/members/\(member)").status == .notFound)
            #expect(try await client.mx(.get, "/users/\(bob)/members/\(member)/transactions").status == .notFound)
        }
    }

    @Test("transactions: at least 90 days per account, the same on every read, paged as MX pages")
    func transactions() async throws {
        try await withSandbox(connectDelay: .zero) { client async throws in
            let user = try await client.createUser(id: "u1")
            let member = try await client.createMember(user: user)
            let accounts = try #require(try await client.mx(.get, "/users/\(user)/members/\(member)/accounts").json["accounts"] as? [[String: Any]])
            let checking = try #require(accounts.first { $0["type"] as? String == "CHECKING" }?["guid"] as? String)

            let first = try await client.mx(.get, "/users/\(user)/accounts/\(checking)/transactions?records_per_page=1000")
            let again = try await client.mx(.get, "/users/\(user)/accounts/\(checking)/transactions?records_per_page=1000")
            #expect(first.body == again.body)
            let list = try #require(try first.json["transactions"] as? [[String: Any]])
            let dates = list.compactMap { $0["date"] as? String }.sorted()
            let oldest = try #require(dates.first.flatMap(SandboxClock.day(parsing:)))
            let newest = try #require(dates.last.flatMap(SandboxClock.day(parsing:)))
            #expect(newest - oldest >= 90)

            let page = try await client.mx(.get, "/users/\(user)/transactions?records_per_page=10&page=2").json
            let pagination = try #require(page["pagination"] as? [String: Any])
            #expect(pagination["current_page"] as? Int == 2)
            #expect(pagination["per_page"] as? Int == 10)
            #expect((page["transactions"] as? [Any])?.count == 10)
            let oversized = try #require(
                try await client.mx(.get, "/users/\(user)/transactions?records_per_page=5000").json["pagination"] as? [String: Any]
            )
            #expect(oversized["per_page"] as? Int == 25, "MX falls back to 25 above its maximum")
        }
    }

    @Test("date filters: YYYY-MM-DD in v20111101, unix timestamps in v20250224")
    func dateFilters() async throws {
        try await withSandbox(connectDelay: .zero) { client async throws in
            let user = try await client.createUser(id: "u1")
            _ = try await client.createMember(user: user)
            let today = SandboxClock.day(of: Date())
            let from = SandboxClock.dateText(day: today - 10)
            let to = SandboxClock.dateText(day: today - 5)

            let v1 = try await client.mx(
                .get,
                "/users/\(user)/transactions?records_per_page=1000&from_date=\(from)&to_date=\(to)",
                version: "v20111101"
            ).json
            let v1Dates = Set(try #require(v1["transactions"] as? [[String: Any]]).compactMap { $0["date"] as? String })
            #expect(!v1Dates.isEmpty)
            #expect(v1Dates.allSatisfy { $0 >= from && $0 <= to })

            let fromStamp = (today - 10) * 86_400
            let toStamp = (today - 5) * 86_400 + 86_399
            let v2 = try await client.mx(.get, "/users/\(user)/transactions?records_per_page=1000&from_date=\(fromStamp)&to_date=\(toStamp)").json
            let v2Dates = Set(try #require(v2["transactions"] as? [[String: Any]]).compactMap { $0["date"] as? String })
            #expect(v2Dates == v1Dates)

            #expect(try await client.mx(.get, "/users/\(user)/transactions?from_date=\(from)").status == .badRequest)
            #expect(try await client.mx(.get, "/users/\(user)/transactions?from_date=\(fromStamp)", version: "v20111101").status == .badRequest)
        }
    }

    @Test("a widget URL opens the connect page once; its form creates a member")
    func widgetURL() async throws {
        try await withSandbox { client async throws in
            let user = try await client.createUser(id: "u1")
            let minted = try await client.execute(
                uri: "/users/\(user)/widget_urls",
                method: .post,
                headers: {
                    var h = mxHeaders()
                    h[.acceptLanguage] = "fr-CA,fr;q=0.8"
                    return h
                }(),
                body: ByteBuffer(string: #"{"widget_url":{"widget_type":"connect_widget"}}"#)
            ) { $0 }
            let widget = try #require(try minted.json["widget_url"] as? [String: Any])
            #expect(widget["type"] as? String == "connect_widget")
            #expect(widget["user_id"] as? String == "u1")
            let url = try #require((widget["url"] as? String).flatMap(URLComponents.init(string:)))

            let page = try await client.execute(uri: url.path, method: .get) { $0 }
            #expect(page.status == .ok)
            let html = String(buffer: page.body)
            #expect(html.contains(#"<html lang="fr-CA">"#))
            #expect(try await client.execute(uri: url.path, method: .get) { $0 }.status == .notFound, "single use")

            let action = try #require(html.firstMatch(of: /action="(sessions\/[^"]+)"/)?.1)
            let directory = url.path[..<url.path.lastIndex(of: "/")!]
            let submitted = try await client.execute(
                uri: "\(directory)/\(action)",
                method: .post,
                headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "institution_code=mxbank&username=mxuser&password=password")
            ) { $0 }
            #expect(submitted.status == .ok)
            let members = try #require(try await client.mx(.get, "/users/\(user)/members").json["members"] as? [[String: Any]])
            #expect(members.count == 1)
        }
    }

    @Test("a widget URL expires", .timeLimit(.minutes(1)))
    func widgetURLExpires() async throws {
        try await withSandbox(widgetURLLifetime: .milliseconds(1)) { client async throws in
            let user = try await client.createUser(id: "u1")
            let widget = try #require(
                try await client.mx(.post, "/users/\(user)/widget_urls", #"{"widget_url":{"widget_type":"connect_widget"}}"#).json["widget_url"]
                    as? [String: Any]
            )
            let url = try #require((widget["url"] as? String).flatMap(URLComponents.init(string:)))
            try await Task.sleep(for: .milliseconds(20))
            #expect(try await client.execute(uri: url.path, method: .get) { $0 }.status == .notFound)
        }
    }

    @Test("widget URLs need a widget_type and a current_member_guid of the same user")
    func widgetURLValidation() async throws {
        try await withSandbox { client async throws in
            let alice = try await client.createUser(id: "alice")
            let bob = try await client.createUser(id: "bob")
            let member = try await client.createMember(user: alice)
            #expect(try await client.mx(.post, "/users/\(alice)/widget_urls", #"{"widget_url":{}}"#).status == .badRequest)
            #expect(
                try await client.mx(
                    .post,
                    "/users/\(bob)/widget_urls",
                    #"{"widget_url":{"widget_type":"connect_widget","current_member_guid":"\#(member)"}}"#
                ).status == .notFound
            )
            #expect(
                try await client.mx(
                    .post,
                    "/users/\(alice)/widget_urls",
                    #"{"widget_url":{"widget_type":"connect_widget","current_member_guid":"\#(member)"}}"#
                ).status == .ok
            )
        }
    }
}
