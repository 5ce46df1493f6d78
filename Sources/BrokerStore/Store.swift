import Foundation

/// The broker's mapping of an app user (the token's `sub`) to the MX user made for them.
public struct StoredUser: Sendable, Equatable {
    /// The app's user id: the `sub` claim of the caller's token.
    public let subject: String
    /// The partner-defined `id` the MX user was created with (derived from the subject, no PII).
    public let mxUserID: String
    /// MX's guid of that user, `USR-…`.
    public let mxUserGUID: String
    public let createdAt: Date

    public init(subject: String, mxUserID: String, mxUserGUID: String, createdAt: Date) {
        self.subject = subject
        self.mxUserID = mxUserID
        self.mxUserGUID = mxUserGUID
        self.createdAt = createdAt
    }
}

/// Durable state of the broker. Implementations: ``SQLiteStore`` (embedded default).
///
/// Every method is safe to call concurrently from any task.
public protocol Store: Sendable {
    /// Brings the schema up to date; safe to call on every start.
    func migrate() async throws
    /// Throws when the store cannot serve requests (unreachable, or migrations not applied).
    func checkReady() async throws
    /// The MX user mapped to an app user, if one was made.
    func user(subject: String) async throws -> StoredUser?
    /// Records a mapping unless the subject has one already; returns the mapping that is stored.
    func insertUser(_ user: StoredUser) async throws -> StoredUser
}
