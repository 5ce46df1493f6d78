import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import Broker

@Suite("check-config")
struct ConfigurationCheckTests {
    private static let secrets = ["api-key-very-secret-1", testSecret, "db-password-secret", "hook-password-secret"]

    @Test("reports what a production configuration sets up and what it lacks, and never a secret")
    func production() throws {
        let (configuration, findings) = ConfigurationCheck.check(environment: [
            "MX_CLIENT_ID": "client", "MX_API_KEY": Self.secrets[0], "JWT_HS256_SECRET": Self.secrets[1],
            "DATABASE_URL": "postgres://broker:\(Self.secrets[2])@db.internal/broker",
            "MX_WEBHOOK_USERNAME": "mx", "MX_WEBHOOK_PASSWORD": Self.secrets[3],
        ])
        #expect(configuration != nil)
        #expect(!findings.contains { $0.severity == .error })
        let warnings = findings.filter { $0.severity == .warning }.map(\.text)
        #expect(warnings.contains { $0.contains("JWT_ISSUER") })
        #expect(warnings.contains { $0.contains("USER_ID_SECRET") })
        #expect(findings.contains { $0.text.contains("PostgreSQL") })
        #expect(findings.contains { $0.text.contains("Webhooks: Basic credentials set") })
        #expect(findings.contains { $0.text.hasPrefix("MX products front ends may ask for: transactions (") })
        #expect(findings.contains { $0.text.contains("Front ends see account numbers masked") })
        #expect(findings.contains { $0.text.contains("Backend API off") })
        for finding in findings {
            for secret in Self.secrets { #expect(!finding.text.contains(secret)) }
        }
    }

    @Test("a configuration the broker would refuse is an error that says why")
    func refused() {
        let (configuration, findings) = ConfigurationCheck.check(environment: ["JWT_HS256_SECRET": "too-short"])
        #expect(configuration == nil)
        #expect(findings.map(\.severity) == [.error])
        #expect(findings.first?.text.contains("32 bytes") == true)
        #expect(findings.first?.text.contains("too-short") == false)
    }

    @Test("a key file the broker could not verify tokens with is an error; a usable one is not")
    func tokenKeys() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        func finding(_ variable: String, _ contents: String) async throws -> ConfigurationFinding? {
            let file = folder.appendingPathComponent(UUID().uuidString)
            try contents.write(to: file, atomically: true, encoding: .utf8)
            let configuration = try BrokerConfiguration(environment: [variable: file.path])
            return await ConfigurationCheck.checkTokenKey(configuration)
        }
        #expect(try await finding("JWT_PUBLIC_KEY_FILE", P256.Signing.PrivateKey().publicKey.pemRepresentation) == nil)
        #expect(try await finding("JWT_PUBLIC_KEY_FILE", "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----")?.severity == .error)
        #expect(try await finding("JWT_JWKS_FILE", #"{"keys":[]}"#)?.severity == .error)
        #expect(try await finding("JWT_JWKS_FILE", "not json")?.severity == .error)
        #expect(await ConfigurationCheck.checkTokenKey(try BrokerConfiguration(environment: ["JWT_HS256_SECRET": testSecret])) == nil)
    }

    @Test("--live tells wrong credentials (401) from an address MX has not allow-listed (403) and from no answer")
    func live() async throws {
        let router = Router()
        router.get("**") { request, _ -> Response in
            let authorization = request.headers[.authorization] ?? ""
            let status: HTTPResponse.Status
            switch authorization {
            case "Basic " + Data("client:good".utf8).base64EncodedString(): status = .ok
            case "Basic " + Data("client:blocked".utf8).base64EncodedString(): status = .forbidden
            default: status = .unauthorized
            }
            return Response(status: status, body: .init(byteBuffer: ByteBuffer(string: #"{"institutions":[]}"#)))
        }
        try await Application(router: router).test(.live) { client async throws in
            let port = try #require(client.port)
            func finding(apiKey: String, baseURL: String = "http://127.0.0.1:\(port)") async throws -> ConfigurationFinding {
                let configuration = try BrokerConfiguration(environment: [
                    "MX_CLIENT_ID": "client", "MX_API_KEY": apiKey, "MX_BASE_URL": baseURL, "JWT_HS256_SECRET": testSecret,
                    "MX_TIMEOUT_SECONDS": "2",
                ])
                return await ConfigurationCheck.checkMX(configuration)
            }
            #expect(try await finding(apiKey: "good").severity == .ok)
            let wrong = try await finding(apiKey: "wrong")
            #expect(wrong.severity == .error && wrong.text.contains("401") && wrong.text.contains("API key"))
            let blocked = try await finding(apiKey: "blocked")
            #expect(blocked.severity == .error && blocked.text.contains("403") && blocked.text.contains("allow-listed"))
            let unreachable = try await finding(apiKey: "good", baseURL: "http://127.0.0.1:9")
            #expect(unreachable.severity == .error && unreachable.text.contains("could not be reached"))
        }
    }
}
