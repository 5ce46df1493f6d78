import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import Synchronization
import Testing

@testable import Broker

@Suite("Logs")
struct LoggingTests {
    @Test("one access line per request: route template, status, latency, request id and a keyed hash of the caller")
    func accessLog() async throws {
        let logs = LogCapture()
        try await withBroker(logs: logs) { broker async throws in
            _ = try await broker.send(.get, "/v1/accounts/ACT-123?page=1", as: "alice@example.com", headers: [.requestID: "req-42"])
            _ = try await broker.send(.get, "/no/such/route")
            let lines = logs.text.split(separator: "\n").filter { $0.contains(" Request ") }
            let read = try #require(lines.first { $0.contains("http.route=/v1/accounts/{account_guid}") })
            #expect(read.contains("http.method=GET"))
            #expect(read.contains("http.status=200") || read.contains("http.status=404"))
            #expect(read.contains("request.id=req-42"))
            #expect(read.contains("http.duration_ms="))
            let hash = try #require(read.firstMatch(of: /user\.hash=([0-9a-f]{16})/)?.1)
            #expect(!logs.text.contains("alice@example.com"), "the subject itself never appears")
            #expect(!read.contains("ACT-123") && !read.contains("page=1"), "the raw path and query stay out")
            _ = try await broker.send(.get, "/v1/transactions", as: "alice@example.com")
            let again = logs.text.split(separator: "\n").filter { $0.contains("http.route=/v1/transactions") }
            #expect(again.first?.contains("user.hash=\(hash)") == true, "the same caller hashes the same")
            #expect(lines.contains { $0.contains("http.route=NotFound") && $0.contains("http.status=404") })
        }
    }

    @Test("webhook credentials never reach the logs")
    func webhookCredentials() async throws {
        let logs = LogCapture()
        try await withBroker(logs: logs) { broker async throws in
            _ = try await broker.deliver(#"{"type":"PING"}"#)
            _ = try await broker.deliver(#"{"type":"PING"}"#, credentials: "sandbox-webhooks:a-wrong-password")
            #expect(logs.text.contains("Webhook received"))
            #expect(!logs.text.contains("sandbox-webhook-password"))
            #expect(!logs.text.contains("a-wrong-password"))
            #expect(!logs.text.contains(Data("sandbox-webhooks:sandbox-webhook-password".utf8).base64EncodedString()))
        }
    }

    @Test("LOG_FORMAT=json writes one JSON object per line")
    func jsonLines() throws {
        let lines = Mutex<[String]>([])
        var logger = Logger(label: "broker") { label in LineLogHandler(label: label, format: .json) { line in lines.withLock { $0.append(line) } } }
        logger[metadataKey: "request.id"] = "r-1"
        logger.info("Request", metadata: ["http.status": "200", "quote": "say \"hi\""])
        let line = try #require(lines.withLock { $0.first })
        #expect(line.hasSuffix("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object["message"] == "Request")
        #expect(object["level"] == "info")
        #expect(object["label"] == "broker")
        #expect(object["request.id"] == "r-1")
        #expect(object["http.status"] == "200")
        #expect(object["quote"] == "say \"hi\"")
        #expect(object["ts"] != nil)
        #expect(throws: ConfigurationError.self) { try BrokerConfiguration(environment: ["LOG_FORMAT": "xml"]) }
        #expect(try BrokerConfiguration(environment: ["LOG_FORMAT": "json"]).logging.asJSON)
    }

    @Test("LOG_FORMAT=text writes one line per event: time, level, label, sorted metadata, source, message")
    func textLines() throws {
        let lines = Mutex<[String]>([])
        var logger = Logger(label: "broker") { label in LineLogHandler(label: label, format: .text) { line in lines.withLock { $0.append(line) } } }
        logger[metadataKey: "request.id"] = "r-1"
        logger.logLevel = .info
        logger.debug("Not written")
        logger.notice("Listening", metadata: ["server.url": "http://127.0.0.1:8080"])
        let written = lines.withLock { $0 }
        #expect(written.count == 1)
        let line = try #require(written.first)
        #expect(line.hasSuffix(" Listening\n"))
        #expect(line.contains(" notice broker: request.id=r-1 server.url=http://127.0.0.1:8080 ["))
        #expect(line.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[^ ]* notice .*\n/) != nil)
    }

    @Test("text lines escape control characters in every value, so a relayed event type cannot forge a line")
    func forgedLines() async throws {
        let lines = Mutex<[String]>([])
        var logger = Logger(label: "broker") { label in LineLogHandler(label: label, format: .text) { line in lines.withLock { $0.append(line) } } }
        logger.logLevel = .trace
        logger.info("Said\nfake 2", metadata: ["value": "a\n2026-12-03T00:00:00+0000 error broker: forged", "other": "\u{2028}x\\n\u{1b}[31m"])
        let line = try #require(lines.withLock { $0.first })
        #expect(line.filter(\.isNewline).count == 1 && line.hasSuffix("\n"))
        #expect(line.contains(#"value=a\n2026-12-03T00:00:00+0000 error broker: forged"#))
        #expect(line.contains(#"other=\u{2028}x\\n\u{1b}[31m"#), "a backslash in the value is doubled, so it reads apart from an escape")
        #expect(line.hasSuffix(#" Said\nfake 2"# + "\n"))

        let configuration = try BrokerConfiguration(environment: sandboxEnvironment())
        let app = try await buildApplication(configuration: configuration, logger: logger)
        try await app.test(.router) { client in
            let broker = BrokerClient(client: client)
            let event = #"{"mx":true,"type":"mx/connect/x\n2026-12-03T00:00:00+0000 error broker: forged","metadata":{}}"#
            _ = try await broker.relay(event, as: "alice")
        }
        let written = lines.withLock { $0 }
        #expect(written.count > 1)
        #expect(written.allSatisfy { $0.filter(\.isNewline).count == 1 })
        #expect(!written.contains { $0.hasPrefix("2026-12-03T00:00:00+0000") })
    }
}
