import BrokerStore
import CoreMetrics
import Foundation
import NIOCore
import Prometheus

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

    init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = Self.latencyBuckets
        self.factory = factory
    }

    /// Counts one answered request and its latency (to the response head, for streams).
    func recordRequest(route: String, method: String, status: Int, duration: Duration) {
        let labels = [("route", route), ("method", method), ("status", String(status))]
        registry.makeCounter(descriptor: Self.requests, labels: labels).increment()
        registry.makeDurationHistogram(descriptor: Self.requestDuration, labels: labels, buckets: Self.latencyBuckets)
            .recordNanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
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
