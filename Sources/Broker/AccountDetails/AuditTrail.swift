import BrokerStore
import Foundation
import Hummingbird

/// Records who read account numbers and owners, durably, before the data is answered: a read
/// that cannot be recorded is not answered.
struct AuditTrail: Sendable {
    let log: any AuditLog
    let hasher: SubjectHasher
    let metrics: BrokerMetrics

    /// Records a read of `data` (`account_numbers`, `account_owners`, `micro_deposits`) of the
    /// caller's user.
    func record(
        data: String,
        request: Request,
        context: BrokerRequestContext,
        memberGUID: String?,
        accountGUID: String?,
        microdepositGUID: String? = nil
    ) async throws {
        let subject = try context.requireSubject()
        let caller = context.backendKeyName.map { "backend:" + $0 } ?? "user"
        try await log.recordAudit(
            AuditEntry(
                at: Date(),
                route: "\(request.method.rawValue) \(context.endpointPath ?? "unmatched")",
                memberGUID: memberGUID,
                accountGUID: accountGUID,
                microdepositGUID: microdepositGUID,
                userHash: hasher.hash(subject),
                caller: caller,
                requestID: context.requestID
            )
        )
        metrics.recordAccountDetailsRead(data: data, caller: context.backendKeyName == nil ? "user" : "backend")
    }
}
