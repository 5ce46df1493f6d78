import BrokerCore
import Foundation
import Testing

@Suite("Maps keyed by bytes")
struct KeyedByBytesTests {
    @Test("ByteKey tells apart strings Swift calls equal, and agrees with the bytes")
    func byteKey() {
        #expect("\u{212A}im" == "Kim", "the trap: String compares by canonical equivalence")
        #expect(ByteKey("\u{212A}im") != ByteKey("Kim"))
        #expect(ByteKey("jose\u{301}") != ByteKey("jos\u{E9}"))
        #expect(ByteKey("Kim") == ByteKey("Kim"))
        let map = [ByteKey("Kim"): 1, ByteKey("\u{212A}im"): 2, ByteKey("jos\u{E9}"): 3, ByteKey("jose\u{301}"): 4]
        #expect(map.count == 4)
        #expect(map[ByteKey(String(decoding: Array("Kim".utf8), as: UTF8.self))] == 1)
    }

    /// A map that outlives a request — a `Mutex`'s, or a stored `var` of an actor or class — must
    /// not be keyed by `String`: such maps hold what callers chose (tokens, subjects, paths).
    @Test("no long-lived map or set in the broker or the MX client is keyed by String")
    func noStringKeyedState() throws {
        let root = ProjectFiles.root
        let stringKeyed = /(Mutex<\s*(\[String\s*:|Set<String>|Dictionary<String))|(\bvar\s+\w+\s*:\s*(\[String\s*:|Set<String>|Dictionary<String))/
        let referenceType = /^\s*(public\s+|private\s+|fileprivate\s+|final\s+)*(actor|class)\s/
        var found: [String] = []
        for folder in ["Sources/Broker", "Sources/BrokerCore", "Sources/MXPlatform"] {
            let files = try #require(FileManager.default.enumerator(atPath: root.appendingPathComponent(folder).path))
            for case let file as String in files where file.hasSuffix(".swift") {
                let text = try String(contentsOf: root.appendingPathComponent(folder).appendingPathComponent(file), encoding: .utf8)
                let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
                let holdsState = lines.contains { $0.firstMatch(of: referenceType) != nil }
                for (number, line) in lines.enumerated() {
                    guard let match = line.firstMatch(of: stringKeyed) else { continue }
                    if match.output.1 != nil || holdsState {
                        found.append("\(folder)/\(file):\(number + 1): \(line.trimmingCharacters(in: .whitespaces))")
                    }
                }
            }
        }
        #expect(found.isEmpty, "key these by ByteKey: \(found)")
    }
}
