import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import Broker

@Suite("Requests the HTTP parser refuses")
struct MalformedHTTPTests {
    /// Requests that are not HTTP/1.1 as the broker reads it; `{token}` is replaced by a valid bearer token.
    static let malformed: [(name: String, request: String, code: String)] = [
        (
            "a bad chunk size",
            "POST /v1/widget_urls HTTP/1.1\r\nHost: b\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
            "malformed_request"
        ),
        (
            "an unknown transfer coding",
            "POST /v1/widget_urls HTTP/1.1\r\nHost: b\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nTransfer-Encoding: bogus\r\n\r\n{}",
            "unsupported_transfer_encoding"
        ),
        (
            "a coding before chunked",
            "POST /v1/widget_urls HTTP/1.1\r\nHost: b\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
            "unsupported_transfer_encoding"
        ),
        ("a header without a colon", "GET /healthz HTTP/1.1\r\nHost: b\r\nBad Header\r\n\r\n", "malformed_request"),
        ("no request line", "GARBAGE\r\n\r\n", "malformed_request"),
        ("two lengths", "POST /healthz HTTP/1.1\r\nHost: b\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello", "malformed_request"),
    ]

    @Test("each is a JSON 400 with a clear code, never a 500 or a bare 400, and no error is logged")
    func jsonAnswers() async throws {
        let logs = LogCapture()
        try await withBroker(logs: logs) { broker async throws in
            let port = try #require(broker.client.port)
            let token = try await broker.token("alice")
            for (name, request, code) in Self.malformed {
                let answers = try await RawHTTPConnection.exchange(port: port, request.replacing("{token}", with: token), responses: 1)
                let answer = try #require(answers.first)
                #expect(answer.statusLine == "HTTP/1.1 400 Bad Request", "\(name)")
                #expect(answer.headers["content-type"] == "application/json", "\(name)")
                let error = (try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any])?["error"] as? [String: Any]
                #expect(error?["code"] as? String == code, "\(name): \(answer.body)")
                #expect(error?["request_id"] as? String != nil, "\(name)")
            }
            #expect(try await broker.send(.get, "/healthz").status == .ok)
        }
        #expect(!logs.text.split(separator: "\n").contains { $0.hasPrefix("error") || $0.hasPrefix("critical") || $0.hasPrefix("warning") })
    }

    @Test("a bad request pipelined behind a good one is answered after it, in order")
    func pipelinedOrder() async throws {
        try await withBroker { broker async throws in
            let port = try #require(broker.client.port)
            let answers = try await RawHTTPConnection.exchange(
                port: port,
                "GET /healthz HTTP/1.1\r\nHost: b\r\n\r\nGET /healthz HTTP/1.1\r\nBad Header\r\n\r\n",
                responses: 2
            )
            #expect(answers.map(\.statusLine) == ["HTTP/1.1 200 OK", "HTTP/1.1 400 Bad Request"])
            #expect(answers.last?.body.contains("malformed_request") == true)
        }
    }
}
