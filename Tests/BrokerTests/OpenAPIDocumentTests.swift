import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

@testable import Broker

@Suite("The broker's OpenAPI document")
struct OpenAPIDocumentTests {
    /// `METHOD /path` for every operation in the document, with `{name}` parameters.
    static func describedOperations() -> Set<String> {
        var operations = Set<String>()
        var path: String?
        var inPaths = false
        for line in OpenAPIDocument.yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "paths:" {
                inPaths = true
            } else if inPaths, let first = line.first, first != " " {
                inPaths = false
            } else if inPaths, let match = line.wholeMatch(of: /\ {2}(\/\S*):/) {
                path = String(match.1)
            } else if inPaths, let path, let match = line.wholeMatch(of: /\ {4}(get|post|put|patch|delete):/) {
                operations.insert("\(match.1.uppercased()) \(path)")
            }
        }
        return operations
    }

    @Test("every registered route is described, and every described operation is registered (all optional routes on)")
    func coverage() async throws {
        var environment = sandboxEnvironment(["ADMIN_TOKEN": "admin-token-0123456789", "DEMO_DIR": DemoSiteTests.publicFolder])
        environment["JWT_HS256_SECRET"] = nil
        let demoPages = Set(try DemoSite(directory: DemoSiteTests.publicFolder, widgetOrigins: []).files.keys.map { "GET \($0)" })
        let routes = Locked<[String]>([])
        let app = try await buildApplication(
            configuration: try BrokerConfiguration(environment: environment),
            logger: Logger(label: "openapi-test"),
            registeredRoutes: { described in
                routes.withLock { list in
                    list = described.map { route in
                        let path = route.path.components.map { component in
                            let text = component.description
                            return text.hasPrefix(":") ? "{\(text.dropFirst())}" : text
                        }
                        return "\(route.method.rawValue) /" + path.joined(separator: "/")
                    }
                }
            }
        )
        try await app.test(.router) { _ in }
        let all = Set(routes.withLock { $0 })
        #expect(all.isSuperset(of: demoPages), "the demo's pages are served")
        let registered = all.subtracting(demoPages).filter { !$0.contains(" /sandbox/mx") }
        let described = Self.describedOperations()
        #expect(described.count > 20)
        #expect(registered.subtracting(described).isEmpty, "registered but not described: \(registered.subtracting(described).sorted())")
        #expect(described.subtracting(registered).isEmpty, "described but not registered: \(described.subtracting(registered).sorted())")
    }

    @Test("the document is served at /openapi.yaml")
    func served() async throws {
        try await withBroker { broker async throws in
            let response = try await broker.send(.get, "/openapi.yaml")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("application/yaml") == true)
            #expect(String(buffer: response.body).hasPrefix("openapi: 3.0.3\n"))
        }
    }
}
