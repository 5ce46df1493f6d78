import Foundation
import NIOCore
import Testing

@testable import BrokerCore

@Suite("Parsing JSON values")
struct JSONValueParsingTests {
    private func parse(_ text: String) -> JSONValue? {
        JSONValue.parse(ByteBuffer(string: text))
    }

    @Test(
        "gives what JSONDecoder gives",
        arguments: [
            #"{"type":"MEMBER","action":"connection_status_updated","member_guid":"MBR-1","completed_at":1700000000,"nested":{"list":[1,-2,3.25,true,false,null]}}"#,
            #"[ "caf\u00e9", "tab\there", "quote \" backslash \\ slash \/", "\ud83d\ude00 emoji", "日本", "" ]"#,
            #"{"big":9223372036854775807,"small":-9223372036854775808,"fraction":0.1,"exponent":1.5e-7,"zero":-0}"#,
            #""just a string""#, "42", "null", "[]", "{}",
        ]
    )
    func matchesJSONDecoder(_ text: String) throws {
        let expected = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        #expect(parse(text) == expected)
    }

    @Test("keeps integers as integers and makes the rest doubles")
    func numbers() {
        #expect(parse("[7, 7.0, 7e0, 18446744073709551616]") == .array([.integer(7), .number(7), .number(7), .number(18_446_744_073_709_551_616)]))
    }

    @Test(
        "refuses what the syntax check refuses, and unpaired surrogates",
        arguments: ["", "{", #"{"a":}"#, "[1,]", "\"\u{1}\"", #""\ud83d""#, #""\ude00 alone""#, #""\ud83d\u0041""#]
    )
    func refuses(_ text: String) {
        #expect(parse(text) == nil)
    }

    @Test("refuses nesting past the limit")
    func depth() {
        let limit = JSONSyntax.maximumDepth
        #expect(parse(String(repeating: "[", count: limit) + String(repeating: "]", count: limit)) != nil)
        #expect(parse(String(repeating: "[", count: limit + 1) + String(repeating: "]", count: limit + 1)) == nil)
    }
}
