import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import Broker

@Suite("Errors end to end")
struct ErrorEndToEndTests {
    @Test("every failure is a JSON error with a code, a message and the request id")
    func errorShapes() async throws {
        try await withBroker { broker async throws in
            let cases: [(TestResponse, HTTPResponse.Status, String)] = [
                (try await broker.send(.get, "/no/such/route"), .notFound, "not_found"),
                (try await broker.send(.get, "/v1/accounts"), .unauthorized, "missing_token"),
                (try await broker.send(.get, "/v1/accounts", headers: [.authorization: "Bearer forged.token.value"]), .unauthorized, "invalid_token"),
                (try await broker.send(.get, "/v1/accounts", headers: [.authorization: "Basic YTpi"]), .unauthorized, "missing_token"),
                (
                    try await broker.send(.post, "/v1/widget_urls", as: "alice", json: String(repeating: " ", count: 70_000) + "{}"),
                    .contentTooLarge, "body_too_large"
                ),
                (
                    try await broker.send(.post, "/v1/widget_urls", as: "alice", json: "{}", headers: [.contentType: "text/plain"]),
                    .unsupportedMediaType, "unsupported_media_type"
                ),
                (try await broker.send(.post, "/v1/widget_urls", as: "alice", json: #"{"widget_url": "#), .badRequest, "malformed_json"),
                (try await broker.send(.post, "/v1/widget_urls", as: "alice", json: ""), .badRequest, "empty_body"),
                (try await broker.send(.post, "/v1/widget_urls", as: "alice", json: "\u{FF}\u{FE}"), .badRequest, "malformed_json"),
            ]
            for (response, status, code) in cases {
                #expect(response.status == status, "\(code)")
                #expect(response.headers[.contentType] == "application/json")
                let error = try #require(try response.json["error"] as? [String: Any])
                #expect(error["code"] as? String == code)
                #expect((error["message"] as? String)?.isEmpty == false)
                #expect(error["request_id"] as? String == response.headers[.requestID])
            }
            let expired = try await broker.send(.get, "/v1/accounts", headers: [.authorization: "Bearer \(try await broker.client.expiredToken())"])
            #expect(expired.errorCode == "token_expired")
            #expect(expired.headers[.wwwAuthenticate] == "Bearer")
        }
    }

    @Test("a plain X-Request-Id is echoed; an unusable one is replaced")
    func requestIDs() async throws {
        try await withBroker { broker async throws in
            let kept = try await broker.send(.get, "/healthz", headers: [.requestID: "trace-123.abc"])
            #expect(kept.headers[.requestID] == "trace-123.abc")
            let replaced = try await broker.send(.get, "/healthz", headers: [.requestID: "bad id\u{7}"])
            #expect(replaced.headers[.requestID] != nil)
            #expect(replaced.headers[.requestID] != "bad id\u{7}")
        }
    }

    @Test("health and readiness answer once migrations have run")
    func health() async throws {
        try await withBroker { broker async throws in
            #expect(try await broker.send(.get, "/healthz").status == .ok)
            #expect(try await broker.send(.get, "/readyz").status == .ok)
        }
    }

    @Test(
        "MX failures become clear broker errors",
        arguments: [
            (401, HTTPResponse.Status.badGateway, "mx_auth_failed"), (403, .badGateway, "mx_auth_failed"),
            (429, .serviceUnavailable, "mx_rate_limited"), (500, .badGateway, "mx_unavailable"),
            (503, .badGateway, "mx_unavailable"), (400, .unprocessableContent, "mx_rejected"),
        ]
    )
    func mxFailures(mxStatus: Int, status: HTTPResponse.Status, code: String) async throws {
        try await withFailingMX(status: mxStatus) { broker async throws in
            let response = try await broker.send(.post, "/v1/widget_urls", as: "alice", json: "{}")
            #expect(response.status == status)
            #expect(response.errorCode == code)
            if mxStatus == 429 {
                #expect(response.headers[.retryAfter] == "9")
            }
        }
    }

    @Test("an MX that does not answer in time is a 504")
    func mxTimeout() async throws {
        try await withFailingMX(status: 200, delay: .seconds(2), timeoutSeconds: "0.3") { broker async throws in
            let response = try await broker.send(.post, "/v1/widget_urls", as: "alice", json: "{}")
            #expect(response.status == .gatewayTimeout)
            #expect(response.errorCode == "mx_timeout")
        }
    }

    /// A broker whose MX answers every call with `status` (after `delay`).
    private func withFailingMX(
        status: Int,
        delay: Duration = .zero,
        timeoutSeconds: String = "5",
        _ body: @Sendable @escaping (BrokerClient) async throws -> Void
    ) async throws {
        let router = Router()
        let respond: @Sendable (Request, BasicRequestContext) async throws -> Response = { _, _ in
            try await Task.sleep(for: delay)
            return Response(status: .init(code: status), headers: [.retryAfter: "9"])
        }
        router.get("**", use: respond)
        router.post("**", use: respond)
        try await Application(router: router).test(.live) { mx async throws in
            let port = try #require(mx.port)
            let environment = sandboxEnvironment([
                "MX_BASE_URL": "http://127.0.0.1:\(port)", "MX_CLIENT_ID": "client", "MX_API_KEY": "key", "MX_TIMEOUT_SECONDS": timeoutSeconds,
            ])
            try await withBroker(environment, body)
        }
    }
}

extension TestClientProtocol {
    /// A token for `alice` that expired an hour ago.
    func expiredToken() async throws -> String {
        try await DevTokenSigner(secret: testSecret).token(subject: "alice", lifetime: -3600)
    }
}
