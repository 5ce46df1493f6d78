import Foundation
import Testing

@testable import Broker

@Suite("Request ids")
struct RequestIDTests {
    @Test("a new request id is a lowercase version 4 UUID, different each time")
    func newIDsAreVersion4UUIDs() throws {
        let ids = (0..<1000).map { _ in RequestID.new() }
        #expect(Set(ids).count == 1000)
        for id in ids.prefix(100) {
            let uuid = try #require(UUID(uuidString: id), "\(id) is not a UUID")
            #expect(uuid.uuidString.lowercased() == id)
            let characters = Array(id)
            #expect(characters[14] == "4", "version 4")
            #expect("89ab".contains(characters[19]), "RFC 4122 variant")
        }
    }

    @Test("a client's request id is kept only when short and plain")
    func clientIDs() {
        #expect(RequestID.usable("req-42_a.b") == "req-42_a.b")
        #expect(RequestID.usable(String(repeating: "a", count: 129)) == nil)
        #expect(RequestID.usable("two words") == nil)
        #expect(RequestID.usable("") == nil)
    }
}
