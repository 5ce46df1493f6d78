import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import Broker

@Suite("MX user profiles")
struct UserProfileTests {
    @Test("the profile comes from the named claims only; an address that is not one is left out")
    func fromClaims() {
        let claims = ["email": " alice@example.com ", "given_name": "Alice", "family_name": "", "ssn": "123-45-6789"]
        let profile = ProfileClaimNames().profile(from: claims)
        #expect(profile == UserProfile(email: "alice@example.com", firstName: "Alice", lastName: nil))
        #expect(
            ProfileClaimNames(email: "mail", firstName: "first", lastName: "last").profile(from: ["mail": "a@b.co", "first": "A"]).firstName == "A"
        )
        #expect(UserProfile(email: "not an address").mxEmail == nil)
        #expect(UserProfile(email: "a@b").mxEmail == nil)
        #expect(UserProfile(email: "a@b.co").mxEmail == "a@b.co")
    }

    @Test("metadata is JSON text with the creation date and the names; the digest follows what MX is sent")
    func metadataAndDigest() throws {
        let profile = UserProfile(email: "a@b.co", firstName: "Alice", lastName: "Liddell")
        let text = profile.metadata(createdAt: Date(timeIntervalSince1970: 1_800_000_000))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String])
        #expect(json == ["created_at": "2027-01-15T08:00:00Z", "first_name": "Alice", "last_name": "Liddell"])
        #expect(profile.digest == UserProfile(email: "a@b.co", firstName: "Alice", lastName: "Liddell").digest)
        #expect(profile.digest != UserProfile(email: "a@b.co", firstName: "Alice", lastName: "Smith").digest)
        #expect(UserProfile(email: "bad").digest == UserProfile().digest, "an address MX is not sent does not count")
    }

    @Test("tokens: other short string claims are read, numbers and long values are not; only configured profiles are made")
    func tokenClaims() async throws {
        let signer = await DevTokenSigner(secret: testSecret)
        let token = try await signer.token(subject: "alice", lifetime: 600, claims: ["email": "a@b.co", "given_name": "Alice"])
        let reading = try await TokenVerifier(
            keySource: .hs256(secret: testSecret),
            issuer: nil,
            audience: nil,
            leeway: 0,
            profileClaims: ProfileClaimNames()
        )
        let caller = try await reading.caller(of: token)
        #expect(caller.subject == "alice")
        #expect(caller.profile == UserProfile(email: "a@b.co", firstName: "Alice", lastName: nil))
        let plain = try await TokenVerifier(keySource: .hs256(secret: testSecret), issuer: nil, audience: nil, leeway: 0)
        #expect(try await plain.caller(of: token).profile == nil)
        let long = try await signer.token(subject: "bob", lifetime: 600, claims: ["email": String(repeating: "a", count: 400) + "@b.co"])
        #expect(try await reading.caller(of: long).profile?.email == nil)
    }

    private static let widgetRequest = #"{"widget_url":{"widget_type":"connect_widget"}}"#

    /// An Authorization header for `subject` whose token carries `claims`.
    private static func bearer(_ subject: String, _ claims: [String: String]) async throws -> HTTPFields {
        [.authorization: "Bearer \(try await DevTokenSigner(secret: testSecret).token(subject: subject, lifetime: 600, claims: claims))"]
    }

    /// The sandbox's record of the one MX user the broker made.
    private static func mxUser(_ broker: BrokerClient) async throws -> [String: Any] {
        let users = try #require(try await broker.sandbox("/users")["users"] as? [[String: Any]])
        #expect(users.count == 1)
        return try #require(users.first)
    }

    @Test("on: the MX user is created with email and metadata, updated once when a claim changes, and nothing else is sent")
    func endToEnd() async throws {
        try await withBroker(sandboxEnvironment(["MX_USER_PROFILE": "true"])) { broker in
            try await broker.injectFaults(#"[{"method":"PUT","path":"/users/*","kind":"latency","latency_ms":0}]"#)
            let first = ["email": "alice@example.com", "given_name": "Alice", "family_name": "Liddell", "ssn": "123-45-6789"]
            let minted = try await broker.send(.post, "/v1/widget_urls", json: Self.widgetRequest, headers: try await Self.bearer("alice", first))
            #expect(minted.status == .ok)
            let created = try await Self.mxUser(broker)
            #expect(created["email"] as? String == "alice@example.com")
            let metadata = try #require(created["metadata"] as? String)
            let fields = try #require(try JSONSerialization.jsonObject(with: Data(metadata.utf8)) as? [String: String])
            #expect(fields["first_name"] == "Alice")
            #expect(fields["last_name"] == "Liddell")
            let createdAt = try #require(fields["created_at"])
            #expect(!"\(created)".contains("123-45-6789"), "a claim outside the profile reached MX")

            _ = try await broker.send(.post, "/v1/widget_urls", json: Self.widgetRequest, headers: try await Self.bearer("alice", first))
            #expect(try await broker.faultReport().first?["matched"] as? Int == 0, "an unchanged profile is not sent again")

            var changed = first
            changed["email"] = "alice@wonderland.example"
            let again = try await broker.send(.post, "/v1/widget_urls", json: Self.widgetRequest, headers: try await Self.bearer("alice", changed))
            #expect(again.status == .ok)
            let updated = try await Self.mxUser(broker)
            #expect(updated["email"] as? String == "alice@wonderland.example")
            let updatedFields = try JSONSerialization.jsonObject(with: Data(try #require(updated["metadata"] as? String).utf8)) as? [String: String]
            #expect(updatedFields?["created_at"] == createdAt)
            #expect(try await broker.faultReport().first?["matched"] as? Int == 1)
        }
    }

    @Test("off (the default): MX gets the opaque id only, whatever the token carries")
    func off() async throws {
        try await withBroker { broker in
            let claims = ["email": "alice@example.com", "given_name": "Alice", "family_name": "Liddell"]
            #expect(
                try await broker.send(.post, "/v1/widget_urls", json: Self.widgetRequest, headers: try await Self.bearer("alice", claims)).status
                    == .ok
            )
            let user = try await Self.mxUser(broker)
            #expect(user["email"] == nil || user["email"] is NSNull)
            #expect(user["metadata"] == nil || user["metadata"] is NSNull)
            #expect((user["id"] as? String)?.hasPrefix("cb_") == true)
        }
    }
}
