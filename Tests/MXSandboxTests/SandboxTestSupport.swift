import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOFoundationCompat
import Testing

@testable import MXSandbox

/// Runs `body` against a sandbox on a router (no socket).
func withSandbox(
    connectDelay: Duration = .milliseconds(200),
    widgetURLLifetime: Duration = .seconds(600),
    _ body: @Sendable (any TestClientProtocol) async throws -> Void
) async throws {
    let router = Router()
    let configuration = SandboxConfiguration(connectDelay: connectDelay, widgetURLLifetime: widgetURLLifetime)
    MXSandbox(configuration: configuration, logger: Logger(label: "sandbox-test")).addRoutes(to: router, mountPath: "")
    try await Application(router: router).test(.router, body)
}

/// Headers of an authenticated call in one API version.
func mxHeaders(_ version: String = "v20250224", credentials: String = "sandbox-client-id:sandbox-api-key") -> HTTPFields {
    var headers: HTTPFields = [.authorization: "Basic " + Data(credentials.utf8).base64EncodedString(), .contentType: "application/json"]
    if version == "v20111101" {
        headers[.accept] = "application/vnd.mx.api.v1+json"
    } else {
        headers[.accept] = "application/json"
        headers[HTTPField.Name("Accept-Version")!] = version
    }
    return headers
}

extension TestResponse {
    /// The body parsed as a JSON object.
    var json: [String: Any] {
        get throws {
            try #require(try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any])
        }
    }
}

extension TestClientProtocol {
    /// Sends `json` with the sandbox headers of `version`.
    func mx(_ method: HTTPRequest.Method, _ uri: String, _ json: String? = nil, version: String = "v20250224") async throws -> TestResponse {
        try await execute(uri: uri, method: method, headers: mxHeaders(version), body: json.map { ByteBuffer(string: $0) }) { $0 }
    }

    /// A user with a connected member at `institution`, done aggregating.
    func connectedMember(id: String = "verifier", institution: String = "mxbank") async throws -> (user: String, member: String) {
        let user = try await createUser(id: id)
        let member = try await createMember(user: user, institution: institution)
        #expect(try await settledStatus(user: user, member: member) == "CONNECTED")
        try await waitUntilIdle(user: user, member: member)
        return (user, member)
    }

    /// Waits until the member is connected and no job runs on it.
    func waitUntilIdle(user: String, member: String) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            let view = try await mx(.get, "/users/\(user)/members/\(member)").json["member"] as? [String: Any]
            if view?["is_being_aggregated"] as? Bool == false, view?["connection_status"] as? String == "CONNECTED" { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("member stayed busy")
    }

    /// Creates a user with `id` and returns its guid.
    func createUser(id: String) async throws -> String {
        let response = try await mx(.post, "/users", #"{"user":{"id":"\#(id)"}}"#)
        #expect(response.status == .ok)
        let user = try #require(try response.json["user"] as? [String: Any])
        return try #require(user["guid"] as? String)
    }

    /// Creates an MX Bank member with the given password and returns its guid.
    func createMember(user: String, password: String = "password", institution: String = "mxbank") async throws -> String {
        let body =
            #"{"member":{"institution_code":"\#(institution)","credentials":[{"guid":"CRD-\#(institution)-username","value":"mxuser"},{"guid":"CRD-\#(institution)-password","value":"\#(password)"}]}}"#
        let response = try await mx(.post, "/users/\(user)/members", body)
        #expect(response.status == .ok)
        return try #require((try response.json["member"] as? [String: Any])?["guid"] as? String)
    }

    /// Waits until the member is CHALLENGED (five seconds at most), then answers every challenge,
    /// rightly unless told otherwise.
    func answerChallenges(user: String, member: String, rightly: Bool = true) async throws -> TestResponse {
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            let status = try await mx(.get, "/users/\(user)/members/\(member)").json["member"] as? [String: Any]
            if status?["connection_status"] as? String == "CHALLENGED" { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let answers = SandboxInstitution.challenges.map { #"{"guid":"\#($0.guid)","value":"\#(rightly ? $0.answer : "wrong")"}"# }
            .joined(separator: ",")
        return try await mx(.put, "/users/\(user)/members/\(member)/resume", #"{"member":{"challenges":[\#(answers)]}}"#)
    }

    /// Polls the member until its status is none of `passing` (by default: until it leaves
    /// CREATED), for at most five seconds.
    func settledStatus(user: String, member: String, leaving passing: Set<String> = ["CREATED"]) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(5)
        var status = ""
        while ContinuousClock.now < deadline {
            let member = try #require(try await mx(.get, "/users/\(user)/members/\(member)").json["member"] as? [String: Any])
            status = try #require(member["connection_status"] as? String)
            if !passing.contains(status) { return status }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("member stayed \(status)")
        return status
    }
}
