import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import MXSandbox

@Suite("Sandbox: verification and identification")
struct SandboxVerificationTests {
    @Test("verify answers 200 and identify 202 with the member, as MX's documents say; numbers and owners arrive when each job is done")
    func jobsThenData() async throws {
        // Each job runs a second, so the calls made while one runs find it running even on a busy machine.
        try await withSandbox(connectDelay: .seconds(1)) { client async throws in
            let (user, member) = try await client.connectedMember()
            let before = try await client.mx(.get, "/users/\(user)/members/\(member)/account_numbers").json
            #expect((before["account_numbers"] as? [Any])?.isEmpty == true, "no numbers before a verification")

            let verify = try await client.mx(.post, "/users/\(user)/members/\(member)/verify")
            #expect(verify.status == .ok)
            #expect((try verify.json["member"] as? [String: Any])?["is_being_aggregated"] as? Bool == true)
            #expect(try await client.mx(.post, "/users/\(user)/members/\(member)/verify").status == .ok, "the same job running is not a conflict")
            #expect(try await client.mx(.post, "/users/\(user)/members/\(member)/identify").status == .conflict, "another job running is MX's 409")
            #expect(try await client.mx(.post, "/users/\(user)/members/\(member)/aggregate").status == .conflict)
            try await client.waitUntilIdle(user: user, member: member)

            let numbers = try #require(
                try await client.mx(.get, "/users/\(user)/members/\(member)/account_numbers").json["account_numbers"] as? [[String: Any]]
            )
            #expect(!numbers.isEmpty)
            let accounts = try #require(try await client.mx(.get, "/users/\(user)/members/\(member)/accounts").json["accounts"] as? [[String: Any]])
            for entry in numbers {
                let number = try #require(entry["account_number"] as? String)
                let routing = try #require(entry["routing_number"] as? String)
                #expect(SandboxAccountDetails.passesABAChecksum(routing), "\(routing) passes the ABA checksum")
                #expect(entry["passed_validation"] as? Bool == true)
                #expect((entry["guid"] as? String)?.hasPrefix("ACN-") == true)
                let account = try #require(accounts.first { $0["guid"] as? String == entry["account_guid"] as? String })
                #expect((account["account_number"] as? String)?.suffix(4) == number.suffix(4), "the lists' masked number ends the same")
                #expect(["CHECKING", "SAVINGS"].contains(account["type"] as? String ?? ""))
            }
            let accountGUID = try #require(numbers.first?["account_guid"] as? String)
            let byAccount =
                try await client.mx(.get, "/users/\(user)/accounts/\(accountGUID)/account_numbers").json["account_numbers"] as? [[String: Any]]
            #expect(byAccount?.count == 1)
            #expect(byAccount?.first?["account_number"] as? String == numbers.first?["account_number"] as? String)

            #expect((try await client.mx(.get, "/users/\(user)/members/\(member)/account_owners").json["account_owners"] as? [Any])?.isEmpty == true)
            #expect(try await client.mx(.post, "/users/\(user)/members/\(member)/identify").status == .accepted)
            try await client.waitUntilIdle(user: user, member: member)
            let owners = try #require(
                try await client.mx(.get, "/users/\(user)/members/\(member)/account_owners").json["account_owners"] as? [[String: Any]]
            )
            #expect(owners.count == accounts.count)
            #expect(owners.allSatisfy { ($0["owner_name"] as? String)?.isEmpty == false && ($0["guid"] as? String)?.hasPrefix("ACO-") == true })
            let again = try await client.mx(.get, "/users/\(user)/members/\(member)/account_numbers").json["account_numbers"] as? [[String: Any]]
            #expect(again?.count == numbers.count, "an identification keeps what the verification fetched")
        }
    }

    @Test("an institution that offers no verification answers MX's 400 to verify and identify")
    func unsupported() async throws {
        try await withSandbox { client async throws in
            let (user, member) = try await client.connectedMember(institution: "mx_credit_union")
            #expect(try await client.mx(.post, "/users/\(user)/members/\(member)/verify").status == .badRequest)
            #expect(try await client.mx(.post, "/users/\(user)/members/\(member)/identify", version: "v20111101").status == .badRequest)
        }
    }

    @Test("at MX Bank (MFA) a verification asks the MFA questions again: wrong answers end it REJECTED without numbers, right ones fetch them")
    func multiFactorVerification() async throws {
        try await withSandbox { client async throws in
            let user = try await client.createUser(id: "mfa")
            let member = try await client.createMember(user: user, institution: "mxbank_mfa")
            #expect(try await client.answerChallenges(user: user, member: member).status == .accepted)
            try await client.waitUntilIdle(user: user, member: member)
            let numbersPath = "/users/\(user)/members/\(member)/account_numbers"

            #expect(try await client.mx(.post, "/users/\(user)/members/\(member)/verify").status == .ok)
            #expect(try await client.answerChallenges(user: user, member: member, rightly: false).status == .accepted)
            #expect(try await client.settledStatus(user: user, member: member, leaving: ["CHALLENGED", "RESUMED"]) == "REJECTED")
            #expect((try await client.mx(.get, numbersPath).json["account_numbers"] as? [Any])?.isEmpty == true)

            #expect(try await client.mx(.post, "/users/\(user)/members/\(member)/verify").status == .ok, "a rejected job may be started again")
            #expect(try await client.answerChallenges(user: user, member: member).status == .accepted)
            try await client.waitUntilIdle(user: user, member: member)
            #expect((try await client.mx(.get, numbersPath).json["account_numbers"] as? [Any])?.isEmpty == false)
        }
    }
}
