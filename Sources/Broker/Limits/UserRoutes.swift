import Hummingbird

/// Where the routes an app's user calls are registered: behind the bearer-token check, and in
/// the group of the ``Budget`` each spends, so a route's cost is written beside its path.
struct UserRoutes {
    private let authenticated: RouterGroup<BrokerRequestContext>
    let limiter: RateLimiter

    init(_ authenticated: RouterGroup<BrokerRequestContext>, limiter: RateLimiter) {
        self.authenticated = authenticated
        self.limiter = limiter
    }

    /// The group whose routes each take one request from the caller's `budget`.
    func spending(_ budget: Budget) -> RouterGroup<BrokerRequestContext> {
        authenticated.group().add(middleware: RateLimitMiddleware(budget: budget, limiter: limiter))
    }
}
