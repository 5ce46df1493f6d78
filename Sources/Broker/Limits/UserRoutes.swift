import Hummingbird

/// Where the routes an app's user calls are registered: behind the bearer-token check, and in
/// the group of the ``Budget`` each spends, so a route's cost is written beside its path.
struct UserRoutes {
    private let parent: RouterGroup<BrokerRequestContext>
    private let authentication: (any UserRouteStep)?
    let limiter: RateLimiter

    /// Routes under `parent`, checked by `authentication` (none where a test stands in for it).
    init(_ parent: RouterGroup<BrokerRequestContext>, authentication: (any UserRouteStep)?, limiter: RateLimiter) {
        self.parent = parent
        self.authentication = authentication
        self.limiter = limiter
    }

    /// The steps, in order, of every route that spends `budget`: the one list both the router
    /// and the early answer for cached reads are built from.
    func steps(spending budget: Budget) -> [any UserRouteStep] {
        (authentication.map { [$0] } ?? []) + [RateLimitMiddleware(budget: budget, limiter: limiter)]
    }

    /// The group whose routes each take one request from the caller's `budget`.
    func spending(_ budget: Budget) -> RouterGroup<BrokerRequestContext> {
        let group = parent.group()
        for step in steps(spending: budget) { step.add(to: group) }
        return group
    }
}
