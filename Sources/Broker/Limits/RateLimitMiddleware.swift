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

    init(limits: RateLimits) {
        func buckets(_ perMinute: Int) -> TokenBuckets? { perMinute > 0 ? TokenBuckets(perMinute: perMinute) : nil }
        widgetURLs = buckets(limits.widgetURLsPerMinute)
        reads = buckets(limits.readsPerMinute)
        relays = buckets(limits.relaysPerMinute)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let (kind, buckets) = classify(request, context: context)
        guard let buckets, let subject = context.subject else { return try await next(request, context) }
        if let wait = buckets.take(subject) {
            let seconds = max(1, Int(wait.components.seconds) + (wait.components.attoseconds > 0 ? 1 : 0))
            throw BrokerError(
                .tooManyRequests,
                "rate_limited",
                "Too many \(kind) requests: at most \(buckets.capacity) a minute. Retry after \(seconds) s.",
                headers: [.retryAfter: String(seconds)]
            )
        }
        return try await next(request, context)
    }

    private func classify(_ request: Request, context: Context) -> (String, TokenBuckets?) {
        guard request.method == .post else { return ("read", reads) }
        switch context.endpointPath {
        case "/v1/widget_urls": return ("widget URL", widgetURLs)
        case "/v1/widget_events": return ("widget event", relays)
        default: return ("read", reads)
        }
    }
}
