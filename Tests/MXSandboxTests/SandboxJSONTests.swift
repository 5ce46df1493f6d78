import Testing

@testable import MXSandbox

@Suite("Sandbox JSON rendering")
struct SandboxJSONTests {
    @Test("money keeps two decimals, strings are escaped, nulls are explicit")
    func rendering() {
        let json = SandboxJSON.object([
            ("a", .money(cents: 123_405)), ("b", .money(cents: -7)), ("c", .string("say \"hi\"\n")), ("d", .null),
            ("e", .array([.int(1), .bool(false)])),
        ])
        #expect(json.text == #"{"a":1234.05,"b":-0.07,"c":"say \"hi\"\n","d":null,"e":[1,false]}"#)
    }

    @Test("stable guids depend only on their parts")
    func stableGUIDs() {
        let one = SandboxLedger.stableGUID(prefix: "ACT", parts: ["MBR-1", "0"])
        #expect(one == SandboxLedger.stableGUID(prefix: "ACT", parts: ["MBR-1", "0"]))
        #expect(one != SandboxLedger.stableGUID(prefix: "ACT", parts: ["MBR-1", "1"]))
        #expect(one.wholeMatch(of: /ACT-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/) != nil)
    }
}
