import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOFoundationCompat
import Testing

@testable import MXSandbox

@Suite("Sandbox API: auth, versions, users")
struct SandboxAPITests {
    @Test("calls without Basic credentials or with wrong ones are refused with 401")
    func authentication() async throws {
        try await withSandbox { client async throws in
            let missing = try await client.execute(uri: "/users", method: .get, headers: [.accept: "application/vnd.mx.api.v1+json"]) { $0 }
            #expect(missing.status == .unauthorized)
            let wrong = try await client.execute(uri: "/users", method: .get, headers: mxHeaders(credentials: "sandbox-client-id:nope")) { $0 }
            #expect(wrong.status == .unauthorized)
        }
    }

    @Test("a call without a valid version header is refused with 406")
    func versionRequired() async throws {
        try await withSandbox { client async throws in
            var headers = mxHeaders()
            headers[HTTPField.Name("Accept-Version")!] = nil
            headers[.accept] = "application/json"
            #expect(try await client.execute(uri: "/users", method: .get, headers: headers) { $0 }.status == .notAcceptable)
            #expect(try await client.mx(.get, "/users", version: "v20990101").status == .notAcceptable)
        }
    }

    @Test(
        "each version answers with its own content type",
        arguments: [("v20111101", "application/vnd.mx.api.v1+json"), ("v20250224", "application/json")]
    )
    func contentTypes(version: String, contentType: String) async throws {
        try await withSandbox { client async throws in
            let response = try await client.mx(.get, "/users", version: version)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == contentType)
        }
    }

    @Test("users: create, reuse of an id is a 409, list by id, read, delete")
    func userLifecycle() async throws {
        try await withSandbox { client async throws in
            let guid = try await client.createUser(id: "app-user-1")
            #expect(guid.hasPrefix("USR-"))
            #expect(try await client.mx(.post, "/users", #"{"user":{"id":"app-user-1"}}"#).status == .conflict)
            _ = try await client.createUser(id: "app-user-2")

            let listed = try await client.mx(.get, "/users?id=app-user-1").json
            let users = try #require(listed["users"] as? [[String: Any]])
            #expect(users.map { $0["guid"] as? String } == [guid])
            let pagination = try #require(listed["pagination"] as? [String: Any])
            #expect(pagination["total_entries"] as? Int == 1)

            #expect(try await client.mx(.get, "/users/\(guid)").status == .ok)
            #expect(try await client.mx(.get, "/users/app-user-1").status == .ok, "v20250224 addresses users by id too")
            #expect(try await client.mx(.get, "/users/app-user-1", version: "v20111101").status == .notFound)
            #expect(try await client.mx(.delete, "/users/\(guid)").status == .noContent)
            #expect(try await client.mx(.get, "/users/\(guid)").status == .notFound)
        }
    }

    @Test("users: an empty user, a non-URL-safe id and malformed JSON are 400")
    func userValidation() async throws {
        try await withSandbox { client async throws in
            #expect(try await client.mx(.post, "/users", #"{"user":{}}"#).status == .badRequest)
            #expect(try await client.mx(.post, "/users", #"{"user":{"id":"has space"}}"#).status == .badRequest)
            #expect(try await client.mx(.post, "/users", #"{"user":"#).status == .badRequest)
        }
    }

    @Test("institutions and their credential fields")
    func institutions() async throws {
        try await withSandbox { client async throws in
            let list = try await client.mx(.get, "/institutions?name=mx").json
            let codes = try #require(list["institutions"] as? [[String: Any]]).compactMap { $0["code"] as? String }
            #expect(codes.contains("mxbank"))
            let credentials = try #require(try await client.mx(.get, "/institutions/mxbank/credentials").json["credentials"] as? [[String: Any]])
            #expect(credentials.compactMap { $0["field_name"] as? String } == ["username", "password"])
            #expect(try await client.mx(.get, "/institutions/nowhere").status == .notFound)
        }
    }

    @Test("institutions in each version's shape, advertising exactly the products each serves; v20250224 finds one by guid too")
    func institutionShapes() async throws {
        try await withSandbox { client async throws in
            let current = try #require(try await client.mx(.get, "/institutions/mxbank").json["institution"] as? [String: Any])
            #expect(
                current["supported_products"] as? [String] == [
                    "account_verification", "identity_verification", "transactions", "transaction_history", "statements", "investments",
                ]
            )
            let basic = try #require(try await client.mx(.get, "/institutions/mx_credit_union").json["institution"] as? [String: Any])
            #expect(basic["supported_products"] as? [String] == ["transactions"])
            #expect(current["supports_account_verification"] == nil)
            #expect(current["is_hidden"] as? Bool == false)
            let guid = try #require(current["guid"] as? String)
            #expect(try await client.mx(.get, "/institutions/\(guid)").status == .ok)
            #expect(try await client.mx(.get, "/institutions/\(guid)/credentials").status == .ok)

            let older = try #require(try await client.mx(.get, "/institutions/mxbank", version: "v20111101").json["institution"] as? [String: Any])
            #expect(older["supported_products"] == nil)
            #expect(older["supports_account_verification"] as? Bool == true)
            #expect(older["supports_account_identification"] as? Bool == true)
            for flag in ["supports_account_statement", "supports_transaction_history"] {
                #expect(older[flag] as? Bool == true, "\(flag): MX Bank serves it")
            }
            let basicOlder = try #require(
                try await client.mx(.get, "/institutions/mx_credit_union", version: "v20111101").json["institution"] as? [String: Any]
            )
            for flag in [
                "supports_account_verification", "supports_account_identification", "supports_account_statement", "supports_transaction_history",
            ] {
                #expect(basicOlder[flag] as? Bool == false, "\(flag): MX Credit Union does not serve it")
            }
            #expect(try await client.mx(.get, "/institutions/\(guid)", version: "v20111101").status == .notFound)

            let page = try await client.mx(.get, "/institutions?records_per_page=101").json["pagination"] as? [String: Any]
            #expect(page?["per_page"] as? Int == 25, "above 100, MX falls back to 25 for institutions")
        }
    }

    @Test("users are found by their bytes, as MX compares them: KELVIN SIGN is not K")
    func lookupsAsBytes() async throws {
        try await withSandbox { client async throws in
            let plain = try #require(
                try await client.mx(.post, "/users", #"{"user":{"id":"plain","email":"Kim@example.com"}}"#).json["user"] as? [String: Any]
            )
            _ = try await client.mx(.post, "/users", #"{"user":{"id":"lookalike","email":"\#u{212A}im@example.com"}}"#)
            let found = try #require(try await client.mx(.get, "/users?email=Kim@example.com").json["users"] as? [[String: Any]])
            #expect(found.map { $0["guid"] as? String } == [plain["guid"] as? String])
        }
    }

    @Test("a user without an email has none in MX's shape: the field is left out, never null")
    func userWithoutEmail() async throws {
        try await withSandbox { client async throws in
            let guid = try await client.createUser(id: "no-email")
            for version in ["v20250224", "v20111101"] {
                let user = try #require(try await client.mx(.get, "/users/\(guid)", version: version).json["user"] as? [String: Any])
                #expect(user["email"] == nil, "\(version)")
                #expect(user["guid"] as? String == guid)
            }
            _ = try await client.mx(.put, "/users/\(guid)", #"{"user":{"email":"a@example.com"}}"#)
            let user = try #require(try await client.mx(.get, "/users/\(guid)").json["user"] as? [String: Any])
            #expect(user["email"] as? String == "a@example.com")
        }
    }

    @Test("deletions need no version header, as MX's v20111101 document and client have it")
    func deletionsWithoutVersion() async throws {
        try await withSandbox { client async throws in
            let guid = try await client.createUser(id: "to-delete")
            let member = try await client.createMember(user: guid)
            var headers = mxHeaders()
            headers[HTTPField.Name("Accept-Version")!] = nil
            headers[.accept] = nil
            #expect(try await client.execute(uri: "/users/\(guid)/members/\(member)", method: .delete, headers: headers) { $0 }.status == .noContent)
            #expect(try await client.execute(uri: "/users/\(guid)", method: .delete, headers: headers) { $0 }.status == .noContent)
            #expect(try await client.execute(uri: "/users", method: .get, headers: headers) { $0 }.status == .notAcceptable)
        }
    }

    @Test("widget_type must be one of MX's widget types")
    func widgetTypes() async throws {
        try await withSandbox { client async throws in
            let guid = try await client.createUser(id: "widgets")
            #expect(try await client.mx(.post, "/users/\(guid)/widget_urls", #"{"widget_url":{"widget_type":"connect_widget"}}"#).status == .ok)
            #expect(try await client.mx(.post, "/users/\(guid)/widget_urls", #"{"widget_url":{"widget_type":"__main__"}}"#).status == .badRequest)
        }
    }

    @Test("a page number past any arithmetic is an empty page, on every list route, and the sandbox keeps serving")
    func hugePages() async throws {
        try await withSandbox { client async throws in
            let guid = try await client.createUser(id: "pages")
            let member = try await client.createMember(user: guid)
            for list in [
                "/institutions", "/users", "/users/\(guid)/members", "/users/\(guid)/accounts", "/users/\(guid)/transactions",
                "/users/\(guid)/members/\(member)/accounts", "/users/\(guid)/members/\(member)/transactions",
            ] {
                for page in ["9223372036854775807", "4611686018427387904"] {
                    let response = try await client.mx(.get, "\(list)?page=\(page)&records_per_page=100")
                    #expect(response.status == .ok, "\(list)")
                    let pagination = try response.json["pagination"] as? [String: Any]
                    #expect(pagination?["current_page"] as? Int == Int(page), "\(list)")
                }
            }
            #expect(try await client.mx(.get, "/users").status == .ok)
        }
    }
}
