import Foundation
import Testing

@testable import Broker

@Suite("Example configurations")
struct ConfigExamplesTests {
    /// The repository's `Config/` folder.
    private static let folder = ProjectFiles.url("Config")

    /// The `KEY=VALUE` lines of an env file, comments and blank lines left out.
    private static func variables(in name: String) throws -> [String: String] {
        let text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
        var variables: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            variables[String(parts[0])] = String(parts[1])
        }
        return variables
    }

    @Test("the production example is complete: check-config finds nothing missing once its secret files exist")
    func production() throws {
        var environment = try Self.variables(in: "production.env")
        let secrets = FileManager.default.temporaryDirectory.appendingPathComponent("secrets-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: secrets, withIntermediateDirectories: true)
        for (key, _) in environment where key.hasSuffix("_FILE") {
            let contents: String
            switch key {
            case "DATABASE_URL_FILE": contents = "postgres://broker:password@db.internal:5432/broker?sslmode=require"
            case "JWT_JWKS_FILE": contents = #"{"keys":[]}"#
            default: contents = UUID().uuidString + UUID().uuidString
            }
            let file = secrets.appendingPathComponent(key)
            try contents.write(to: file, atomically: true, encoding: .utf8)
            environment[key] = file.path
        }
        let (configuration, findings) = ConfigurationCheck.check(environment: environment)
        #expect(configuration?.usesEmbeddedSandbox == false)
        #expect(configuration?.store.databaseURL != nil)
        #expect(findings.allSatisfy { $0.severity == .ok }, "\(findings.filter { $0.severity != .ok })")
    }

    @Test("the development example needs nothing set")
    func development() throws {
        let environment = try Self.variables(in: "development.env")
        #expect(environment.isEmpty)
        let (configuration, findings) = ConfigurationCheck.check(environment: environment)
        #expect(configuration?.usesEmbeddedSandbox == true)
        #expect(!findings.contains { $0.severity == .error })
    }
}
