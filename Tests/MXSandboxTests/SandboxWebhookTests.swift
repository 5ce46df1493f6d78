import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOFoundationCompat
import Synchronization
import Testing

@testable import MXSandbox

/// A webhook receiver that answers each delivery with the next of `statuses` (the last repeats).
final class WebhookRecorder: Sendable {
    struct Delivery: Sendable {
        let authorization: String?
        let body: [String: any Sendable]
    }

    private let statuses: [Int]
    private let received = Mutex<[Delivery]>([])

    init(statuses: [Int]) {
        self.statuses = statuses
    }

    var deliveries: [Delivery] { received.withLock { $0 } }

    func deliveries(ofType type: String) -> [Delivery] {
        deliveries.filter { $0.body["type"] as? String == type }
    }

    var router: Router<BasicRequestContext> {
        let router = Router()
        router.post("hook") { request, _ in
            var request = request
            let buffer = try await request.collectBody(upTo: 1 << 20)
            let body = (try? JSONSerialization.jsonObject(with: Data(buffer: buffer))) as? [String: any Sendable] ?? [:]
            let index = self.received.withLock { list in
                list.append(Delivery(authorization: request.headers[.authorization], body: body))
                return list.count - 1
            }
            return Response(status: .init(code: self.statuses[min(index, self.statuses.count - 1)]))
        }
        return router
    }
}

@Suite("Sandbox webhooks")
struct SandboxWebhookTests {
    /// Runs a sandbox whose webhooks go to `recorder`, with MX's redelivery schedule shrunk.
    private func withWebhookSandbox(
        _ recorder: WebhookRecorder,
        version: SandboxAPIVersion = .v20250224,
        _ body: @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        try await Application(router: recorder.router).test(.live) { receiver async throws in
            let configuration = SandboxConfiguration(
                connectDelay: .milliseconds(100),
                webhookURL: "http://127.0.0.1:\(try #require(receiver.port))/hook",
                webhookRetryScale: 0.00002,
                webhookAPIVersion: version
            )
            let router = Router()
            MXSandbox(configuration: configuration, logger: Logger(label: "sandbox")).addRoutes(to: router, mountPath: "")
            try await Application(router: router).test(.router, body)
        }
    }

    private func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline, !condition() {
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    @Test("a completed aggregation sends AGGREGATION and initial_data_ready, MX-shaped, with Basic auth")
    func aggregationWebhooks() async throws {
        let recorder = WebhookRecorder(statuses: [204])
        try await withWebhookSandbox(recorder) { client async throws in
            let user = try await client.createUser(id: "hooked")
            let member = try await client.createMember(user: user)
            try await waitUntil { recorder.deliveries.count >= 2 }
            let aggregation = try #require(recorder.deliveries(ofType: "AGGREGATION").first)
            #expect(aggregation.authorization == "Basic " + Data("sandbox-webhooks:sandbox-webhook-password".utf8).base64EncodedString())
            #expect(aggregation.body["action"] as? String == "member_data_updated")
            #expect(aggregation.body["member_guid"] as? String == member)
            #expect(aggregation.body["user_guid"] as? String == user)
            #expect(aggregation.body["user_id"] as? String == "hooked")
            #expect(aggregation.body["completed_at"] is Int)
            #expect((aggregation.body["transactions_created_count"] as? Int ?? 0) > 0)
            let ready = try #require(recorder.deliveries(ofType: "initial_data_ready").first)
            #expect(ready.body["member_guid"] as? String == member)
            #expect(ready.body["guid"] is String)

            _ = try await client.mx(.post, "/users/\(user)/members/\(member)/aggregate")
            try await waitUntil { recorder.deliveries(ofType: "AGGREGATION").count >= 2 }
            #expect(recorder.deliveries(ofType: "initial_data_ready").count == 1, "initial data is ready once")
        }
    }

    @Test("a v20111101 integration gets AGGREGATION and no initial_data_ready, which MX sends to v20250224 ones only")
    func noInitialDataReadyForOldVersion() async throws {
        let recorder = WebhookRecorder(statuses: [204])
        try await withWebhookSandbox(recorder, version: .v20111101) { client async throws in
            let user = try await client.createUser(id: "older")
            _ = try await client.createMember(user: user)
            try await waitUntil { !recorder.deliveries(ofType: "AGGREGATION").isEmpty }
            try await Task.sleep(for: .milliseconds(300))
            #expect(recorder.deliveries(ofType: "initial_data_ready").isEmpty)
        }
    }

    @Test("a member that needs the user sends CONNECTION_STATUS")
    func connectionStatusWebhook() async throws {
        let recorder = WebhookRecorder(statuses: [204])
        try await withWebhookSandbox(recorder) { client async throws in
            let user = try await client.createUser(id: "challenged")
            let member = try await client.createMember(user: user, institution: "mxbank_mfa")
            try await waitUntil { !recorder.deliveries(ofType: "CONNECTION_STATUS").isEmpty }
            let status = try #require(recorder.deliveries(ofType: "CONNECTION_STATUS").first)
            #expect(status.body["action"] as? String == "CHANGED")
            #expect(status.body["connection_status"] as? String == "CHALLENGED")
            #expect(status.body["connection_status_id"] as? Int == 3)
            #expect(status.body["member_guid"] as? String == member)
            #expect(recorder.deliveries(ofType: "AGGREGATION").isEmpty)
        }
    }

    @Test("a verification sends VERIFICATION with the verified accounts; MFA during it sends CONNECTION_STATUS again")
    func verificationWebhook() async throws {
        let recorder = WebhookRecorder(statuses: [204])
        try await withWebhookSandbox(recorder) { client async throws in
            let user = try await client.createUser(id: "verified")
            let member = try await client.createMember(user: user, institution: "mxbank_mfa")
            try await waitUntil { !recorder.deliveries(ofType: "CONNECTION_STATUS").isEmpty }
            _ = try await client.answerChallenges(user: user, member: member)
            try await waitUntil { !recorder.deliveries(ofType: "AGGREGATION").isEmpty }
            #expect(try await client.mx(.post, "/users/\(user)/members/\(member)/verify").status == .ok)
            try await waitUntil { recorder.deliveries(ofType: "CONNECTION_STATUS").count >= 2 }
            #expect(recorder.deliveries(ofType: "CONNECTION_STATUS").last?.body["connection_status"] as? String == "CHALLENGED")
            _ = try await client.answerChallenges(user: user, member: member)
            try await waitUntil { !recorder.deliveries(ofType: "VERIFICATION").isEmpty }
            let verification = try #require(recorder.deliveries(ofType: "VERIFICATION").first)
            #expect(verification.body["action"] as? String == "member_data_updated")
            #expect(verification.body["member_guid"] as? String == member)
            #expect(verification.body["user_id"] as? String == "verified")
            #expect(verification.body["completed_at"] is Int)
            let numbers = try #require(
                try await client.mx(.get, "/users/\(user)/members/\(member)/account_numbers").json["account_numbers"] as? [[String: Any]]
            )
            #expect(Set(verification.body["accounts"] as? [String] ?? []) == Set(numbers.compactMap { $0["account_guid"] as? String }))
        }
    }

    @Test("balance checks, history extensions and statement fetches send BALANCE, HISTORY and STATEMENT with MX's counts")
    func dataProductWebhooks() async throws {
        let recorder = WebhookRecorder(statuses: [204])
        try await withWebhookSandbox(recorder) { client async throws in
            let (user, member) = try await client.connectedMember(id: "products")
            for (job, type) in [("check_balance", "BALANCE"), ("extend_history", "HISTORY"), ("fetch_statements", "STATEMENT")] {
                #expect(try await client.mx(.post, "/users/\(user)/members/\(member)/\(job)").status == .accepted)
                try await waitUntil { !recorder.deliveries(ofType: type).isEmpty }
                let delivery = try #require(recorder.deliveries(ofType: type).first, "\(type) arrives")
                #expect(delivery.body["action"] as? String == "member_data_updated")
                #expect(delivery.body["member_guid"] as? String == member)
                #expect(delivery.body["user_guid"] as? String == user)
                #expect(delivery.body["completed_at"] is Int && delivery.body["completed_on"] is String)
                try await client.waitUntilIdle(user: user, member: member)
            }
            #expect((recorder.deliveries(ofType: "HISTORY").first?.body["transactions_created_count"] as? Int ?? 0) > 1000)
            let statements = try #require(
                try await client.mx(.get, "/users/\(user)/members/\(member)/statements?records_per_page=1000").json["statements"] as? [Any]
            )
            #expect(recorder.deliveries(ofType: "STATEMENT").first?.body["statements_created_count"] as? Int == statements.count)

            #expect(try await client.mx(.post, "/users/\(user)/members/\(member)/extend_history").status == .accepted)
            try await waitUntil { recorder.deliveries(ofType: "HISTORY").count == 2 }
            #expect(recorder.deliveries(ofType: "HISTORY").last?.body["transactions_created_count"] as? Int == 0, "a second extension adds nothing")
        }
    }

    @Test("a microdeposit announces each status with MX's resource webhook: created, then updated")
    func microdepositWebhooks() async throws {
        let recorder = WebhookRecorder(statuses: [204])
        try await withWebhookSandbox(recorder) { client async throws in
            let user = try await client.createUser(id: "mic")
            let created = try await client.mx(.post, "/users/\(user)/micro_deposits", SandboxMicrodepositTests.account)
            let guid = try #require((try created.json["micro_deposit"] as? [String: Any])?["guid"] as? String)
            func statuses() -> [String] {
                recorder.deliveries.compactMap { ($0.body["micro_deposit"] as? [String: Any])?["status_name"] as? String }
            }
            try await waitUntil { statuses().count >= 2 }
            let actions = Dictionary(
                recorder.deliveries.compactMap { delivery in
                    ((delivery.body["micro_deposit"] as? [String: Any])?["status_name"] as? String).map { ($0, delivery.body["action"] as? String) }
                },
                uniquingKeysWith: { first, _ in first }
            )
            #expect(actions == ["INITIATED": "created", "DEPOSITED": "updated"])
            let verify = #"{"micro_deposit":{"deposit_amount_1":0.07,"deposit_amount_2":0.11}}"#
            #expect(try await client.mx(.put, "/micro_deposits/\(guid)/verify", verify).status == .ok)
            try await waitUntil { statuses().count >= 3 }
            let last = try #require(recorder.deliveries.last?.body["micro_deposit"] as? [String: Any])
            #expect(last["status_name"] as? String == "VERIFIED")
            #expect(last["guid"] as? String == guid)
            #expect(last["user_guid"] as? String == user)
            #expect(last["verified_at"] is String)
        }
    }

    @Test("a failed delivery is redelivered until it succeeds")
    func redelivery() async throws {
        let recorder = WebhookRecorder(statuses: [500, 503, 204])
        try await withWebhookSandbox(recorder) { client async throws in
            let user = try await client.createUser(id: "retried")
            _ = try await client.createMember(user: user, institution: "denied_bank")
            try await waitUntil { recorder.deliveries.count >= 3 }
            try await Task.sleep(for: .milliseconds(300))
            #expect(recorder.deliveries(ofType: "CONNECTION_STATUS").count == 3)
        }
    }

    @Test("MX's pattern: the first attempt and at most 12 redeliveries")
    func redeliveryLimit() async throws {
        let recorder = WebhookRecorder(statuses: [500])
        try await withWebhookSandbox(recorder) { client async throws in
            let user = try await client.createUser(id: "never")
            _ = try await client.createMember(user: user, institution: "denied_bank")
            try await waitUntil { recorder.deliveries.count >= 13 }
            try await Task.sleep(for: .seconds(1))
            #expect(recorder.deliveries.count == 13)
        }
    }
}
