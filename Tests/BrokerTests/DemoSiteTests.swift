import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import Broker

@Suite("Demo front end")
struct DemoSiteTests {
    /// The repository's `Public/` folder.
    static let publicFolder = ProjectFiles.url("Public").path

    /// Development mode: the embedded sandbox and no token key, so the broker mints test tokens.
    static func developmentEnvironment(_ extra: [String: String] = [:]) -> [String: String] {
        var environment = sandboxEnvironment(["DEMO_DIR": publicFolder])
        environment["JWT_HS256_SECRET"] = nil
        return environment.merging(extra) { _, new in new }
    }

    @Test("in development mode the page is served at / with its scripts, under a strict content security policy")
    func servedInDevelopment() async throws {
        try await withBroker(Self.developmentEnvironment()) { broker in
            let page = try await broker.send(.get, "/")
            #expect(page.status == .ok)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            #expect(String(buffer: page.body).contains("<script src=\"app.js\" defer></script>"))
            let policy = try #require(page.headers[.contentSecurityPolicy])
            #expect(policy.contains("script-src 'self'"))
            #expect(policy.contains("frame-ancestors 'none'"))
            #expect(!policy.contains("unsafe-inline"))

            let script = try await broker.send(.get, "/app.js")
            #expect(script.status == .ok)
            #expect(script.headers[.contentType] == "text/javascript; charset=utf-8")
            #expect(String(buffer: script.body).contains("/v1/widget_events"))
            let style = try await broker.send(.get, "/app.css")
            #expect(style.headers[.contentType] == "text/css; charset=utf-8")
        }
    }

    @Test("files carry an ETag, are answered 304 when unchanged and gzipped when the browser accepts it")
    func caching() async throws {
        try await withBroker(Self.developmentEnvironment()) { broker in
            let first = try await broker.send(.get, "/app.js")
            let etag = try #require(first.headers[.eTag])
            let again = try await broker.send(.get, "/app.js", headers: [.ifNoneMatch: etag])
            #expect(again.status == .notModified)
            #expect(again.body.readableBytes == 0)
            let zipped = try await broker.send(.get, "/app.js", headers: [.acceptEncoding: "gzip"])
            #expect(zipped.headers[.contentEncoding] == "gzip")
            #expect(zipped.body.readableBytes < first.body.readableBytes)
        }
    }

    @Test("the page's sign-in works: a sandbox token opens the caller's API")
    func signIn() async throws {
        try await withBroker(Self.developmentEnvironment()) { broker in
            let answer = try await broker.send(.post, "/v1/sandbox/token", json: #"{"sub": "demo-user"}"#)
            let token = try #require(try answer.json["token"] as? String)
            #expect(try answer.json["expires_in"] as? Int == 3600)
            #expect(answer.headers[.cacheControl] == "no-store")
            let members = try await broker.send(.get, "/v1/members", headers: [.authorization: "Bearer \(token)"])
            #expect(members.status == .ok)
        }
    }

    @Test("with a token key configured there is no demo page and no sandbox token endpoint")
    func absentWithTokenKey() async throws {
        try await withBroker(sandboxEnvironment(["DEMO_DIR": Self.publicFolder])) { broker in
            let page = try await broker.send(.get, "/")
            #expect(page.status == .notFound)
            #expect(page.errorCode == "not_found")
            let tokenAnswer = try await broker.send(.post, "/v1/sandbox/token", json: #"{"sub": "x"}"#)
            #expect(tokenAnswer.status == .notFound)
        }
    }

    @Test("a missing demo folder leaves the broker running, with / answered 404")
    func missingFolder() async throws {
        let logs = LogCapture()
        try await withBroker(Self.developmentEnvironment(["DEMO_DIR": "/nonexistent-\(UUID().uuidString)"]), logs: logs) { broker in
            let page = try await broker.send(.get, "/")
            #expect(page.status == .notFound)
            let health = try await broker.send(.get, "/healthz")
            #expect(health.status == .ok)
        }
        #expect(logs.text.contains("No demo page at /"))
    }

    @Test("frames are allowed from the broker and from a sandbox served at another address")
    func frameSources() {
        #expect(DemoSite.contentSecurityPolicy(widgetOrigins: []).contains("frame-src 'self';"))
        let origin = DemoSite.origin(of: "https://sandbox.example.com:8443/sandbox/mx")
        #expect(origin == "https://sandbox.example.com:8443")
        #expect(DemoSite.contentSecurityPolicy(widgetOrigins: [origin!]).contains("frame-src 'self' https://sandbox.example.com:8443;"))
        #expect(DemoSite.origin(of: "not a url") == nil)
    }
}
