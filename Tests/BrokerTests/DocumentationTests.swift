import Foundation
import Testing

@testable import Broker

@Suite("Documentation tables")
struct DocumentationTests {
    /// The rows of the first Markdown table after `heading` in `text`, as cells.
    static func table(after heading: String, in text: String) throws -> [[String]] {
        let text = "\n" + text
        let start = try #require(text.range(of: "\n\(heading)\n"), "\(heading) is in the document")
        var rows: [[String]] = []
        for line in text[start.upperBound...].split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("|") {
                // A `\|` is a pipe inside a cell.
                let cells = line.replacing("\\|", with: "\u{0}").split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
                rows.append(cells.map { $0.replacing("\u{0}", with: "|").trimmingCharacters(in: .whitespaces) })
            } else if !rows.isEmpty {
                break
            }
        }
        return Array(rows.dropFirst(2))
    }

    /// The `code`-quoted snake_case words of a cell.
    static func quotedCodes(in cell: String) -> Set<String> {
        Set(cell.matches(of: /`([a-z]+(?:_[a-z]+)*)`/).map { String($0.1) })
    }

    @Test("the error table in docs/api.md lists exactly the codes the broker sends")
    func errorTable() throws {
        let rows = try Self.table(after: "## Errors", in: try ProjectFiles.text("docs/api.md"))
        let listed = rows.flatMap { Self.quotedCodes(in: $0[1]) }
        let sent = Set(ErrorCode.allCases.map(\.rawValue))
        #expect(Set(listed).subtracting(sent).isEmpty, "listed but never sent: \(Set(listed).subtracting(sent).sorted())")
        #expect(sent.subtracting(listed).isEmpty, "sent but not listed: \(sent.subtracting(listed).sorted())")
        for row in rows {
            #expect(Int(row[0]).map { (400...599).contains($0) } == true, "\(row[0]) is an error status")
        }
    }
}

extension DocumentationTests {
    /// The keys named in the first column of the README's configuration table; `/ _FILE` after
    /// a key names its file form.
    static func documentedKeys() throws -> Set<String> {
        var keys = Set<String>()
        for row in try table(after: "## Configuration", in: try ProjectFiles.text("README.md")) {
            var previous: String?
            for match in row[0].matches(of: /`([A-Z_][A-Z0-9_]*)`/) {
                let name = String(match.1)
                if name == "_FILE", let previous {
                    keys.insert(previous + "_FILE")
                } else {
                    keys.insert(name)
                    previous = name
                }
            }
        }
        return keys
    }

    @Test("the README's configuration table names exactly the keys the configuration reads")
    func configurationTable() throws {
        let sandbox = BrokerConfiguration.keysRead(from: [:])
        let remote = BrokerConfiguration.keysRead(from: [
            "MX_CLIENT_ID": "client", "MX_API_KEY": "key", "JWT_HS256_SECRET": testSecret, "MX_USER_PROFILE": "true",
        ])
        let read = sandbox.union(remote)
        #expect(read.contains("MX_ENVIRONMENT") && read.contains("SANDBOX_FAULTS"), "both kinds of MX were read")
        let documented = try Self.documentedKeys()
        #expect(read.subtracting(documented).isEmpty, "read but not documented: \(read.subtracting(documented).sorted())")
        #expect(documented.subtracting(read).isEmpty, "documented but never read: \(documented.subtracting(read).sorted())")
    }
}

extension DocumentationTests {
    /// `METHOD /path` for every route the table in docs/api.md names, parameters written `{}`
    /// and queries left out; a method word inside the path cell applies to the paths after it.
    static func documentedRoutes() throws -> Set<String> {
        var routes = Set<String>()
        for row in try table(after: "# API and integration", in: try ProjectFiles.text("docs/api.md")) {
            var method = row[0]
            for match in row[1].matches(of: /(GET|POST|PUT|DELETE)\s|`(\/[^`]*)`/) {
                if let word = match.1 {
                    method = String(word)
                } else if let path = match.2 {
                    routes.insert("\(method) \(normalized(String(path)))")
                }
            }
        }
        return routes
    }

    /// A path with its query dropped and each `{parameter}` written `{}`.
    static func normalized(_ path: String) -> String {
        let bare = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path
        return bare.replacing(/\{[^}]*\}/, with: "{}")
    }

    @Test("the route table in docs/api.md names exactly the routes the broker registers")
    func routeTable() async throws {
        let (api, _) = try await OpenAPIDocumentTests.registeredOperations()
        let registered = Set(
            api.map { operation in
                let parts = operation.split(separator: " ", maxSplits: 1)
                return "\(parts[0]) \(Self.normalized(String(parts[1])))"
            }
        ).union(["GET /"])
        let documented = try Self.documentedRoutes()
        #expect(registered.subtracting(documented).isEmpty, "registered but not in the table: \(registered.subtracting(documented).sorted())")
        #expect(documented.subtracting(registered).isEmpty, "in the table but not registered: \(documented.subtracting(registered).sorted())")
    }
}
