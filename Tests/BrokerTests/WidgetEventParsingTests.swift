import BrokerCore
import Foundation
import HTTPTypes
import MXPlatform
import Testing

@testable import Broker

@Suite("Relayed widget events: parsing and validation")
struct WidgetEventParsingTests {
    /// A value of each catalogue field type.
    private static func sample(_ type: WidgetEventCatalogue.FieldType, name: String) -> JSONValue {
        switch type {
        case .string: name == "user_guid" ? .string("USR-1") : .string("\(name)-value")
        case .number: .integer(3)
        case .boolean: .bool(true)
        case .object(let fields): .object(fields.reduce(into: [:]) { $0[$1.key] = sample($1.value.type, name: $1.key) })
        }
    }

    private static func validMetadata(_ type: String) -> [String: JSONValue] {
        WidgetEventCatalogue.events[type]!.reduce(into: [:]) { $0[$1.key] = sample($1.value.type, name: $1.key) }
    }

    private static func parse(_ json: String) throws(BrokerError) -> RelayedWidgetEvent {
        try RelayedWidgetEvent(try! JSONDecoder().decode(JSONValue.self, from: Data(json.utf8)))
    }

    private static func text(_ value: some Encodable) -> String {
        String(decoding: try! JSONEncoder().encode(value), as: UTF8.self)
    }

    static let types = WidgetEventCatalogue.events.keys.sorted()

    @Test("every catalogue event is accepted in the web form", arguments: types)
    func webForm(type: String) throws {
        let metadata = Self.validMetadata(type)
        let event = try Self.parse(#"{"mx":true,"type":"\#(type)","metadata":\#(Self.text(metadata))}"#)
        #expect(event.type == type)
        #expect(event.known)
        #expect(event.metadata == metadata)
    }

    @Test("every catalogue event is accepted in the mobile URL form, whatever the scheme", arguments: types)
    func mobileForm(type: String) throws {
        let metadata = Self.text(Self.validMetadata(type))
        let encoded = metadata.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let event = try Self.parse(#"{"url":"myapp://\#(type.dropFirst(3))?metadata=\#(encoded)"}"#)
        #expect(event.type == type)
        #expect(event.known)
        #expect(event.metadata == Self.validMetadata(type))
    }

    @Test("fully lower-cased types are read as the catalogue spells them")
    func lowercased() throws {
        let event = try Self.parse(
            #"{"mx":true,"type":"mx/connect/memberconnected","metadata":{"user_guid":"U","session_guid":"S","member_guid":"M"}}"#
        )
        #expect(event.type == "mx/connect/memberConnected")
    }

    @Test("each required field must be present and of its type", arguments: types.filter { !WidgetEventCatalogue.events[$0]!.isEmpty })
    func requiredFields(type: String) {
        for (name, field) in WidgetEventCatalogue.events[type]! where !field.optional {
            var missing = Self.validMetadata(type)
            missing[name] = nil
            #expect(throws: BrokerError.self, "\(type) without \(name)") {
                try Self.parse(#"{"mx":true,"type":"\#(type)","metadata":\#(Self.text(missing))}"#)
            }
            var mistyped = Self.validMetadata(type)
            mistyped[name] = .array([])
            #expect(throws: BrokerError.self, "\(type) with a mistyped \(name)") {
                try Self.parse(#"{"mx":true,"type":"\#(type)","metadata":\#(Self.text(mistyped))}"#)
            }
        }
    }

    @Test("mx/ events outside the catalogue are kept as unknown")
    func unknownTypes() throws {
        let error = try Self.parse(#"{"mx":true,"type":"mx/connect/memberError","metadata":{"member":{"guid":"MBR-1","connection_status":2}}}"#)
        #expect(!error.known)
        #expect(error.type == "mx/connect/memberError")
        let microdeposit = try Self.parse(#"{"url":"mx://connect/microdeposits/loaded"}"#)
        #expect(!microdeposit.known)
        #expect(microdeposit.metadata.isEmpty)
    }

    @Test(
        "anything that is not an mx/ event is refused",
        arguments: [
            #"{"type":"click","metadata":{}}"#, #"{"mx":false,"type":"mx/load"}"#, #"{"mx":true,"type":"mx/load","metadata":[]}"#,
            #"{"mx":true,"type":42}"#, #"{"metadata":{}}"#, #""mx/load""#, #"{"url":"not a url"}"#,
            #"{"url":"mx://connect/memberConnected?metadata=%7Bnot-json"}"#, #"{"url":"mx://connect/memberConnected"}"#,
            #"{"mx":true,"type":"mx/"}"#,
        ]
    )
    func refused(json: String) {
        let error = #expect(throws: BrokerError.self) { try Self.parse(json) }
        #expect(error?.status == .badRequest)
    }

    @Test("a missing metadata is an empty one")
    func missingMetadata() throws {
        #expect(try Self.parse(#"{"mx":true,"type":"mx/load"}"#).metadata.isEmpty)
        #expect(try Self.parse(#"{"url":"mx://load"}"#).type == "mx/load")
    }
}

@Suite("Member status → action_required")
struct ActionRequiredTests {
    @Test(
        "every MX status maps to what the user must do",
        arguments: [
            ("CREATED", ActionRequired.wait), ("PREVENTED", .reconnect), ("DENIED", .reconnect), ("CHALLENGED", .answerMFA),
            ("REJECTED", .reconnect), ("LOCKED", .visitInstitution), ("CONNECTED", .none), ("IMPEDED", .visitInstitution),
            ("RECONNECTED", .reconnect), ("DEGRADED", .wait), ("DISCONNECTED", .reconnect), ("DISCONTINUED", .terminal),
            ("CLOSED", .terminal), ("DELAYED", .wait), ("FAILED", .contactSupport), ("UPDATED", .wait), ("DISABLED", .contactSupport),
            ("IMPORTED", .reconnect), ("RESUMED", .wait), ("EXPIRED", .reconnect), ("IMPAIRED", .reconnect), ("PENDING", .wait),
        ]
    )
    func table(status: String, action: ActionRequired) {
        #expect(ActionRequired(connectionStatus: status) == action)
    }

    @Test("no status (no credentials) needs nothing; an unknown one means wait")
    func edges() {
        #expect(ActionRequired(connectionStatus: nil) == .none)
        #expect(ActionRequired(connectionStatus: "SOMETHING_NEW") == .wait)
    }

    @Test("MX's numeric ids follow its table")
    func ids() {
        #expect(MXConnectionStatus.created.id == 0)
        #expect(MXConnectionStatus.challenged.id == 3)
        #expect(MXConnectionStatus.connected.id == 6)
        #expect(MXConnectionStatus.resumed.id == 18)
        #expect(MXConnectionStatus(id: 21) == .pending)
        #expect(MXConnectionStatus(id: 22) == nil)
    }
}
