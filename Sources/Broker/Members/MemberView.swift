import BrokerStore
import Foundation
import MXPlatform

/// A member as the broker shows it to front ends and in events.
struct MemberView: Encodable {
    let member: MemberRecord

    enum CodingKeys: String, CodingKey {
        case guid, name
        case institutionCode = "institution_code"
        case connectionStatus = "connection_status"
        case connectionStatusID = "connection_status_id"
        case actionRequired = "action_required"
        case isBeingAggregated = "is_being_aggregated"
        case aggregatedAt = "aggregated_at"
        case successfullyAggregatedAt = "successfully_aggregated_at"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(member.guid, forKey: .guid)
        try container.encode(member.name, forKey: .name)
        try container.encode(member.institutionCode, forKey: .institutionCode)
        try container.encode(member.connectionStatus, forKey: .connectionStatus)
        try container.encode(member.connectionStatus.flatMap(MXConnectionStatus.init(rawValue:))?.id, forKey: .connectionStatusID)
        try container.encode(ActionRequired(connectionStatus: member.connectionStatus), forKey: .actionRequired)
        try container.encode(member.isBeingAggregated, forKey: .isBeingAggregated)
        try container.encode(member.aggregatedAt, forKey: .aggregatedAt)
        try container.encode(member.successfullyAggregatedAt, forKey: .successfullyAggregatedAt)
    }
}
