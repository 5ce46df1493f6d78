import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOFoundationCompat
import SandboxWidgetDriver
import Testing

@testable import MXSandbox

/// Mints a widget URL for a new user of the sandbox behind `client`; returns (user guid, url).
func mintWidget(_ client: any TestClientProtocol, options: String = "") async throws -> (String, String) {
    let user = try await client.createUser(id: "widget-user-\(UUID().uuidString.prefix(8))")
    let body = #"{"widget_url":{"widget_type":"connect_widget"\#(options)}}"#
    let widget = try #require(try await client.mx(.post, "/users/\(user)/widget_urls", body).json["widget_url"] as? [String: Any])
    return (user, try #require(widget["url"] as? String))
}

@Suite("Sandbox widget: the connect flow and its events")
struct SandboxWidgetFlowTests {
    @Test("a standard connection emits MX's v4 events in MX's order, with user and session on each")
    func standardFlow() async throws {
        try await withSandbox(connectDelay: .seconds(2)) { client async throws in
            let (user, url) = try await mintWidget(client)
            var widget = try await WidgetSessionDriver(client: client, url: url)
            try await widget.call(.post, "/search", ["query": "mx bank"])
            let member = try await widget.connect("mxbank")
            _ = try await widget.poll(member) { $0 == "CONNECTED" }
            try await widget.call(.post, "/done")

            let expected = [
                "mx/load", "mx/connect/loaded", "mx/connect/institutionSearch", "mx/connect/selectedInstitution", "mx/connect/stepChange",
                "mx/connect/enterCredentials", "mx/connect/stepChange", "mx/connect/memberStatusUpdate", "mx/connect/memberStatusUpdate",
                "mx/connect/stepChange", "mx/connect/memberConnected", "mx/connect/connected/primaryAction",
            ]
            #expect(widget.types == expected)
            for event in widget.events.dropFirst() {
                let metadata = try #require(event["metadata"] as? [String: Any])
                #expect(metadata["user_guid"] as? String == user)
                #expect(metadata["session_guid"] as? String == widget.session)
                #expect(event["mx"] as? Bool == true)
            }
            let statuses = widget.events.filter { $0["type"] as? String == "mx/connect/memberStatusUpdate" }
                .compactMap { ($0["metadata"] as? [String: Any])?["connection_status"] as? Int }
            #expect(statuses == [0, 6], "numeric statuses: CREATED then CONNECTED")
            let connected = try #require(widget.events.last { $0["type"] as? String == "mx/connect/memberConnected" })
            #expect((connected["metadata"] as? [String: Any])?["member_guid"] as? String == member)
        }
    }

    @Test("MFA: right answers lead RESUMED → CONNECTED, wrong ones REJECTED", arguments: [true, false])
    func multiFactor(rightAnswers: Bool) async throws {
        try await withSandbox(connectDelay: .seconds(2)) { client async throws in
            let (_, url) = try await mintWidget(client)
            var widget = try await WidgetSessionDriver(client: client, url: url)
            let member = try await widget.connect("mxbank_mfa")
            let challenged = try await widget.poll(member) { $0 == "CHALLENGED" }
            let challenges = try #require(challenged["challenges"] as? [[String: Any]])
            #expect(Set(challenges.compactMap { $0["type"] as? String }) == ["TEXT", "OPTIONS", "IMAGE_DATA"])
            let answers =
                rightAnswers
                ? ["CRD-mfa-text": "MXCity", "CRD-mfa-options": "checking-1234", "CRD-mfa-image": "7291"]
                : ["CRD-mfa-text": "nowhere", "CRD-mfa-options": "savings-9876", "CRD-mfa-image": "0000"]
            try await widget.call(.post, "/members/\(member)/mfa", ["answers": answers])
            let resumed = try await widget.call(.get, "/members/\(member)")
            #expect((resumed["member"] as? [String: Any])?["connection_status"] as? String == "RESUMED")
            let final = try await widget.poll(member) { $0 == "CONNECTED" || $0 == "REJECTED" }
            #expect(final["connection_status"] as? String == (rightAnswers ? "CONNECTED" : "REJECTED"))
            #expect(widget.types.contains("mx/connect/submitMFA"))
            let statuses = widget.events.filter { $0["type"] as? String == "mx/connect/memberStatusUpdate" }
                .compactMap { ($0["metadata"] as? [String: Any])?["connection_status"] as? Int }
            #expect(statuses.prefix(3) == [0, 3, 18])
            #expect(widget.types.contains("mx/connect/memberError") == !rightAnswers)
        }
    }

    @Test("OAuth: oauthRequested names the bank's page; authorizing there returns to the app and connects")
    func oauth() async throws {
        try await withSandbox { client async throws in
            let (_, url) = try await mintWidget(client, options: #","is_mobile_webview":true,"ui_message_webview_url_scheme":"myapp""#)
            var widget = try await WidgetSessionDriver(client: client, url: url)
            #expect(widget.config["mobile"] as? Bool == true)
            #expect(widget.config["scheme"] as? String == "myapp")
            let selected = try await widget.call(.post, "/select", ["institution_code": "mxbank_oauth"])
            #expect((selected["credentials"] as? [Any])?.isEmpty == true)
            let created = try await widget.call(.post, "/members", ["institution_code": "mxbank_oauth"])
            let member = try #require((created["member"] as? [String: Any])?["guid"] as? String)
            let requested = try #require(widget.events.last { $0["type"] as? String == "mx/connect/oauthRequested" })
            let oauthURL = try #require((requested["metadata"] as? [String: Any])?["url"] as? String)
            #expect((try await widget.call(.get, "/members/\(member)")["member"] as? [String: Any])?["connection_status"] as? String == "CREATED")

            let oauthPath = try #require(URLComponents(string: oauthURL)?.path)
            #expect(try await client.execute(uri: oauthPath, method: .get) { $0 }.status == .ok)
            let authorized = try await client.execute(uri: oauthPath + "/authorize", method: .post) { $0 }
            #expect(authorized.status == .seeOther)
            #expect(authorized.headers[.location] == "myapp://oauth_complete?status=success&member_guid=\(member)")
            _ = try await widget.poll(member) { $0 == "CONNECTED" }
        }
    }

    @Test("a denied connection reports its status and MX's memberError; missing credentials are a createMemberError")
    func denied() async throws {
        try await withSandbox { client async throws in
            let (_, url) = try await mintWidget(client)
            var widget = try await WidgetSessionDriver(client: client, url: url)
            try await widget.call(.post, "/members", ["institution_code": "mxbank", "username": "", "password": ""], expect: .badRequest)
            #expect(widget.types.last == "mx/connect/createMemberError")
            let member = try await widget.connect("mxbank", password: "wrong")
            _ = try await widget.poll(member) { $0 == "DENIED" }
            #expect(widget.types.suffix(2) == ["mx/connect/memberStatusUpdate", "mx/connect/memberError"])
        }
    }

    @Test("a widget opened on an existing member starts at its step")
    func currentMember() async throws {
        try await withSandbox(connectDelay: .zero) { client async throws in
            let user = try await client.createUser(id: "u-current")
            let member = try await client.createMember(user: user, institution: "mxbank_mfa")
            let body = #"{"widget_url":{"widget_type":"connect_widget","current_member_guid":"\#(member)"}}"#
            let widgetURL = try #require(try await client.mx(.post, "/users/\(user)/widget_urls", body).json["widget_url"] as? [String: Any])
            let widget = try await WidgetSessionDriver(client: client, url: try #require(widgetURL["url"] as? String))
            #expect(widget.config["initial_step"] as? String == "mfa")
            let loaded = try #require(widget.events.last)
            #expect((loaded["metadata"] as? [String: Any])?["initial_step"] as? String == "mfa")
        }
    }
}
