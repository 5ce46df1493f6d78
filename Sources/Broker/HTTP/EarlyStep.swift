import Hummingbird

/// What the early answer for a cached read knows of its caller so far.
struct EarlyCaller {
    var subject: String?
    var subjectHash: String?
}

/// The part of a middleware that also runs when a cached read is answered before the router.
///
/// The middlewares of authenticated routes must offer it (``UserRouteStep``), so a step added
/// to those routes cannot be skipped by the early answer: ``CacheHitResponder`` runs the very
/// steps the route's group was built from. A step decides without waiting, or leaves the
/// request to the router.
protocol EarlyStep: Sendable {
    /// Checks the request without side effects; `false` leaves it to the router.
    func admitEarly(_ request: Request, caller: inout EarlyCaller) -> Bool

    /// Takes what the step takes (a request from a budget) once the answer is known to be at
    /// hand; `false` leaves the request to the router, which then decides as it always does.
    func commitEarly(caller: EarlyCaller) -> Bool
}

extension EarlyStep {
    func commitEarly(caller: EarlyCaller) -> Bool { true }
}

/// A middleware of the routes an app's user calls, with its early step.
protocol UserRouteStep: RouterMiddleware, EarlyStep where Context == BrokerRequestContext {}

extension UserRouteStep {
    /// Adds this step to the routes `group` registers from now on.
    func add(to group: RouterGroup<BrokerRequestContext>) {
        group.add(middleware: self)
    }
}
