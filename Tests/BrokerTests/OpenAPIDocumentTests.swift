import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing
import Yams

@testable import Broker

@Suite("The broker's OpenAPI document")
struct OpenAPIDocumentTests {
    /// The document, parsed as YAML (aliases and merge keys resolved).
    static func document() throws -> [String: Any] {
        let text = String(buffer: OpenAPIDocument.yaml)
        return try #require(try Yams.load(yaml: text) as? [String: Any])
    }

    /// `METHOD /path` for every operation in the document, with `{name}` parameters.
    static func describedOperations() throws -> Set<String> {
        let paths = try #require(try document()["paths"] as? [String: [String: Any]])
        let methods: Set<String> = ["get", "post", "put", "patch", "delete"]
        return Set(paths.flatMap { path, item in item.keys.filter(methods.contains).map { "\($0.uppercased()) \(path)" } })
    }

    /// `METHOD /path` of every route the broker registers with all optional routes on, the
    /// embedded sandbox's left out, and the demo's pages apart.
    static func registeredOperations() async throws -> (api: Set<String>, demoPages: Set<String>) {
        var environment = sandboxEnvironment([
            "ADMIN_TOKEN": "admin-token-0123456789", "DEMO_DIR": DemoSiteTests.publicFolder, "BACKEND_API_KEYS_FILE": try backendKeysFile(),
        ])
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
        return (all.subtracting(demoPages).filter { !$0.contains(" /sandbox/mx") }, demoPages)
    }

    @Test("every registered route is described, and every described operation is registered (all optional routes on)")
    func coverage() async throws {
        let registered = try await Self.registeredOperations().api
        let described = try Self.describedOperations()
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

    @Test("every operation answers its errors in the Error shape, merged from the shared lists")
    func errorResponses() throws {
        let paths = try #require(try Self.document()["paths"] as? [String: [String: Any]])
        var checked = 0
        for (path, item) in paths {
            for case let (method, operation as [String: Any]) in item {
                let responses = try #require(operation["responses"] as? [String: Any], "\(method) \(path) has responses")
                #expect(responses["<<"] == nil, "\(method) \(path): merge keys are resolved")
                for (status, response) in responses where status.first != "2" {
                    let reference = (response as? [String: Any])?["$ref"] as? String
                    #expect(reference == "#/components/responses/Error", "\(method) \(path) \(status)")
                    checked += 1
                }
            }
        }
        #expect(checked > 100)
    }

    @Test("the Error schema's codes are exactly the codes the broker sends")
    func errorCodes() throws {
        let schemas = try #require((try Self.document()["components"] as? [String: Any])?["schemas"] as? [String: Any])
        let error = try #require(schemas["Error"] as? [String: Any])
        let detail = try #require((error["properties"] as? [String: Any])?["error"] as? [String: Any])
        let code = try #require((detail["properties"] as? [String: Any])?["code"] as? [String: Any])
        let described = try #require(code["enum"] as? [String])
        #expect(Set(described) == Set(ErrorCode.allCases.map(\.rawValue)))
        #expect(described.count == ErrorCode.allCases.count, "no code is listed twice")
    }
}
