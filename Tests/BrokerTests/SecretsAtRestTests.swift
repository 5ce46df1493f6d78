import BrokerCore
import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import Broker

@Suite("Secrets at rest and derived keys")
struct SecretsAtRestTests {
    @Test("a DATA_DIR the broker creates is 0700, its database files and secrets 0600")
    func dataDirectoryModes() async throws {
        let environment = sandboxEnvironment(["JWT_HS256_SECRET": ""])
        let folder = try #require(environment["DATA_DIR"])
        try await withBroker(environment) { broker async throws in
            #expect(try await broker.send(.post, "/v1/sandbox/token", json: #"{"sub":"alice"}"#).status == .ok)
        }
        func mode(_ name: String) throws -> Int {
            let path = name.isEmpty ? folder : (folder as NSString).appendingPathComponent(name)
            return try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
        }
        #expect(try mode("") == 0o700)
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix("broker.sqlite") || $0.hasSuffix("secret") }
        #expect(files.contains("broker.sqlite") && files.contains("user-id-secret") && files.contains("dev-jwt-secret"), "\(files)")
        for file in files {
            #expect(try mode(file) == 0o600, "\(file)")
        }
    }

    @Test("an existing DATA_DIR keeps the mode its owner gave it")
    func existingDirectory() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kept-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        try DataDirectory.prepare(folder)
        #expect(try FileManager.default.attributesOfItem(atPath: folder)[.posixPermissions] as? Int == 0o750)
    }

    @Test("no subject's MX user id gives away bytes of a key derived from the same secret")
    func keySeparation() {
        let secret = Secret("0123456789abcdef0123456789abcdef")
        let ids = MXUserIDs(secret: secret)
        for purpose in DerivedKey.allCases {
            let key = purpose.key(from: secret).withUnsafeBytes { Data($0) }
            let keyHex = key.map { String(format: "%02x", $0) }.joined()
            for subject in [purpose.rawValue, "connect-broker events token", "connect-broker log subjects"] {
                let id = ids.id(of: subject)
                #expect(!keyHex.hasPrefix(String(id.dropFirst(3))), "\(subject)")
            }
            let others = DerivedKey.allCases.filter { $0 != purpose }.map { $0.key(from: secret).withUnsafeBytes { Data($0) } }
            #expect(!others.contains(key))
        }
    }
}
