import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOFoundationCompat
import Testing

@testable import MXSandbox

@Suite("Sandbox fault injection")
struct SandboxFaultTests {
    @Test("patterns match by segment: * is one segment, a final ** any rest, method when given")
    func matching() {
        let accounts = SandboxFaultRule(method: "GET", path: "/users/*/accounts", kind: .latency)
        #expect(accounts.matches(method: .get, path: ["users", "USR-1", "accounts"]))
        #expect(!accounts.matches(method: .post, path: ["users", "USR-1", "accounts"]))
        #expect(!accounts.matches(method: .get, path: ["users", "USR-1", "accounts", "ACT-1"]))
        #expect(!accounts.matches(method: .get, path: ["users", "USR-1"]))
        let everything = SandboxFaultRule(path: "/users/**", kind: .reset)
        #expect(everything.matches(method: .delete, path: ["users", "USR-1", "members", "MBR-1"]))
        #expect(!everything.matches(method: .get, path: ["institutions"]))
    }

    @Test("faults are set, reported and cleared over HTTP with the API's credentials; bad lists are refused")
    func adminEndpoint() async throws {
        try await withSandbox { client async throws in
            let unauthenticated = try await client.execute(uri: "/_faults", method: .get, headers: [.accept: "application/json"]) { $0 }
            #expect(unauthenticated.status == .unauthorized)
            #expect(try await client.mx(.put, "/_faults", #"{"faults":[{"path":"users","kind":"reset"}]}"#).status == .badRequest)
            #expect(try await client.mx(.put, "/_faults", #"{"faults":[{"path":"/users","kind":"status","status":200}]}"#).status == .badRequest)
            #expect(try await client.mx(.put, "/_faults", #"{"faults":[{"path":"/users","kind":"explode"}]}"#).status == .badRequest)

            let rules = #"{"faults":[{"method":"GET","path":"/users","kind":"status","status":503,"retry_after":7,"times":2}]}"#
            #expect(try await client.mx(.put, "/_faults", rules).status == .ok)
            for _ in 0..<2 {
                let failed = try await client.mx(.get, "/users")
                #expect(failed.status == .serviceUnavailable)
                #expect(failed.headers[.retryAfter] == "7")
            }
            #expect(try await client.mx(.get, "/users").status == .ok)
            #expect(try await client.mx(.post, "/users", #"{"user":{"id":"unaffected"}}"#).status == .ok)

            let report = try #require(try await client.mx(.get, "/_faults").json["faults"] as? [[String: Any]])
            #expect(report.first?["matched"] as? Int == 3)
            #expect(report.first?["injected"] as? Int == 2)

            #expect(try await client.mx(.delete, "/_faults").status == .noContent)
            #expect((try await client.mx(.get, "/_faults").json["faults"] as? [Any])?.isEmpty == true)
        }
    }

    @Test("a rate of 0 never injects; malformed JSON is a 200 that does not parse")
    func rateAndMalformed() async throws {
        try await withSandbox { client async throws in
            #expect(try await client.mx(.put, "/_faults", #"{"faults":[{"path":"/users","kind":"reset","rate":0}]}"#).status == .ok)
            for _ in 0..<5 { #expect(try await client.mx(.get, "/users").status == .ok) }

            #expect(try await client.mx(.put, "/_faults", #"{"faults":[{"path":"/institutions","kind":"malformed_json"}]}"#).status == .ok)
            let malformed = try await client.mx(.get, "/institutions")
            #expect(malformed.status == .ok)
            #expect((try? JSONSerialization.jsonObject(with: Data(buffer: malformed.body))) == nil)
        }
    }

    @Test("SANDBOX_FAULTS-style lists are read with their field names")
    func decoding() throws {
        let rules = try SandboxFaultRule.list(
            fromJSON: Data(
                #"{"faults":[{"path":"/users/*","kind":"status","status":429,"retry_after":3,"latency_ms":20,"rate":0.5,"times":4}]}"#.utf8
            )
        )
        #expect(
            rules == [SandboxFaultRule(path: "/users/*", kind: .status, status: 429, retryAfter: 3, latencyMilliseconds: 20, rate: 0.5, times: 4)]
        )
    }
}
