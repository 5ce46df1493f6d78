import Hummingbird

/// Feeds every request's route, status and latency into ``BrokerMetrics``.
struct RequestMetricsMiddleware: RouterMiddleware {
    typealias Context = BrokerRequestContext

    let metrics: BrokerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let response = try await next(request, context)
        metrics.recordRequest(
            route: context.endpointPath ?? "NotFound",
            method: request.method.rawValue,
            status: Int(response.status.code),
            duration: ContinuousClock.now - started
        )
        return response
    }
}
