import BrokerStore
import CoreMetrics
import Foundation
import NIOCore
import Prometheus
import Synchronization

/// The broker's Prometheus metrics, kept in a registry of its own (one per application).
///
/// Request metrics are labelled by route template, method and status; MX metrics by path
/// template. No label ever holds an identifier, a token or a URL with a query.
final class BrokerMetrics: Sendable {
    private let registry = PrometheusCollectorRegistry()
    /// The swift-metrics factory the MX client reports through.
    let factory: PrometheusMetricsFactory

    private static let latencyBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
    ]

    private static var requests: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "http_requests",
            unitName: "total",
            helpText: "Requests answered, by route template, method and status."
        )
    }
    private static var requestDuration: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "http_request_duration",
            unitName: "seconds",
            helpText: "Time to the response head, by route template, method and status."
        )
    }
    private static var inbox: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "webhook_inbox",
            unitName: "items",
            helpText: "Webhook deliveries in the inbox, by status."
        )
    }
    private static var storeReachable: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "store_reachable",
            unitName: "",
            helpText: "1 when the store answered this scrape."
        )
    }
    private static var openStreams: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "sse_open",
            unitName: "streams",
            helpText: "Event streams open on this replica."
        )
    }

    private static var earlyAnswers: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "read_cache_early_answers",
            unitName: "total",
            helpText: "Cached reads answered on the connection's event loop, before the router."
        )
    }
    private let earlyAnswers: Prometheus.Counter

    private static var accountDetailsReads: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "account_details_reads",
            unitName: "total",
            helpText: "Reads of account numbers and account owners, audited, by data and by caller (user or backend)."
        )
    }

    init() {
        earlyAnswers = registry.makeCounter(descriptor: Self.earlyAnswers, labels: [])
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = Self.latencyBuckets
        self.factory = factory
    }

    /// One set of request labels; each is made into metrics once and then looked up.
    private struct RequestSeries: Hashable {
        let route: String
        let method: String
        let status: Int
    }

    private let requestSeries = Mutex<[RequestSeries: (count: Prometheus.Counter, duration: Prometheus.DurationHistogram)]>([:])

    /// Methods named in labels as they are; any other is counted as `other`, so clients cannot
    /// grow the label set.
    private static let labelledMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

    /// Counts one answered request and its latency (to the response head, for streams).
    func recordRequest(route: String, method: String, status: Int, duration: Duration) {
        let series = RequestSeries(route: route, method: Self.labelledMethods.contains(method) ? method : "other", status: status)
        let metrics = requestSeries.withLock { known in
            if let existing = known[series] { return existing }
            let labels = [("route", series.route), ("method", series.method), ("status", String(status))]
            let made = (
                count: registry.makeCounter(descriptor: Self.requests, labels: labels),
                duration: registry.makeDurationHistogram(descriptor: Self.requestDuration, labels: labels, buckets: Self.latencyBuckets)
            )
            known[series] = made
            return made
        }
        metrics.count.increment()
        metrics.duration.recordNanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    /// Counts an audited read of `data` (`account_numbers`, `account_owners`) by `caller`
    /// (`user`, `backend`): fixed labels, never a guid or a key's name.
    func recordAccountDetailsRead(data: String, caller: String) {
        registry.makeCounter(descriptor: Self.accountDetailsReads, labels: [("data", data), ("caller", caller)]).increment()
    }

    /// Counts a cached read answered before the router (also counted as a request).
    func recordEarlyAnswer() {
        earlyAnswers.increment()
    }

    /// The exposition text, with gauges read now: inbox depth by status and open streams.
    func render(inboxCounts: [WebhookStatus: Int]?, openStreams: Int) -> ByteBuffer {
        for status in WebhookStatus.allCases {
            registry.makeGauge(descriptor: Self.inbox, labels: [("status", status.rawValue)])
                .set(to: Double(inboxCounts?[status] ?? 0))
        }
        registry.makeGauge(descriptor: Self.storeReachable, labels: []).set(to: inboxCounts == nil ? 0.0 : 1.0)
        registry.makeGauge(descriptor: Self.openStreams, labels: []).set(to: Double(openStreams))
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return ByteBuffer(bytes: buffer)
    }
}
