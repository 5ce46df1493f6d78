/// Requests each user may make per minute, by kind; `0` means unlimited.
///
/// Limits are kept by each replica, so with several replicas a user may reach up to
/// replicas × limit in the worst case.
public struct RateLimits: Sendable {
    /// `POST /v1/widget_urls` (each one may create an MX user and always calls MX).
    public var widgetURLsPerMinute: Int
    /// Reads and every other authenticated request not counted below.
    public var readsPerMinute: Int
    /// `POST /v1/widget_events`.
    public var relaysPerMinute: Int
    /// `POST /v1/members`, `PUT /v1/members/{guid}/resume` and `…/credentials`: each sends
    /// credentials or answers to the user's bank, so few are allowed.
    public var connectionAttemptsPerMinute: Int

    public init(widgetURLsPerMinute: Int = 10, readsPerMinute: Int = 300, relaysPerMinute: Int = 120, connectionAttemptsPerMinute: Int = 10) {
        self.widgetURLsPerMinute = widgetURLsPerMinute
        self.readsPerMinute = readsPerMinute
        self.relaysPerMinute = relaysPerMinute
        self.connectionAttemptsPerMinute = connectionAttemptsPerMinute
    }
}
