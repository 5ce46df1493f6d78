import BrokerCore
import BrokerStore
import Hummingbird

/// `GET /metrics` in Prometheus's text format, behind `METRICS_TOKEN` when it is set.
struct MetricsController {
    let inbox: any WebhookInbox
    let metrics: BrokerMetrics
    let hub: EventHub
    let token: Secret?

    func addRoutes(to router: Router<BrokerRequestContext>) {
        let group = router.group()
        if let token {
            group.add(
                middleware: OperatorTokenMiddleware(token: token, purpose: "metrics", key: "METRICS_TOKEN", wrongTokenCode: .invalidMetricsToken)
            )
        }
        group.get("metrics") { _, _ in
            let counts = try? await withDeadline(.seconds(2)) { try await inbox.webhookCounts() }
            let body = metrics.render(inboxCounts: counts, openStreams: await hub.openStreams)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: .init(byteBuffer: body))
        }
    }
}
