import Testing

@testable import Broker

/// Redirect URLs that text matching would take for `https://app.example.com/oauth` or
/// `https://app.example.com/`, and that are elsewhere.
enum RedirectAttacks {
    static let urls = [
        "https://app.example.com.evil.net/oauth",
        "https://app.example.com@evil.net/oauth",
        "https://user:password@app.example.com/oauth",
        "https://app.example.com\\@evil.net/oauth",
        "https://app.example.com\\.evil.net/oauth",
        "https://app.example.com%2f.evil.net/oauth",
        "https://app.example.com%2F@evil.net/oauth",
        "https://app.example.com%00.evil.net/oauth",
        "https://app.example.com:8443/oauth",
        "http://app.example.com/oauth",
        "//app.example.com/oauth",
        "javascript:alert(1)//app.example.com/oauth",
        "https://app.example.com/oauth/../../elsewhere",
        "https://app.example.com/oauth/%2e%2e/elsewhere",
        "https://app.example.com/oauth\t/done",
        "https://\u{0430}pp.example.com/oauth",
    ]
}

@Suite("Redirect allow-list")
struct RedirectAllowListTests {
    private let underPath = try! RedirectAllowList(prefixes: ["https://app.example.com/oauth"])
    private let wholeHost = try! RedirectAllowList(prefixes: ["https://app.example.com/"])

    @Test("URLs under an allowed prefix: any case of host, default port written out, deeper paths, queries")
    func allowed() {
        for url in [
            "https://app.example.com/oauth", "https://APP.Example.COM/oauth/done", "https://app.example.com:443/oauth/done?state=1",
            "HTTPS://app.example.com/oauth#done",
        ] {
            #expect(underPath.allows(url), "\(url)")
            #expect(wholeHost.allows(url), "\(url)")
        }
        #expect(wholeHost.allows("https://app.example.com"))
    }

    @Test("look-alike hosts, user info, backslashes, encoded authorities, other ports and schemes, dot segments", arguments: RedirectAttacks.urls)
    func refused(url: String) {
        #expect(!underPath.allows(url))
        #expect(!wholeHost.allows(url))
    }

    @Test("a path prefix holds only on a segment boundary")
    func segmentBoundary() {
        #expect(!underPath.allows("https://app.example.com/oauthx"))
        #expect(!underPath.allows("https://app.example.com/oauth.evil"))
        #expect(!underPath.allows("https://app.example.com/"))
        #expect(underPath.allows("https://app.example.com/oauth/"))
    }

    @Test("with no prefix configured nothing is allowed")
    func empty() throws {
        let none = try RedirectAllowList(prefixes: [])
        #expect(none.isEmpty)
        #expect(!none.allows("https://app.example.com/"))
        #expect(throws: BrokerError.self) { try none.check("https://app.example.com/") }
    }

    @Test(
        "a prefix must be an absolute https URL (http only for loopback) without user info or query",
        arguments: [
            "app.example.com", "http://app.example.com/", "myapp://", "https://user@app.example.com/", "https://app.example.com/?a=1",
            "https://", "ftp://app.example.com/", "http://127.evil.com/", "https://app.example.com:99999/",
        ]
    )
    func badPrefixes(prefix: String) {
        #expect(throws: ConfigurationError.self) { try RedirectAllowList(prefixes: [prefix]) }
    }

    @Test("http is accepted for loopback hosts")
    func loopback() throws {
        for prefix in ["http://localhost:5173/", "http://127.0.0.1:8080/app", "http://[::1]:3000/"] {
            #expect(throws: Never.self) { try RedirectAllowList(prefixes: [prefix]) }
        }
        #expect(try RedirectAllowList(prefixes: ["http://localhost:5173/"]).allows("http://localhost:5173/done"))
        #expect(!(try RedirectAllowList(prefixes: ["http://localhost:5173/"]).allows("http://localhost:5174/done")))
    }

    @Test("a bad prefix stops the broker's configuration, naming the key")
    func configuration() {
        let error = #expect(throws: ConfigurationError.self) {
            try BrokerConfiguration(
                environment: sandboxEnvironment(["ALLOWED_REDIRECT_URL_PREFIXES": "https://ok.example/, http://app.example.com/"])
            )
        }
        #expect(error?.description.contains("ALLOWED_REDIRECT_URL_PREFIXES") == true)
    }
}
