/// MX's data products (`SupportedProducts` in MX's v20250224 document). Every product but
/// `transactions` is a premium one, charged per call.
public enum MXProduct: String, Sendable, CaseIterable, Comparable {
    case accountVerification = "account_verification"
    case identityVerification = "identity_verification"
    case transactions
    case transactionHistory = "transaction_history"
    case statements
    case investments
    case rewards

    public static func < (lhs: MXProduct, rhs: MXProduct) -> Bool { lhs.rawValue < rhs.rawValue }
}
