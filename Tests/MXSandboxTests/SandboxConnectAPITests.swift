import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import MXSandbox

@Suite("Sandbox: connecting without the widget")
struct SandboxConnectAPITests {
    @Test("MFA: the challenges (text, choice, image) answered right go RESUMED → CONNECTED; 204 once none are asked")
    func mfaRight() async throws {
        try await withSandbox { client async throws in
            let user = try await client.createUser(id: "u1")
            let member = try await client.createMember(user: user, institution: "mxbank_mfa")
            #expect(try await client.settledStatus(user: user, member: member) == "CHALLENGED")

            let asked = try await client.mx(.get, "/users/\(user)/members/\(member)/challenges")
            #expect(asked.status == .ok)
            let challenges = try #require(try asked.json["challenges"] as? [[String: Any]])
            #expect(Set(challenges.compactMap { $0["type"] as? String }) == ["TEXT", "OPTIONS", "IMAGE_DATA"])
            let image = try #require(challenges.first { $0["type"] as? String == "IMAGE_DATA" }?["image_data"] as? String)
            #expect(image.hasPrefix("data:image/svg+xml;base64,"))
            let status = try #require(try await client.mx(.get, "/users/\(user)/members/\(member)/status").json["member"] as? [String: Any])
            #expect((status["challenges"] as? [Any])?.count == 3)

            let resumed = try await client.mx(.put, "/users/\(user)/members/\(member)/resume", Self.answers(right: true))
            #expect(resumed.status == .accepted)
            #expect((try resumed.json["member"] as? [String: Any])?["connection_status"] as? String == "RESUMED")
            #expect(try await client.status(of: member, user: user, becomes: ["CONNECTED", "REJECTED"]) == "CONNECTED")
            #expect(try await client.mx(.get, "/users/\(user)/members/\(member)/challenges").status == .noContent)
            #expect(try await client.mx(.put, "/users/\(user)/members/\(member)/resume", Self.answers(right: true)).status == .conflict)
        }
    }

    @Test("MFA: wrong answers end REJECTED; answers must cover every challenge")
    func mfaWrong() async throws {
        try await withSandbox { client async throws in
            let user = try await client.createUser(id: "u1")
            let member = try await client.createMember(user: user, institution: "mxbank_mfa")
            #expect(try await client.settledStatus(user: user, member: member) == "CHALLENGED")
            let partial = #"{"member":{"challenges":[{"guid":"CRD-mfa-text","value":"mxcity"}]}}"#
            #expect(try await client.mx(.put, "/users/\(user)/members/\(member)/resume", partial).status == .badRequest)
            #expect(try await client.mx(.put, "/users/\(user)/members/\(member)/resume", Self.answers(right: false)).status == .accepted)
            #expect(try await client.status(of: member, user: user, becomes: ["CONNECTED", "REJECTED"]) == "REJECTED")
        }
    }

    @Test("new credentials retry a DENIED member, which then connects")
    func credentialUpdate() async throws {
        try await withSandbox { client async throws in
            let user = try await client.createUser(id: "u1")
            let member = try await client.createMember(user: user, password: "wrong")
            #expect(try await client.settledStatus(user: user, member: member) == "DENIED")
            let body =
                #"{"member":{"credentials":[{"guid":"CRD-mxbank-username","value":"mxuser"},{"guid":"CRD-mxbank-password","value":"password"}]}}"#
            let updated = try await client.mx(.put, "/users/\(user)/members/\(member)", body)
            #expect(updated.status == .ok)
            #expect((try updated.json["member"] as? [String: Any])?["connection_status"] as? String == "CREATED")
            #expect(try await client.status(of: member, user: user, becomes: ["CONNECTED", "DENIED"]) == "CONNECTED")
            let missing = #"{"member":{"credentials":[{"guid":"CRD-mxbank-username","value":"mxuser"}]}}"#
            #expect(try await client.mx(.put, "/users/\(user)/members/\(member)", missing).status == .badRequest)
            #expect(try await client.mx(.put, "/users/\(user)/members/\(member)", #"{"member":{}}"#).status == .badRequest)
        }
    }

    @Test("a second member with the same institution and credentials is a 409; other credentials are not")
    func duplicateMember() async throws {
        try await withSandbox { client async throws in
            let user = try await client.createUser(id: "u1")
            _ = try await client.createMember(user: user)
            let body =
                #"{"member":{"institution_code":"mxbank","credentials":[{"guid":"CRD-mxbank-username","value":"mxuser"},{"guid":"CRD-mxbank-password","value":"password"}]}}"#
            #expect(try await client.mx(.post, "/users/\(user)/members", body).status == .conflict)
            _ = try await client.createMember(user: user, password: "other")
            let other = try await client.createUser(id: "u2")
            _ = try await client.createMember(user: other)
        }
    }

    @Test("OAuth: the window URI's page authorizes and returns to the client redirect URL, or to the app's scheme")
    func oauthWindow() async throws {
        try await withSandbox { client async throws in
            let user = try await client.createUser(id: "u1")
            let created = try await client.mx(.post, "/users/\(user)/members", #"{"member":{"institution_code":"mxbank_oauth","credentials":[]}}"#)
            let member = try #require((try created.json["member"] as? [String: Any])?["guid"] as? String)

            let redirect = "https://app.example.com/oauth/done"
            let query = "referral_source=APP&client_redirect_url=\(redirect.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)"
            let window = try #require(
                try await client.mx(.get, "/users/\(user)/members/\(member)/oauth_window_uri?\(query)").json["member"] as? [String: Any]
            )
            #expect(window["guid"] as? String == member)
            let windowURI = try #require(window["oauth_window_uri"] as? String)
            let page = try #require(URLComponents(string: windowURI)?.path)
            #expect(try await client.execute(uri: page, method: .get) { $0 }.status == .ok)
            let authorized = try await client.execute(uri: page + "/authorize", method: .post) { $0 }
            #expect(authorized.status == .seeOther)
            #expect(authorized.headers[.location] == "\(redirect)?status=success&member_guid=\(member)")
            #expect(try await client.status(of: member, user: user, becomes: ["CONNECTED"]) == "CONNECTED")

            let second = try await client.mx(.post, "/users/\(user)/members", #"{"member":{"institution_code":"mxbank_oauth","credentials":[]}}"#)
            let app = try #require((try second.json["member"] as? [String: Any])?["guid"] as? String)
            let appWindow = try #require(
                try await client.mx(.get, "/users/\(user)/members/\(app)/oauth_window_uri?referral_source=APP&ui_message_webview_url_scheme=myapp")
                    .json["member"] as? [String: Any]
            )
            let appWindowURI = try #require(appWindow["oauth_window_uri"] as? String)
            let appPage = try #require(URLComponents(string: appWindowURI)?.path)
            let returned = try await client.execute(uri: appPage + "/authorize", method: .post) { $0 }
            #expect(returned.headers[.location] == "myapp://oauth_complete?status=success&member_guid=\(app)")
        }
    }

    @Test("OAuth windows only for OAuth members; the denied institution denies")
    func oauthOnlyForOAuth() async throws {
        try await withSandbox { client async throws in
            let user = try await client.createUser(id: "u1")
            let member = try await client.createMember(user: user)
            #expect(try await client.mx(.get, "/users/\(user)/members/\(member)/oauth_window_uri").status == .badRequest)
            let denied = try await client.createMember(user: user, institution: "denied_bank")
            #expect(try await client.settledStatus(user: user, member: denied) == "DENIED")
        }
    }

    /// A resume body answering the MFA institution's three challenges.
    static func answers(right: Bool) -> String {
        let values = right ? ["mxcity", "checking-1234", "7291"] : ["nowhere", "savings-9876", "0000"]
        return #"{"member":{"challenges":[{"guid":"CRD-mfa-text","value":"\#(values[0])"},"#
            + #"{"guid":"CRD-mfa-options","value":"\#(values[1])"},{"guid":"CRD-mfa-image","value":"\#(values[2])"}]}}"#
    }
}

extension TestClientProtocol {
    /// Polls the member until its status is one of `statuses`, for at most five seconds.
    func status(of member: String, user: String, becomes statuses: Set<String>) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(5)
        var status = ""
        while ContinuousClock.now < deadline {
            let read = try #require(try await mx(.get, "/users/\(user)/members/\(member)").json["member"] as? [String: Any])
            status = try #require(read["connection_status"] as? String)
            if statuses.contains(status) { return status }
            try await Task.sleep(for: .milliseconds(50))
        }
        return status
    }
}
