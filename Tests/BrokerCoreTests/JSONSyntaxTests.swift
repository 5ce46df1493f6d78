import NIOCore
import Testing

@testable import BrokerCore

@Suite("JSON syntax check")
struct JSONSyntaxTests {
    private func isValid(_ bytes: [UInt8]) -> Bool {
        JSONSyntax.isValid(ByteBuffer(bytes: bytes))
    }

    private func isValid(_ text: String) -> Bool {
        isValid(Array(text.utf8))
    }

    @Test(
        "accepts JSON texts",
        arguments: [
            #"{"accounts":[{"guid":"ACT-1","balance":-12.5e+3,"is_closed":false,"apr":null}],"pagination":{"total_pages":1}}"#,
            #"  [ 1 , 2.0 , -0 , 0.5E-2 , true , false , null , "" , {} , [] ]  "#,
            "\n\t{\r\n}\n",
            #""fragment""#, "0", "-7", "true", "null",
            #""escapes \" \\ \/ \b \f \n \r \t \u00e9 \uD83D\uDE00""#,
            "\"caf\u{e9} \u{20AC} \u{10348} \u{1F600}\"",
            #"{"a":{"b":{"c":[[[["deep"]]]]}}}"#,
        ]
    )
    func accepts(_ text: String) {
        #expect(isValid(text))
    }

    @Test(
        "refuses what is not JSON",
        arguments: [
            "", "   ", "<html>502 Bad Gateway</html>", "{", "}", "[1,]", "[,1]", #"{"a":1,}"#, #"{"a"}"#, #"{"a" 1}"#,
            #"{a:1}"#, "[01]", "[1.]", "[.5]", "[1e]", "[-]", "[+1]", "[0x10]", "[NaN]", "[Infinity]", "tru", "nul", "falsey",
            #""unterminated"#, #""bad \x escape""#, #""short \u12 escape""#, "\"tab\tinside\"", "\"new\nline\"",
            "{} {}", "[1] x", #"{"a":1}}"#, "[1 2]", "'single'",
        ]
    )
    func refuses(_ text: String) {
        #expect(!isValid(text))
    }

    @Test(
        "refuses strings that are not UTF-8",
        arguments: [
            [0x22, 0xFF, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xE0, 0x80, 0xAF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22],
            [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], [0x22, 0xC3, 0x22], [0x22, 0xE2, 0x82, 0x22], [0x22, 0x80, 0x22],
        ] as [[UInt8]]
    )
    func refusesBadUTF8(_ bytes: [UInt8]) {
        #expect(!isValid(bytes))
    }

    @Test("every byte of a long string is checked, wherever it falls in a word")
    func longStrings() {
        func quoted(_ inner: [UInt8], at position: Int) -> [UInt8] {
            [0x22] + Array(repeating: UInt8(ascii: "a"), count: position) + inner + Array(repeating: UInt8(ascii: "b"), count: 24 - position) + [0x22]
        }
        for position in 0...24 {
            #expect(isValid(quoted(Array(#"\n"#.utf8), at: position)))
            #expect(isValid(quoted(Array("\u{e9}\u{1F600}".utf8), at: position)))
            #expect(!isValid(quoted([0x01], at: position)), "control character at \(position)")
            #expect(!isValid(quoted([0x1F], at: position)), "unit separator at \(position)")
            #expect(!isValid(quoted([0xFF], at: position)), "invalid byte at \(position)")
            #expect(!isValid(quoted([0x22, 0x22], at: position)), "stray quote at \(position)")
            #expect(!isValid(quoted(Array(#"\q"#.utf8), at: position)), "bad escape at \(position)")
        }
    }

    @Test("follows nesting up to its limit and refuses deeper nesting without overflowing the stack")
    func depth() {
        let limit = JSONSyntax.maximumDepth
        #expect(isValid(String(repeating: "[", count: limit) + String(repeating: "]", count: limit)))
        #expect(!isValid(String(repeating: "[", count: limit + 1) + String(repeating: "]", count: limit + 1)))
        #expect(!isValid(String(repeating: "[", count: 100_000)))
    }

    @Test("a body cut anywhere short is refused")
    func truncations() {
        let text = Array("{\"transactions\":[{\"amount\":12.34,\"description\":\"Caf\\u00e9 \u{2615}\",\"tags\":[true,null]}]}".utf8)
        #expect(isValid(text))
        for length in 0..<text.count {
            #expect(!isValid(Array(text.prefix(length))), "cut at \(length)")
        }
    }
}
