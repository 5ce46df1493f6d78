import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOHTTP1
import Testing

@testable import Broker

/// A statement's PDF passes through the broker as it arrives: a broker process streams a
/// statement far larger than its memory use, and refuses a body from MX that is not a PDF.
@Suite("Statement PDFs streamed")
struct StatementStreamingTests {
    static let statementBytes = 256 * 1024 * 1024
    static let chunk = ByteBuffer(repeating: UInt8(ascii: "0"), count: 64 * 1024)

    /// A stand-in MX: it creates one user and mints widget URLs for it, serves one huge
    /// statement written as it is sent, and one "statement" that is an HTML page.
    private static func standInMX() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("users") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"user":{"guid":"USR-big","id":"alice","is_disabled":false,"metadata":null}}"#))
            )
        }
        router.post("users/USR-big/widget_urls") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: .init(
                    byteBuffer: ByteBuffer(
                        string:
                            #"{"widget_url":{"type":"connect_widget","url":"https://int-widgets.moneydesktop.com/md/connect/t","user_id":"alice"}}"#
                    )
                )
            )
        }
        router.get("users/USR-big/members/MBR-1/statements/STA-big.pdf") { _, _ in
            let header = ByteBuffer(string: "%PDF-1.4\n")
            let body = ResponseBody(contentLength: statementBytes) { writer in
                try await writer.write(header)
                var left = statementBytes - header.readableBytes
                while left > 0 {
                    try await writer.write(chunk.getSlice(at: 0, length: min(left, chunk.readableBytes))!)
                    left -= min(left, chunk.readableBytes)
                }
                try await writer.finish(nil)
            }
            return Response(status: .ok, headers: [.contentType: "application/vnd.mx.api.v1+pdf"], body: body)
        }
        router.get("users/USR-big/members/MBR-1/statements/STA-page.pdf") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html"], body: .init(byteBuffer: ByteBuffer(string: "<html>maintenance</html>")))
        }
        return router
    }

    @Test(
        "a 256 MiB statement streams through a broker process whose memory grows by a small part of it; a body that is no PDF is a 502",
        .timeLimit(.minutes(2))
    )
    func largeStatement() async throws {
        try await Application(router: Self.standInMX()).test(.live) { mx async throws in
            let port = try #require(mx.port)
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("statements-\(UUID().uuidString)").path
            let broker = try await BrokerProcess(environment: [
                "DATA_DIR": directory, "MX_BASE_URL": "http://127.0.0.1:\(port)", "MX_CLIENT_ID": "client", "MX_API_KEY": "key",
                "JWT_HS256_SECRET": testSecret, "MX_PRODUCTS": "transactions,statements", "LOG_LEVEL": "notice",
            ])
            defer { broker.stop() }
            let token = try await DevTokenSigner(secret: testSecret).token(subject: "alice", lifetime: 600)
            let auth = [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")]
            #expect(
                try await httpRequest("\(broker.baseURL)/v1/widget_urls", method: .POST, headers: auth, body: #"{"widget_url":{}}"#).status == 200
            )
            let before = try #require(broker.residentBytes)

            var request = HTTPClientRequest(url: "\(broker.baseURL)/v1/members/MBR-1/statements/STA-big.pdf")
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(90))
            #expect(response.status == .ok)
            #expect(response.headers.first(name: "Content-Length") == String(Self.statementBytes))
            #expect(response.headers.first(name: "Content-Type") == "application/pdf")
            var received = 0
            var peak = before
            var first = ByteBuffer()
            for try await part in response.body {
                if first.readableBytes < 8 { first.writeImmutableBuffer(part) }
                received += part.readableBytes
                if received % (8 * 1024 * 1024) < part.readableBytes { peak = max(peak, broker.residentBytes ?? 0) }
            }
            #expect(received == Self.statementBytes)
            #expect(String(buffer: first).hasPrefix("%PDF-"))
            let growth = peak - before
            #expect(
                growth < 48 * 1024 * 1024,
                "the broker's memory grew by \(growth / 1024 / 1024) MiB for a \(Self.statementBytes / 1024 / 1024) MiB statement"
            )

            let page = try await httpRequest("\(broker.baseURL)/v1/members/MBR-1/statements/STA-page.pdf", headers: auth)
            #expect(page.status == 502)
            #expect((page.json["error"] as? [String: Any])?["code"] as? String == "mx_unavailable")
        }
    }
}
