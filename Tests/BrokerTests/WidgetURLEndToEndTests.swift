import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import Broker

@Suite("POST /v1/widget_urls end to end")
struct WidgetURLEndToEndTests {
    @Test("mints MX's widget_url for the caller, whose MX user id is derived, URL-safe and free of the subject")
    func mint() async throws {
        try await withBroker { broker async throws in
            let widget = try await broker.mintWidgetURL(as: "alice@example.com", #"{"widget_type":"connect_widget","ui_message_version":1}"#)
            #expect(widget["type"] as? String == "connect_widget")
            #expect((widget["url"] as? String)?.contains("/sandbox/mx/widget/") == true)
            let userID = try #require(widget["user_id"] as? String)
            #expect(userID.wholeMatch(of: /cb_[0-9a-f]{40}/) != nil)
            #expect(!userID.contains("alice"))
        }
    }

    @Test("50 concurrent first calls for one new subject create exactly one MX user", .timeLimit(.minutes(2)))
    func exactlyOnce() async throws {
        try await withBroker(sandboxEnvironment(["RATE_LIMIT_WIDGET_URLS_PER_MINUTE": "100"])) { broker async throws in
            let userIDs = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<50 {
                    group.addTask { try #require(try await broker.mintWidgetURL(as: "concurrent-subject")["user_id"] as? String) }
                }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(userIDs.count == 1)
            let users = try #require(try await broker.sandbox("/users?records_per_page=1000")["users"] as? [[String: Any]])
            #expect(users.count == 1)
            _ = try await broker.mintWidgetURL(as: "someone-else")
            let after = try #require(try await broker.sandbox("/users?records_per_page=1000")["users"] as? [[String: Any]])
            #expect(after.count == 2)
        }
    }

    @Test("an existing MX user with the derived id is adopted, not duplicated")
    func adoptsExistingUser() async throws {
        let environment = sandboxEnvironment(["USER_ID_SECRET": "shared-user-id-secret"])
        try await withBroker(environment) { broker async throws in
            let first = try #require(try await broker.mintWidgetURL(as: "bob")["user_id"] as? String)
            let store = try BrokerStoreReset(dataDirectory: environment["DATA_DIR"]!)
            try await store.forget(subject: "bob")
            let second = try #require(try await broker.mintWidgetURL(as: "bob")["user_id"] as? String)
            #expect(first == second)
            let users = try #require(try await broker.sandbox("/users")["users"] as? [[String: Any]])
            #expect(users.count == 1)
        }
    }

    @Test("current_member_guid must be one of the caller's members")
    func currentMember() async throws {
        try await withBroker { broker async throws in
            let member = try await broker.connectMember(as: "alice")
            _ = try await broker.mintWidgetURL(as: "alice", #"{"current_member_guid":"\#(member)"}"#)
            let stolen = try await broker.send(.post, "/v1/widget_urls", as: "mallory", json: #"{"widget_url":{"current_member_guid":"\#(member)"}}"#)
            #expect(stolen.status == .notFound)
            #expect(stolen.errorCode == "not_found")
        }
    }

    @Test("client_redirect_url must be under an allowed URL: look-alike hosts, user info and sibling paths are refused")
    func redirectPrefixes() async throws {
        try await withBroker(
            sandboxEnvironment(["ALLOWED_REDIRECT_URL_PREFIXES": "https://app.example.com/oauth", "RATE_LIMIT_WIDGET_URLS_PER_MINUTE": "0"])
        ) { broker async throws in
            _ = try await broker.mintWidgetURL(as: "alice", #"{"client_redirect_url":"https://APP.example.com/oauth/done?x=1"}"#)
            for url in RedirectAttacks.urls {
                let open = try await broker.send(
                    .post,
                    "/v1/widget_urls",
                    as: "alice",
                    json: String(decoding: try JSONEncoder().encode(["widget_url": ["client_redirect_url": url]]), as: UTF8.self)
                )
                #expect(open.status == .badRequest, "\(url)")
                #expect(open.errorCode == "redirect_not_allowed", "\(url)")
            }
        }
    }

    @Test("Accept-Language reaches MX: the widget page opens in the caller's language")
    func acceptLanguage() async throws {
        try await withBroker { broker async throws in
            let widget = try await broker.mintWidgetURL(as: "alice", headers: [.acceptLanguage: "fr-CA,fr;q=0.9"])
            let url = try #require((widget["url"] as? String).flatMap(URLComponents.init(string:)))
            let page = try await broker.client.execute(uri: url.path, method: .get) { $0 }
            #expect(String(buffer: page.body).contains(#"<html lang="fr-CA">"#))
            let bad = try await broker.send(.post, "/v1/widget_urls", as: "alice", json: "{}", headers: [.acceptLanguage: "<script>"])
            #expect(bad.status == .badRequest)
        }
    }

    @Test("the sandbox's development token works: the secret is generated once under DATA_DIR")
    func developmentToken() async throws {
        var settings = sandboxEnvironment()
        settings["JWT_HS256_SECRET"] = nil
        let environment = settings
        try await withBroker(environment) { broker async throws in
            let minted = try await broker.send(.post, "/v1/sandbox/token", json: #"{"sub":"dev-user"}"#).json
            let token = try #require(minted["token"] as? String)
            let accounts = try await broker.send(.get, "/v1/accounts", headers: [.authorization: "Bearer \(token)"])
            #expect(accounts.status == .ok)
            let fileSecret = try LocalSecret.loadOrCreate(LocalSecret.developmentTokenSecretFile, in: environment["DATA_DIR"]!)
            let cliToken = try await DevTokenSigner(secret: fileSecret).token(subject: "cli-user", lifetime: 60)
            #expect(try await broker.send(.get, "/v1/accounts", headers: [.authorization: "Bearer \(cliToken)"]).status == .ok)
            #expect(try await broker.send(.get, "/v1/accounts", as: "signed-with-another-secret").status == .unauthorized)
        }
    }

    @Test("CORS: configured origins get preflight and response headers; others get none")
    func cors() async throws {
        try await withBroker(sandboxEnvironment(["CORS_ALLOWED_ORIGINS": "https://app.example"])) { broker async throws in
            let preflightHeaders: HTTPFields = [
                .origin: "https://app.example", .accessControlRequestMethod: "POST",
                .accessControlRequestHeaders: "authorization, content-type, accept-language",
            ]
            let preflight = try await broker.client.execute(uri: "/v1/widget_urls", method: .options, headers: preflightHeaders) { $0 }
            #expect(preflight.status == .noContent)
            #expect(preflight.headers[.accessControlAllowOrigin] == "https://app.example")
            let methods = preflight.headers[.accessControlAllowMethods] ?? ""
            #expect(
                ["GET", "POST", "PUT", "DELETE"].allSatisfy(methods.contains),
                "every method the API's routes take, PUT for resume and credentials"
            )
            let allowed = (preflight.headers[.accessControlAllowHeaders] ?? "").lowercased()
            #expect(["authorization", "content-type", "accept", "accept-language"].allSatisfy(allowed.contains))

            let actual = try await broker.send(.post, "/v1/widget_urls", as: "alice", json: "{}", headers: [.origin: "https://app.example"])
            #expect(actual.headers[.accessControlAllowOrigin] == "https://app.example")
            let read = try await broker.send(.get, "/v1/members", as: "alice", headers: [.origin: "https://app.example"])
            #expect(read.headers[.vary] == "Accept-Encoding, Origin", "a cache keeps gzip and plain answers apart as well as origins")

            var foreign = preflightHeaders
            foreign[.origin] = "https://evil.example"
            let refused = try await broker.client.execute(uri: "/v1/widget_urls", method: .options, headers: foreign) { $0 }
            #expect(refused.headers[.accessControlAllowOrigin] == nil)
            let foreignCall = try await broker.send(.post, "/v1/widget_urls", as: "alice", json: "{}", headers: [.origin: "https://evil.example"])
            #expect(foreignCall.headers[.accessControlAllowOrigin] == nil)
        }
    }

    @Test("logs at trace level carry neither the MX api key nor widget URLs nor tokens")
    func noSecretsInLogs() async throws {
        let logs = LogCapture()
        try await withBroker(logs: logs) { broker async throws in
            let widget = try await broker.mintWidgetURL(as: "alice")
            let url = try #require(widget["url"] as? String)
            let token = try await broker.token("alice")
            _ = try await broker.send(.get, "/v1/accounts", headers: [.authorization: "Bearer \(token)"])
            let text = logs.text
            #expect(text.contains("Minted widget URL"), "the capture works")
            #expect(!text.contains("sandbox-api-key"))
            #expect(!text.contains(Data("sandbox-client-id:sandbox-api-key".utf8).base64EncodedString()))
            #expect(!text.contains(url))
            #expect(!text.contains(String(url.split(separator: "/").last!)))
            #expect(!text.contains(token))
        }
    }
}
