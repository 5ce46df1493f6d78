import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import Broker

@Suite("Connecting without the widget, end to end")
struct ConnectEndToEndTests {
    /// The body of `POST /v1/members` for an institution of the sandbox.
    static func memberBody(_ institution: String, password: String = "password") -> String {
        #"{"institution_code":"\#(institution)","credentials":[{"guid":"CRD-\#(institution)-username","value":"mxuser"},{"guid":"CRD-\#(institution)-password","value":"\#(password)"}]}"#
    }

    /// A resume body answering the MFA institution's challenges.
    /// The right answers to MX Bank (MFA)'s three questions.
    static let rightAnswers = answers(["mxcity", "checking-1234", "7291"])

    static func answers(_ values: [String]) -> String {
        let guids = ["CRD-mfa-text", "CRD-mfa-options", "CRD-mfa-image"]
        return #"{"challenges":["# + zip(guids, values).map { #"{"guid":"\#($0)","value":"\#($1)"}"# }.joined(separator: ",") + "]}"
    }

    @Test("institution searches page as MX pages institutions: at most 100 a page")
    func institutionPages() async throws {
        try await withBroker { broker in
            #expect(try await broker.send(.get, "/v1/institutions?records_per_page=100", as: "alice").status == .ok)
            let refused = try await broker.send(.get, "/v1/institutions?records_per_page=101", as: "alice")
            #expect(refused.status == .badRequest)
            #expect(refused.errorCode == "invalid_records_per_page")
        }
    }

    @Test("institutions: search by name, one institution, and the fields to ask the user for")
    func institutions() async throws {
        try await withBroker { broker in
            let search = try await broker.send(.get, "/v1/institutions?name=mfa", as: "alice")
            #expect(search.status == .ok)
            let found = try #require(try search.json["institutions"] as? [[String: Any]])
            #expect(found.compactMap { $0["code"] as? String } == ["mxbank_mfa"])
            let one = try await broker.send(.get, "/v1/institutions/mxbank", as: "alice")
            #expect((try one.json["institution"] as? [String: Any])?["name"] as? String == "MX Bank")
            let fields = try #require(
                try await broker.send(.get, "/v1/institutions/mxbank/credentials", as: "alice").json["credentials"] as? [[String: Any]]
            )
            #expect(fields.compactMap { $0["guid"] as? String } == ["CRD-mxbank-username", "CRD-mxbank-password"])
            #expect(try await broker.send(.get, "/v1/institutions/nowhere", as: "alice").status == .notFound)
            #expect(try await broker.send(.get, "/v1/institutions?name=", as: "alice").errorCode == "invalid_name")
        }
    }

    @Test("MFA answered right: CHALLENGED with three questions, RESUMED, CONNECTED, with the widget flow's events")
    func mfaRight() async throws {
        try await withBroker { broker in
            let stream = try await broker.openEvents(as: "alice")
            let created = try await broker.send(.post, "/v1/members", as: "alice", json: Self.memberBody("mxbank_mfa"))
            #expect(created.status == .accepted)
            let member = try #require((try created.json["member"] as? [String: Any])?["guid"] as? String)
            #expect(try created.json["poll_after_ms"] as? Int == 3000)

            let challenged = try await broker.pollStatus(of: member, as: "alice") { $0["action_required"] as? String == "answer_mfa" }
            #expect(challenged["connection_status"] as? String == "CHALLENGED")
            let asked = try await broker.send(.get, "/v1/members/\(member)/challenges", as: "alice")
            #expect(asked.status == .ok)
            #expect(asked.headers[.cacheControl] == "no-store")
            let types = try #require(try asked.json["challenges"] as? [[String: Any]]).compactMap { $0["type"] as? String }
            #expect(Set(types) == ["TEXT", "OPTIONS", "IMAGE_DATA"])

            let resumed = try await broker.send(
                .put,
                "/v1/members/\(member)/resume",
                as: "alice",
                json: Self.rightAnswers
            )
            #expect(resumed.status == .accepted)
            #expect((try resumed.json["member"] as? [String: Any])?["connection_status"] as? String == "RESUMED")
            let connected = try await broker.pollStatus(of: member, as: "alice") {
                $0["connection_status"] as? String == "CONNECTED" && $0["is_being_aggregated"] as? Bool == false
            }
            #expect(connected["action_required"] as? String == "none")
            #expect(try await broker.send(.get, "/v1/members/\(member)/challenges", as: "alice").status == .noContent)

            let events = try await stream.wait { $0.contains { $0.event == "aggregation.completed" } }
            let kinds = events.compactMap(\.event)
            #expect(kinds.contains("member.updated"))
            #expect(events.contains { $0.event == "connection.action_required" && $0.json["action_required"] as? String == "answer_mfa" })
            let accounts = try #require(try await broker.send(.get, "/v1/members/\(member)/accounts", as: "alice").json["accounts"] as? [Any])
            #expect(!accounts.isEmpty)
            stream.close()
        }
    }

    @Test("MFA answered wrong ends REJECTED, which asks the user to reconnect")
    func mfaWrong() async throws {
        try await withBroker { broker in
            let created = try await broker.send(.post, "/v1/members", as: "alice", json: Self.memberBody("mxbank_mfa"))
            let member = try #require((try created.json["member"] as? [String: Any])?["guid"] as? String)
            _ = try await broker.pollStatus(of: member, as: "alice") { $0["action_required"] as? String == "answer_mfa" }
            let resumed = try await broker.send(
                .put,
                "/v1/members/\(member)/resume",
                as: "alice",
                json: Self.answers(["paris", "savings-9876", "1111"])
            )
            #expect(resumed.status == .accepted)
            let rejected = try await broker.pollStatus(of: member, as: "alice") { $0["connection_status"] as? String == "REJECTED" }
            #expect(rejected["action_required"] as? String == "reconnect")
            #expect(rejected["poll_after_ms"] == nil)
            let again = try await broker.send(
                .put,
                "/v1/members/\(member)/resume",
                as: "alice",
                json: Self.rightAnswers
            )
            #expect(again.status == .conflict)
            #expect(again.errorCode == "not_challenged")
        }
    }

    @Test("wrong credentials end DENIED; new credentials connect the same member")
    func credentialUpdate() async throws {
        try await withBroker { broker in
            let created = try await broker.send(.post, "/v1/members", as: "alice", json: Self.memberBody("mxbank", password: "wrong"))
            let member = try #require((try created.json["member"] as? [String: Any])?["guid"] as? String)
            let denied = try await broker.pollStatus(of: member, as: "alice") { $0["connection_status"] as? String == "DENIED" }
            #expect(denied["action_required"] as? String == "reconnect")
            let credentials = #"{"credentials":[{"guid":"CRD-mxbank-username","value":"mxuser"},{"guid":"CRD-mxbank-password","value":"password"}]}"#
            let updated = try await broker.send(.put, "/v1/members/\(member)/credentials", as: "alice", json: credentials)
            #expect(updated.status == .accepted)
            _ = try await broker.pollStatus(of: member, as: "alice") { $0["connection_status"] as? String == "CONNECTED" }
        }
    }

    @Test("the same institution and credentials twice: 409 duplicate_member")
    func duplicate() async throws {
        try await withBroker { broker in
            #expect(try await broker.send(.post, "/v1/members", as: "alice", json: Self.memberBody("mxbank")).status == .accepted)
            let second = try await broker.send(.post, "/v1/members", as: "alice", json: Self.memberBody("mxbank"))
            #expect(second.status == .conflict)
            #expect(second.errorCode == "duplicate_member")
        }
    }

    @Test("OAuth: the window URI's page authorizes and returns to the app's scheme; the member connects")
    func oauth() async throws {
        try await withBroker(sandboxEnvironment(["ALLOWED_REDIRECT_URL_PREFIXES": "https://app.example.com/"])) { broker in
            let created = try await broker.send(.post, "/v1/members", as: "alice", json: #"{"institution_code":"mxbank_oauth"}"#)
            #expect(created.status == .accepted)
            let member = try #require((try created.json["member"] as? [String: Any])?["guid"] as? String)
            let window = try await broker.send(
                .get,
                "/v1/members/\(member)/oauth_window_uri?referral_source=APP&ui_message_webview_url_scheme=myapp",
                as: "alice"
            )
            #expect(window.status == .ok)
            #expect(window.headers[.cacheControl] == "no-store")
            let uri = try #require((try window.json["member"] as? [String: Any])?["oauth_window_uri"] as? String)
            let page = try #require(URLComponents(string: uri)?.path)
            #expect(try await broker.send(.get, page).status == .ok)
            let authorized = try await broker.send(.post, page + "/authorize")
            #expect(authorized.status == .seeOther)
            #expect(authorized.headers[.location] == "myapp://oauth_complete?status=success&member_guid=\(member)")
            _ = try await broker.pollStatus(of: member, as: "alice") { $0["connection_status"] as? String == "CONNECTED" }

            let redirect = "https://app.example.com/oauth/done".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let allowed = try await broker.send(
                .get,
                "/v1/members/\(member)/oauth_window_uri?referral_source=APP&client_redirect_url=\(redirect)",
                as: "alice"
            )
            #expect(allowed.status == .ok)
            for url in ["https://evil.example.com/"] + RedirectAttacks.urls {
                let elsewhere = url.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                let refused = try await broker.send(
                    .get,
                    "/v1/members/\(member)/oauth_window_uri?referral_source=APP&client_redirect_url=\(elsewhere)",
                    as: "alice"
                )
                #expect(refused.errorCode == "redirect_not_allowed", "\(url)")
            }
            let badScheme = try await broker.send(
                .get,
                "/v1/members/\(member)/oauth_window_uri?referral_source=APP&ui_message_webview_url_scheme=javascript",
                as: "alice"
            )
            #expect(badScheme.errorCode == "invalid_url_scheme")
        }
    }

    @Test("another user's member guid is not found on every route")
    func otherUsersMember() async throws {
        try await withBroker { broker in
            let created = try await broker.send(.post, "/v1/members", as: "alice", json: Self.memberBody("mxbank_mfa"))
            let member = try #require((try created.json["member"] as? [String: Any])?["guid"] as? String)
            _ = try await broker.pollStatus(of: member, as: "alice") { $0["action_required"] as? String == "answer_mfa" }
            #expect(try await broker.send(.post, "/v1/members", as: "mallory", json: Self.memberBody("mxbank")).status == .accepted)
            let credentials = #"{"credentials":[{"guid":"CRD-mxbank_mfa-username","value":"x"},{"guid":"CRD-mxbank_mfa-password","value":"y"}]}"#
            let attempts: [(HTTPRequest.Method, String, String?)] = [
                (.get, "/v1/members/\(member)/status", nil),
                (.get, "/v1/members/\(member)/challenges", nil),
                (.put, "/v1/members/\(member)/resume", Self.rightAnswers),
                (.put, "/v1/members/\(member)/credentials", credentials),
                (.get, "/v1/members/\(member)/oauth_window_uri", nil),
            ]
            for (method, path, body) in attempts {
                let answer = try await broker.send(method, path, as: "mallory", json: body)
                #expect(answer.status == .notFound, "\(method) \(path)")
                #expect(answer.errorCode == "not_found", "\(method) \(path)")
            }
            let still = try await broker.pollStatus(of: member, as: "alice") { _ in true }
            #expect(still["connection_status"] as? String == "CHALLENGED", "mallory's answers did not reach alice's member")
        }
    }

    @Test("bad bodies are 400s that never quote a value")
    func validation() async throws {
        try await withBroker { broker in
            let secret = "secret-\(UUID().uuidString)"
            let bodies = [
                #"{"credentials":[]}"#,
                #"{"institution_code":"mxbank","credentials":"\#(secret)"}"#,
                #"{"institution_code":"mxbank","credentials":[{"guid":"CRD-mxbank-username","value":""}]}"#,
                #"{"institution_code":"mxbank","credentials":[{"guid":"\#(secret) x","value":"\#(secret)"}]}"#,
                #"{"institution_code":"mxbank","referral_source":"FAX"}"#,
            ]
            for body in bodies {
                let answer = try await broker.send(.post, "/v1/members", as: "alice", json: body)
                #expect(answer.status == .badRequest, "\(body)")
                #expect(!String(buffer: answer.body).contains(secret))
            }
        }
    }

    @Test("credential values and MFA answers appear in no log line, no stored byte and no answer")
    func secretsStayWithMX() async throws {
        let logs = LogCapture()
        let environment = sandboxEnvironment()
        let password = "pw-\(UUID().uuidString)"
        let answer = "answer-\(UUID().uuidString)"
        let bodies = Locked<[String]>([])
        try await withBroker(environment, logs: logs) { broker in
            var answers: [TestResponse] = []
            answers.append(try await broker.send(.post, "/v1/members", as: "alice", json: Self.memberBody("mxbank", password: password)))
            let mfa = try await broker.send(.post, "/v1/members", as: "alice", json: Self.memberBody("mxbank_mfa"))
            answers.append(mfa)
            let member = try #require((try mfa.json["member"] as? [String: Any])?["guid"] as? String)
            _ = try await broker.pollStatus(of: member, as: "alice") { $0["action_required"] as? String == "answer_mfa" }
            answers.append(try await broker.send(.get, "/v1/members/\(member)/challenges", as: "alice"))
            answers.append(try await broker.send(.put, "/v1/members/\(member)/resume", as: "alice", json: Self.answers([answer, answer, answer])))
            let update =
                #"{"credentials":[{"guid":"CRD-mxbank_mfa-username","value":"mxuser"},{"guid":"CRD-mxbank_mfa-password","value":"\#(password)"}]}"#
            answers.append(try await broker.send(.put, "/v1/members/\(member)/credentials", as: "alice", json: update))
            answers.append(try await broker.send(.get, "/v1/members/\(member)/status", as: "alice"))
            answers.append(try await broker.send(.get, "/v1/members", as: "alice"))
            #expect(answers.allSatisfy { $0.status.code < 300 }, "\(answers.map(\.status))")
            bodies.withLock { $0 = answers.map { String(buffer: $0.body) + "\($0.headers)" } }
        }
        for text in bodies.withLock({ $0 }) + [logs.text] {
            #expect(!text.contains(password))
            #expect(!text.contains(answer))
        }
        let folder = try #require(environment["DATA_DIR"])
        for file in try FileManager.default.contentsOfDirectory(atPath: folder) {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: folder).appendingPathComponent(file))
            #expect(bytes.range(of: Data(password.utf8)) == nil, "\(file)")
            #expect(bytes.range(of: Data(answer.utf8)) == nil, "\(file)")
        }
    }
}

extension BrokerClient {
    /// Connects MX Bank (MFA) for `subject` without the widget, answering its questions rightly,
    /// and waits until the member is connected and done aggregating; returns its guid.
    func connectMultiFactorMember(as subject: String) async throws -> String {
        let created = try await send(.post, "/v1/members", as: subject, json: ConnectEndToEndTests.memberBody("mxbank_mfa"))
        let member = try #require((try created.json["member"] as? [String: Any])?["guid"] as? String)
        _ = try await pollStatus(of: member, as: subject) { $0["action_required"] as? String == "answer_mfa" }
        #expect(try await send(.put, "/v1/members/\(member)/resume", as: subject, json: ConnectEndToEndTests.rightAnswers).status == .accepted)
        _ = try await pollStatus(of: member, as: subject) {
            $0["connection_status"] as? String == "CONNECTED" && $0["is_being_aggregated"] as? Bool == false
        }
        return member
    }

    /// Reads `GET /v1/members/{guid}/status` until `condition` holds over the member (up to 10 s).
    func pollStatus(of member: String, as subject: String, until condition: ([String: Any]) -> Bool) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + .seconds(10)
        var last: [String: Any] = [:]
        while ContinuousClock.now < deadline {
            let answer = try await send(.get, "/v1/members/\(member)/status", as: subject)
            #expect(answer.status == .ok)
            let json = try answer.json
            last = try #require(json["member"] as? [String: Any])
            if let poll = json["poll_after_ms"] { last["poll_after_ms"] = poll }
            if condition(last) { return last }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("member \(member) never met the condition; last seen \(last)")
        return last
    }
}
