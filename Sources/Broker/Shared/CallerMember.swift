import BrokerStore
import Hummingbird

extension BrokerRequestContext {
    /// The caller's MX user and the route's `member_guid`; not found when the caller has no MX
    /// user yet or the guid cannot be one. Whether the member is the caller's is for MX to say:
    /// the guid is only ever used under the caller's own user.
    func callerAndMember(_ provisioner: UserProvisioner) async throws -> (StoredUser, String) {
        let guid = try parameters.require("member_guid")
        guard Identifier.isValid(guid), let user = try await provisioner.existingUser(subject: try requireSubject()) else {
            throw BrokerError.notFound("No such member for this user.")
        }
        return (user, guid)
    }
}
