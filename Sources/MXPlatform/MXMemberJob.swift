/// A job MX runs on a member when asked (`POST /users/{user}/members/{member}/{job}`).
///
/// MX answers with the member: 202 (or 200) when the job starts and when the same job is
/// already running, 409 when another job is running, and 400 when the member's institution
/// does not offer a premium job's product.
public enum MXMemberJob: String, Sendable, CaseIterable {
    case aggregate
    case verify
    case identify
    case checkBalance = "check_balance"
    case extendHistory = "extend_history"
    case fetchStatements = "fetch_statements"

    /// The product the job fetches, which the operator must have enabled. MX sells balance
    /// checks with account verification, as a fresh balance before a transfer.
    public var product: MXProduct {
        switch self {
        case .aggregate: .transactions
        case .verify, .checkBalance: .accountVerification
        case .identify: .identityVerification
        case .extendHistory: .transactionHistory
        case .fetchStatements: .statements
        }
    }
}
