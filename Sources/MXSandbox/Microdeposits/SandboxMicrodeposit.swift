import Foundation

/// A simulated microdeposit: two small deposits into an account the user gives by its numbers,
/// for verifying an account at a bank without instant verification.
///
/// Created with numbers it is `INITIATED`; the deposits land after the configured delay
/// (`DEPOSITED`); the user then confirms the two amounts: right ones → `VERIFIED`, wrong ones →
/// `DENIED`. Pre-initiated with names and an email only, it is `PREINITIATED` until numbers are
/// given (in the widget). In the sandbox the amounts are always ``depositAmounts``.
struct SandboxMicrodeposit: Codable, Sendable {
    let guid: String
    let userGUID: String
    let accountName: String?
    let accountNumber: String?
    let accountType: String?
    let routingNumber: String?
    let email: String?
    let firstName: String?
    let lastName: String?
    /// When the numbers were given; the deposits land a delay later. `nil` while pre-initiated.
    let initiatedAt: Date?
    let createdAt: Date
    /// The outcome of the user's confirmation, once given.
    var confirmed: Confirmation?

    struct Confirmation: Codable, Sendable {
        let at: Date
        let isRight: Bool
    }

    /// The two amounts every sandbox microdeposit deposits, in cents.
    static let depositAmounts: (Int, Int) = (7, 11)

    /// The microdeposits' bank: the one institution that verifies only this way.
    static let institutionCode = "mxbank_microdeposits"

    /// The status at `now`, and since when it holds.
    func state(now: Date, delay: TimeInterval) -> (status: Status, since: Date) {
        guard let initiatedAt else { return (.preinitiated, createdAt) }
        if let confirmed { return (confirmed.isRight ? .verified : .denied, confirmed.at) }
        let depositedAt = initiatedAt.addingTimeInterval(delay)
        return now < depositedAt ? (.initiated, initiatedAt) : (.deposited, depositedAt)
    }

    enum Status: String, Sendable {
        case preinitiated = "PREINITIATED"
        case initiated = "INITIATED"
        case deposited = "DEPOSITED"
        case verified = "VERIFIED"
        case denied = "DENIED"

        /// The number MX's microdeposit webhooks carry beside the name (`status`, `status_name`).
        var number: Int {
            switch self {
            case .preinitiated: 0
            case .initiated: 1
            case .deposited: 2
            case .verified: 3
            case .denied: 4
            }
        }
    }
}
