import HTTPTypes
import Hummingbird

/// Answers 429 with `Retry-After` when the caller has used up the limit of the route's kind.
///
/// Runs after authentication, so buckets are kept per user (subject), never per address.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = BrokerRequestContext

    private let widgetURLs: TokenBuckets?
    private let reads: TokenBuckets?
    private let relays: TokenBuckets?
    private let connectionAttempts: TokenBuckets?

    init(limits: RateLimits) {
        func buckets(_ perMinute: Int) -> TokenBuckets? { perMinute > 0 ? TokenBuckets(perMinute: perMinute) : nil }
        widgetURLs = buckets(limits.widgetURLsPerMinute)
        reads = buckets(limits.readsPerMinute)
        relays = buckets(limits.relaysPerMinute)
        connectionAttempts = buckets(limits.connectionAttemptsPerMinute)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let (kind, buckets) = classify(request, context: context)
        guard let buckets, let subject = context.subject else { return try await next(request, context) }
        try Self.spend(buckets, kind: kind, by: subject)
        return try await next(request, context)
    }

    /// Takes one read from `subject`'s budget; false when it is used up (the router then answers 429).
    func allowsRead(by subject: String) -> Bool {
        reads?.take(subject) == nil
    }

    /// Takes one read from `subject`'s budget, or throws the 429 the router answers when it is used up.
    func spendRead(by subject: String) throws(BrokerError) {
        guard let reads else { return }
        try Self.spend(reads, kind: "read", by: subject)
    }

    private static func spend(_ buckets: TokenBuckets, kind: String, by subject: String) throws(BrokerError) {
        guard let wait = buckets.take(subject) else { return }
        let seconds = max(1, Int(wait.components.seconds) + (wait.components.attoseconds > 0 ? 1 : 0))
        throw BrokerError(
            .tooManyRequests,
            "rate_limited",
            "Too many \(kind) requests: at most \(buckets.capacity) a minute. Retry after \(seconds) s.",
            headers: [.retryAfter: String(seconds)]
        )
    }

    private func classify(_ request: Request, context: Context) -> (String, TokenBuckets?) {
        switch (request.method, context.endpointPath) {
        case (.post, "/v1/widget_urls"): return ("widget URL", widgetURLs)
        case (.post, "/v1/widget_events"): return ("widget event", relays)
        case (.post, "/v1/members"): return ("connection attempt", connectionAttempts)
        case (.put, let path?) where path.hasSuffix("/resume") || path.hasSuffix("/credentials"):
            return ("connection attempt", connectionAttempts)
        default: return ("read", reads)
        }
    }
}
