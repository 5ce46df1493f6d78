/// How the client protects MX, and itself, from trouble on the other side.
///
/// Built by the broker's configuration from `MX_MAX_CONCURRENT_REQUESTS`, `MX_RETRY_ATTEMPTS`,
/// `MX_RETRY_BASE_MILLISECONDS`, `MX_RETRY_MAX_WAIT_SECONDS`, `MX_BREAKER_FAILURES` and
/// `MX_BREAKER_OPEN_SECONDS`.
public struct MXResilience: Sendable {
    /// Calls to MX in flight at once from this process; more wait their turn (MX allows 2,000 per IP).
    public var maxConcurrentRequests: Int
    /// Attempts of one idempotent `GET`, the first included (1 turns retries off).
    public var retryAttempts: Int
    /// The backoff before the first retry; each further retry doubles it, with jitter.
    public var retryBaseDelay: Duration
    /// The longest wait before a retry: a `Retry-After` longer than this is passed to the caller instead.
    public var retryMaxWait: Duration
    /// Consecutive failed calls (5xx, timeouts, connection errors) that open the circuit.
    public var breakerFailureThreshold: Int
    /// How long an open circuit fails calls fast before one probe may try MX again.
    public var breakerOpenDuration: Duration

    public init(
        maxConcurrentRequests: Int = 64,
        retryAttempts: Int = 3,
        retryBaseDelay: Duration = .milliseconds(200),
        retryMaxWait: Duration = .seconds(5),
        breakerFailureThreshold: Int = 10,
        breakerOpenDuration: Duration = .seconds(15)
    ) {
        self.maxConcurrentRequests = maxConcurrentRequests
        self.retryAttempts = retryAttempts
        self.retryBaseDelay = retryBaseDelay
        self.retryMaxWait = retryMaxWait
        self.breakerFailureThreshold = breakerFailureThreshold
        self.breakerOpenDuration = breakerOpenDuration
    }

    /// The wait before retry number `retry` (1-based) of a `GET` that failed with `error`, or
    /// `nil` when it must not be retried: only 429, 5xx and connection failures are retried, and
    /// a `Retry-After` is honoured when it is no longer than ``retryMaxWait``.
    func delay(beforeRetry retry: Int, after error: MXError) -> Duration? {
        guard retry < retryAttempts else { return nil }
        switch error.kind {
        case .rateLimited, .serverError, .unreachable:
            break
        default:
            return nil
        }
        if let seconds = error.retryAfterSeconds {
            let asked = Duration.seconds(seconds)
            return asked <= retryMaxWait ? asked : nil
        }
        let ceiling = min(retryMaxWait, retryBaseDelay * (1 << min(retry - 1, 16)))
        let half = ceiling / 2
        let jitter = Double.random(in: 0...1)
        return half + half * jitter
    }
}
