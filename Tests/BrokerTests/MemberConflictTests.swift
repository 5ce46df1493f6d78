import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import Broker

@Suite("Aggregation conflicts")
struct MemberConflictTests {
    @Test("MX's 409 for another running job is passed on as job_conflict")
    func conflict() async throws {
        let router = Router()
        let json: @Sendable (String) -> Response = { body in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        router.post("users") { _, _ in json(#"{"user":{"guid":"USR-stub","id":"cb_stub"}}"#) }
        router.post("users/USR-stub/widget_urls") { _, _ in
            json(#"{"widget_url":{"type":"connect_widget","url":"https://widgets.example/x","user_id":"cb_stub"}}"#)
        }
        router.post("users/USR-stub/members/MBR-busy/aggregate") { _, _ in Response(status: .conflict) }
        try await Application(router: router).test(.live) { mx async throws in
            let environment = sandboxEnvironment([
                "MX_BASE_URL": "http://127.0.0.1:\(try #require(mx.port))", "MX_CLIENT_ID": "client", "MX_API_KEY": "key",
            ])
            try await withBroker(environment) { broker async throws in
                _ = try await broker.mintWidgetURL(as: "alice")
                let response = try await broker.send(.post, "/v1/members/MBR-busy/aggregate", as: "alice")
                #expect(response.status == .conflict)
                #expect(response.errorCode == "job_conflict")
            }
        }
    }
}
