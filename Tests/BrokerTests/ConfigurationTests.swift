import BrokerCore
import Foundation
import MXPlatform
import Testing

@testable import Broker

@Suite("Configuration")
struct ConfigurationTests {
    @Test("no configuration: embedded sandbox on 127.0.0.1:8080 with data under ./data")
    func defaults() throws {
        let configuration = try BrokerConfiguration(environment: [:])
        #expect(configuration.http.host == "127.0.0.1")
        #expect(configuration.http.port == 8080)
        #expect(configuration.store.dataDirectory == "./data")
        #expect(configuration.usesEmbeddedSandbox)
        #expect(configuration.tokens.keySource == nil)
        #expect(configuration.mx.apiVersion == .v20250224)
        #expect(configuration.http.maxBodyBytes == 65_536)
    }

    @Test("MX credentials select a remote MX; the environment picks its URL unless MX_BASE_URL is set")
    func remote() throws {
        let base = ["MX_CLIENT_ID": "client", "MX_API_KEY": "key", "JWT_HS256_SECRET": testSecret]
        guard case .remote(let url, let clientID, let apiKey) = try BrokerConfiguration(environment: base).mx.target else {
            Issue.record("expected remote MX")
            return
        }
        #expect(url == "https://int-api.mx.com")
        #expect(clientID == "client")
        #expect(apiKey.value == "key")
        let production = try BrokerConfiguration(environment: base.merging(["MX_ENVIRONMENT": "production"]) { $1 })
        guard case .remote(let productionURL, _, _) = production.mx.target else { return }
        #expect(productionURL == "https://api.mx.com")
        let custom = try BrokerConfiguration(environment: base.merging(["MX_BASE_URL": "http://127.0.0.1:9000"]) { $1 })
        guard case .remote(let customURL, _, _) = custom.mx.target else { return }
        #expect(customURL == "http://127.0.0.1:9000")
    }

    @Test("the api key can come from a file")
    func apiKeyFile() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("key-\(UUID().uuidString)")
        try "from-file\n".write(to: file, atomically: true, encoding: .utf8)
        let configuration = try BrokerConfiguration(environment: ["MX_CLIENT_ID": "c", "MX_API_KEY_FILE": file.path, "JWT_HS256_SECRET": testSecret])
        guard case .remote(_, _, let apiKey) = configuration.mx.target else { return }
        #expect(apiKey.value == "from-file")
    }

    @Test(
        "wrong settings are refused with a message naming the key",
        arguments: [
            (["PORT": "eighty"], "PORT"),
            (["MX_CLIENT_ID": "c"], "MX_API_KEY"),
            (["MX_CLIENT_ID": "c", "MX_API_KEY": "k"], "JWT_HS256_SECRET"),
            (["JWT_HS256_SECRET": "short"], "32 bytes"),
            (["MX_API_VERSION": "v3"], "MX_API_VERSION"),
            (["MX_API_KEY_FILE": "/nonexistent/key", "MX_CLIENT_ID": "c"], "MX_API_KEY_FILE"),
            (["JWT_HS256_SECRET": testSecret, "JWT_JWKS_FILE": #filePath], "only one"),
            (["MX_PRODUCTS": "transactions,gold"], "MX_PRODUCTS"),
            (["FRONT_END_ACCOUNT_NUMBERS": "some"], "FRONT_END_ACCOUNT_NUMBERS"),
            (["AUDIT_RETENTION_DAYS": "0"], "AUDIT_RETENTION_DAYS"),
        ]
    )
    func invalid(environment: [String: String], mentions: String) {
        let error = #expect(throws: ConfigurationError.self) { try BrokerConfiguration(environment: environment) }
        #expect(error?.description.contains(mentions) == true, "\(error?.description ?? "")")
        #expect(error?.description.contains("short") == false, "never echo a secret")
    }

    @Test("MX products: every one with the embedded sandbox, transactions alone with MX, or exactly the list given")
    func products() throws {
        #expect(try BrokerConfiguration(environment: [:]).connect.products == Set(MXProduct.allCases))
        let remote = ["MX_CLIENT_ID": "client", "MX_API_KEY": "key", "JWT_HS256_SECRET": testSecret]
        #expect(try BrokerConfiguration(environment: remote).connect.products == [.transactions])
        let listed = try BrokerConfiguration(environment: remote.merging(["MX_PRODUCTS": " transactions, ACCOUNT_VERIFICATION "]) { $1 })
        #expect(listed.connect.products == [.transactions, .accountVerification])
    }

    @Test(
        "backend keys: name=secret lines, comments and blanks skipped; a short secret, a bad name, a name twice or no key is refused",
        arguments: [
            ("app=0123456789abcdef0123456789abcdef\n# old\n\nold=abcdefghijklmnopqrstuvwxyz0123456789\n", nil),
            ("app=short-secret\n", "32 bytes"),
            ("app 1=0123456789abcdef0123456789abcdef\n", "name"),
            ("app=0123456789abcdef0123456789abcdef\napp=abcdefghijklmnopqrstuvwxyz0123456789\n", "twice"),
            ("just-a-secret-0123456789abcdef0123456789\n", "name=secret"),
            ("# nothing\n", "no key"),
        ] as [(String, String?)]
    )
    func backendKeys(text: String, refusal: String?) throws {
        guard let refusal else {
            let keys = try BackendKeys(fileText: text)
            #expect(keys.names == ["app", "old"])
            #expect(keys.name(of: "abcdefghijklmnopqrstuvwxyz0123456789") == "old")
            #expect(keys.name(of: "0123456789abcdef0123456789abcdef") == "app")
            #expect(keys.name(of: "0123456789abcdef0123456789abcde") == nil)
            return
        }
        let error = #expect(throws: ConfigurationError.self) { try BackendKeys(fileText: text) }
        #expect(error?.description.contains(refusal) == true, "\(error?.description ?? "")")
        #expect(error?.description.contains("short-secret") == false, "never echo a secret")
    }
}
