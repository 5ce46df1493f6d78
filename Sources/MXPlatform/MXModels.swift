import BrokerCore
import Foundation

/// An MX user, as far as the broker needs it.
public struct MXUser: Sendable, Equatable, Decodable {
    /// MX's identifier, `USR-…`.
    public let guid: String
    /// The partner-defined identifier the user was created with.
    public let id: String?

    public init(guid: String, id: String?) {
        self.guid = guid
        self.id = id
    }
}

/// An MX member (one connection to one institution), as far as the broker needs it.
public struct MXMember: Sendable, Equatable, Decodable {
    /// MX's identifier, `MBR-…`.
    public let guid: String
    public let userGUID: String?
    public let institutionCode: String?
    /// The institution's name as MX shows it.
    public let name: String?
    /// One of MX's connection statuses (`CONNECTED`, `CHALLENGED`, …), or `nil` for a member without credentials.
    public let connectionStatus: String?
    public let isBeingAggregated: Bool?
    /// ISO 8601 start time of the latest aggregation.
    public let aggregatedAt: String?
    /// ISO 8601 time of the last successful aggregation.
    public let successfullyAggregatedAt: String?

    enum CodingKeys: String, CodingKey {
        case guid
        case userGUID = "user_guid"
        case institutionCode = "institution_code"
        case name
        case aggregatedAt = "aggregated_at"
        case connectionStatus = "connection_status"
        case isBeingAggregated = "is_being_aggregated"
        case successfullyAggregatedAt = "successfully_aggregated_at"
    }
}

struct UserEnvelope: Decodable { let user: MXUser }
struct UsersEnvelope: Decodable { let users: [MXUser] }
struct MemberEnvelope: Decodable { let member: MXMember }
struct MembersPage: Decodable {
    struct Pagination: Decodable {
        let total_pages: Int?
    }
    let members: [MXMember]
    let pagination: Pagination?
}

/// A value the user typed for one of MX's credential fields or MFA challenges: `guid` names
/// the field (`CRD-…`), `value` is the secret. Its descriptions never show the value.
public struct MXCredentialValue: Sendable, CustomStringConvertible, CustomReflectable {
    /// The field's or challenge's guid, `CRD-…`.
    public let guid: String
    let value: String

    /// The user's `value` for the field or challenge `guid`.
    public init(guid: String, value: String) {
        self.guid = guid
        self.value = value
    }

    var json: JSONValue { .object(["guid": .string(guid), "value": .string(value)]) }

    /// Names the field, never the value.
    public var description: String { "MXCredentialValue(guid: \(guid), value: <redacted>)" }
    /// Shows the guid only, so dumps and debuggers do not print the value.
    public var customMirror: Mirror { Mirror(self, children: ["guid": guid]) }
}
