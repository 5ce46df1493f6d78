/// Requests each user may make per minute, by budget; `0` means unlimited.
///
/// Limits are kept by each replica, so with several replicas a user may reach up to
/// replicas × limit in the worst case.
public struct RateLimits: Sendable {
    /// Minting widget URLs (each one may create an MX user and always calls MX).
    public var widgetURLsPerMinute: Int
    /// Reads, and the authenticated requests that neither connect nor relay.
    public var readsPerMinute: Int
    /// Relaying widget events.
    public var relaysPerMinute: Int
    /// Sending credentials or MFA answers to the user's bank, so few are allowed.
    public var connectionAttemptsPerMinute: Int

    public init(widgetURLsPerMinute: Int = 10, readsPerMinute: Int = 300, relaysPerMinute: Int = 120, connectionAttemptsPerMinute: Int = 10) {
        self.widgetURLsPerMinute = widgetURLsPerMinute
        self.readsPerMinute = readsPerMinute
        self.relaysPerMinute = relaysPerMinute
        self.connectionAttemptsPerMinute = connectionAttemptsPerMinute
    }

    /// The limit of `budget`.
    func perMinute(_ budget: Budget) -> Int {
        switch budget {
        case .widgetURLs: widgetURLsPerMinute
        case .reads: readsPerMinute
        case .relays: relaysPerMinute
        case .connectionAttempts: connectionAttemptsPerMinute
        }
    }
}

/// What an authenticated route spends from its caller's per-minute allowance, declared where
/// the route is registered (see ``UserRoutes``).
public enum Budget: CaseIterable, Sendable {
    case widgetURLs
    case reads
    case relays
    case connectionAttempts

    /// The kind of request, as a 429's message names it.
    var requestKind: String {
        switch self {
        case .widgetURLs: "widget URL"
        case .reads: "read"
        case .relays: "widget event"
        case .connectionAttempts: "connection attempt"
        }
    }
}
