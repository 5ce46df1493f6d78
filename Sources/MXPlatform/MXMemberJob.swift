/// A job MX runs on a member when asked (`POST /users/{user}/members/{member}/{job}`).
///
/// MX answers with the member: 202 (or 200) when the job starts and when the same job is
/// already running, 409 when another job is running, and 400 when the member's institution
/// does not offer a premium job's product.
public enum MXMemberJob: String, Sendable, CaseIterable {
    case aggregate
    case verify
    case identify

    /// The product the job fetches, which the operator must have enabled.
    public var product: MXProduct {
        switch self {
        case .aggregate: .transactions
        case .verify: .accountVerification
        case .identify: .identityVerification
        }
    }
}
