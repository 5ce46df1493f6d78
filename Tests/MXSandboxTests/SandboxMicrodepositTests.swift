import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import MXSandbox

@Suite("Sandbox: microdeposits")
struct SandboxMicrodepositTests {
    static let account =
        #"{"micro_deposit":{"account_number":"1234567890","routing_number":"091000019","account_type":"CHECKING","account_name":"Checking"}}"#

    private func status(_ client: any TestClientProtocol, user: String, guid: String) async throws -> String? {
        (try await client.mx(.get, "/users/\(user)/micro_deposits/\(guid)").json["micro_deposit"] as? [String: Any])?["status"] as? String
    }

    private func deposited(_ client: any TestClientProtocol, user: String, guid: String) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline, try await status(client, user: user, guid: guid) != "DEPOSITED" {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(try await status(client, user: user, guid: guid) == "DEPOSITED")
    }

    private func create(
        _ client: any TestClientProtocol,
        user: String,
        _ body: String = account,
        version: String = "v20250224"
    ) async throws -> String {
        let created = try await client.mx(.post, "/users/\(user)/micro_deposits", body, version: version)
        #expect(created.status == .ok)
        return try #require((try created.json["micro_deposit"] as? [String: Any])?["guid"] as? String)
    }

    @Test("before the deposits land there is nothing to confirm: INITIATED, and MX's verify route is a 409")
    func confirmedTooEarly() async throws {
        try await withSandbox(connectDelay: .seconds(60)) { client async throws in
            let user = try await client.createUser(id: "mic")
            let guid = try await create(client, user: user)
            #expect(guid.hasPrefix("MIC-"))
            let first = try #require(try await client.mx(.get, "/users/\(user)/micro_deposits/\(guid)").json["micro_deposit"] as? [String: Any])
            #expect(first["status"] as? String == "INITIATED")
            #expect(first["institution_code"] as? String == "mxbank_microdeposits")
            #expect(first["verified_at"] is NSNull)
            let early = try await client.mx(
                .put,
                "/micro_deposits/\(guid)/verify",
                #"{"micro_deposit":{"deposit_amount_1":0.07,"deposit_amount_2":0.11}}"#
            )
            #expect(early.status == .conflict)
        }
    }

    @Test("DEPOSITED after the delay; the right amounts verify it, in either order, at MX's verify route")
    func verified() async throws {
        try await withSandbox { client async throws in
            let user = try await client.createUser(id: "mic")
            let guid = try await create(client, user: user)
            try await deposited(client, user: user, guid: guid)
            let verify = try await client.mx(
                .put,
                "/micro_deposits/\(guid)/verify",
                #"{"micro_deposit":{"deposit_amount_1":0.11,"deposit_amount_2":0.07}}"#
            )
            #expect(verify.status == .ok)
            let done = try #require(try verify.json["micro_deposit"] as? [String: Any])
            #expect(done["status"] as? String == "VERIFIED")
            #expect(done["verified_at"] is String)
            let list = try #require(
                try await client.mx(.get, "/users/\(user)/micro_deposits", version: "v20111101").json["micro_deposits"] as? [[String: Any]]
            )
            #expect(list.map { $0["guid"] as? String } == [guid])
        }
    }

    @Test("wrong amounts deny it; amounts outside a cent to 99 cents never match")
    func denied() async throws {
        try await withSandbox { client async throws in
            let user = try await client.createUser(id: "mic")
            let guid = try await create(client, user: user)
            try await deposited(client, user: user, guid: guid)
            let verify = try await client.mx(
                .put,
                "/micro_deposits/\(guid)/verify",
                #"{"micro_deposit":{"deposit_amount_1":7,"deposit_amount_2":0.11}}"#
            )
            #expect((try verify.json["micro_deposit"] as? [String: Any])?["status"] as? String == "DENIED")
            #expect(
                try await client.mx(.put, "/micro_deposits/\(guid)/verify", #"{"micro_deposit":{"deposit_amount_1":0.07,"deposit_amount_2":0.11}}"#)
                    .status == .conflict
            )
        }
    }

    @Test("pre-initiated with names and an email; bad numbers, routing numbers or account types are 400")
    func creation() async throws {
        try await withSandbox { client async throws in
            let user = try await client.createUser(id: "mic")
            let pre = try await create(client, user: user, #"{"micro_deposit":{"email":"a@example.com","first_name":"Ada","last_name":"Lovelace"}}"#)
            #expect(try await status(client, user: user, guid: pre) == "PREINITIATED")
            for body in [
                #"{"micro_deposit":{"account_number":"12","routing_number":"091000019","account_type":"CHECKING"}}"#,
                #"{"micro_deposit":{"account_number":"1234567890","routing_number":"091000018","account_type":"CHECKING"}}"#,
                #"{"micro_deposit":{"account_number":"1234567890","routing_number":"091000019","account_type":"CREDIT_CARD"}}"#,
                #"{"micro_deposit":{"email":"a@example.com"}}"#, #"{"micro_deposit":{}}"#,
            ] {
                #expect(try await client.mx(.post, "/users/\(user)/micro_deposits", body).status == .badRequest, "\(body)")
            }
        }
    }

    @Test("another user's microdeposit is not found; deleting one removes it")
    func scoped() async throws {
        try await withSandbox { client async throws in
            let owner = try await client.createUser(id: "owner")
            let other = try await client.createUser(id: "other")
            let guid = try await create(client, user: owner)
            #expect(try await client.mx(.get, "/users/\(other)/micro_deposits/\(guid)").status == .notFound)
            #expect(try await client.mx(.delete, "/users/\(other)/micro_deposits/\(guid)").status == .notFound)
            #expect(
                try await client.mx(
                    .put,
                    "/micro_deposits/MIC-nothing/verify",
                    #"{"micro_deposit":{"deposit_amount_1":0.07,"deposit_amount_2":0.11}}"#
                ).status == .notFound
            )
            #expect(try await client.mx(.delete, "/users/\(owner)/micro_deposits/\(guid)").status == .noContent)
            #expect(try await client.mx(.get, "/users/\(owner)/micro_deposits/\(guid)").status == .notFound)
        }
    }
}
