import HTTPTypes
import Hummingbird

/// Each user's allowance per ``Budget``, kept per subject (never per address).
struct RateLimiter: Sendable {
    private let widgetURLs: TokenBuckets?
    private let reads: TokenBuckets?
    private let relays: TokenBuckets?
    private let connectionAttempts: TokenBuckets?

    init(limits: RateLimits) {
        func buckets(_ budget: Budget) -> TokenBuckets? {
            let perMinute = limits.perMinute(budget)
            return perMinute > 0 ? TokenBuckets(perMinute: perMinute) : nil
        }
        widgetURLs = buckets(.widgetURLs)
        reads = buckets(.reads)
        relays = buckets(.relays)
        connectionAttempts = buckets(.connectionAttempts)
    }

    private func buckets(_ budget: Budget) -> TokenBuckets? {
        switch budget {
        case .widgetURLs: widgetURLs
        case .reads: reads
        case .relays: relays
        case .connectionAttempts: connectionAttempts
        }
    }

    /// Takes one request from `subject`'s `budget`; false when it is used up.
    func allows(_ budget: Budget, by subject: String) -> Bool {
        buckets(budget)?.take(subject) == nil
    }

    /// Takes one request from `subject`'s `budget`, or throws the 429 that says when to retry.
    func spend(_ budget: Budget, by subject: String) throws(BrokerError) {
        guard let buckets = buckets(budget), let wait = buckets.take(subject) else { return }
        let seconds = max(1, Int(wait.components.seconds) + (wait.components.attoseconds > 0 ? 1 : 0))
        throw BrokerError(
            .tooManyRequests,
            .rateLimited,
            "Too many \(budget.requestKind) requests: at most \(buckets.capacity) a minute. Retry after \(seconds) s.",
            headers: [.retryAfter: String(seconds)]
        )
    }
}

/// Answers 429 with `Retry-After` when the caller has used up the budget its routes spend.
///
/// Runs after authentication, so the caller is known.
struct RateLimitMiddleware: UserRouteStep {
    typealias Context = BrokerRequestContext

    let budget: Budget
    let limiter: RateLimiter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let subject = context.subject {
            // The app's backend has budgets of its own for each user, so a user's front end cannot spend them.
            try limiter.spend(budget, by: context.backendKeyName == nil ? subject : "backend\u{0}" + subject)
        }
        return try await next(request, context)
    }

    func admitEarly(_ request: Request, caller: inout EarlyCaller) -> Bool { caller.subject != nil }

    /// Past the budget, the router answers the 429.
    func commitEarly(caller: EarlyCaller) -> Bool {
        guard let subject = caller.subject else { return false }
        return limiter.allows(budget, by: subject)
    }
}
