import BrokerCore

/// MX's catalogue of widget post-message events (version 4): each type and the metadata fields
/// it carries, with their types. Used to validate relayed events.
enum WidgetEventCatalogue {
    /// The JSON type of a metadata field.
    indirect enum FieldType: Sendable {
        case string
        case number
        case boolean
        case object([String: Field])
    }

    /// A metadata field: its type and whether it may be missing.
    struct Field: Sendable {
        let type: FieldType
        let optional: Bool

        static let string = Field(type: .string, optional: false)
        static let number = Field(type: .number, optional: false)
        static let boolean = Field(type: .boolean, optional: false)
        static let optionalString = Field(type: .string, optional: true)
        static let institution = Field(type: .object(["code": .string, "guid": .string]), optional: false)
    }

    private static let userSession: [String: Field] = ["user_guid": .string, "session_guid": .string]

    private static func session(_ extra: [String: Field] = [:]) -> [String: Field] {
        userSession.merging(extra) { _, new in new }
    }

    /// Every catalogued type and its metadata fields.
    static let events: [String: [String: Field]] = [
        "mx/load": [:],
        "mx/ping": session(),
        "mx/navigation": session(["did_go_back": .boolean]),
        "mx/focusTrap": session(),
        "mx/client/oauthComplete": ["url": .string],
        "mx/connect/loaded": session(["initial_step": .string]),
        "mx/connect/enterCredentials": session(["institution": .institution]),
        "mx/connect/institutionSearch": session(["query": .string]),
        "mx/connect/selectedInstitution": session(["code": .string, "guid": .string, "name": .string, "url": .string]),
        "mx/connect/memberConnected": session(["member_guid": .string]),
        "mx/connect/connected/primaryAction": session(),
        "mx/connect/memberDeleted": session(["member_guid": .string]),
        "mx/connect/createMemberError": session(["institution_guid": .string, "institution_code": .string]),
        "mx/connect/memberStatusUpdate": session(["member_guid": .string, "connection_status": .number]),
        "mx/connect/oauthError": session(["member_guid": .optionalString]),
        "mx/connect/oauthRequested": session(["url": .string, "member_guid": .string]),
        "mx/connect/stepChange": session(["previous": .string, "current": .string]),
        "mx/connect/submitMFA": session(["member_guid": .string]),
        "mx/connect/updateCredentials": session(["member_guid": .string, "institution": .institution]),
        "mx/connect/backToSearch": session(["context": .optionalString]),
        "mx/connect/invalidData": session(["member_guid": .string, "code": .number]),
        "mx/pulse/overdraftWarning/cta/transferFunds": ["account_guid": .string, "amount": .number],
        "mx/account/created": ["guid": .string],
    ]

    private static let canonicalByLowercase: [String: String] = Dictionary(
        uniqueKeysWithValues: events.keys.map { ($0.lowercased(), $0) }
    )

    /// The catalogue's spelling of `type`, which MX's SDK also accepts fully lower-cased.
    static func canonicalType(_ type: String) -> String? {
        events[type] != nil ? type : canonicalByLowercase[type.lowercased()]
    }

    /// The first problem with `metadata` for a catalogued type, or `nil` when it conforms.
    static func problem(in metadata: [String: JSONValue], of type: String) -> String? {
        guard let fields = events[type] else { return nil }
        return problem(in: metadata, fields: fields, path: "metadata")
    }

    private static func problem(in object: [String: JSONValue], fields: [String: Field], path: String) -> String? {
        for (name, field) in fields.sorted(by: { $0.key < $1.key }) {
            let value = object[name]
            guard let value, value != .null else {
                if field.optional { continue }
                return "\(path).\(name) is required"
            }
            switch (field.type, value) {
            case (.string, .string), (.number, .integer), (.number, .number), (.boolean, .bool):
                continue
            case (.object(let nested), .object(let members)):
                if let problem = problem(in: members, fields: nested, path: "\(path).\(name)") { return problem }
            case (.string, _): return "\(path).\(name) must be a string"
            case (.number, _): return "\(path).\(name) must be a number"
            case (.boolean, _): return "\(path).\(name) must be true or false"
            case (.object, _): return "\(path).\(name) must be an object"
            }
        }
        return nil
    }
}
