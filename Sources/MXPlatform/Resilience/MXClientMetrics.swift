import BrokerCore
import CoreMetrics
import Synchronization

/// The metrics an ``MXClient`` reports, through any swift-metrics factory.
///
/// Labels are path templates (`/users/{id}/accounts`), never identifiers.
final class MXClientMetrics: Sendable {
    let factory: any MetricsFactory

    private struct CallSeries: Hashable {
        let endpoint: String
        let method: String
        let status: String
    }

    /// Call timers made so far, one per label set: making one asks the factory, which is slow.
    private let callTimers = Mutex<[CallSeries: Timer]>([:])

    init(factory: any MetricsFactory) {
        self.factory = factory
    }

    /// One answered or failed call: `status` is MX's HTTP status, `timeout` or `unreachable`.
    func recordCall(endpoint: String, method: String, status: String, duration: Duration) {
        let series = CallSeries(endpoint: endpoint, method: method, status: status)
        let timer = callTimers.withLock { known in
            if let existing = known[series] { return existing }
            let made = Timer(
                label: "mx_request_duration_seconds",
                dimensions: [("endpoint", endpoint), ("method", method), ("status", status)],
                factory: factory
            )
            known[series] = made
            return made
        }
        timer.recordNanoseconds(duration.nanoseconds)
    }

    func recordRetry(endpoint: String, reason: MXError.Kind) {
        Counter(label: "mx_retries_total", dimensions: [("endpoint", endpoint), ("reason", reason.rawValue)], factory: factory).increment()
    }

    func recordJoined(endpoint: String) {
        Counter(label: "mx_coalesced_requests_total", dimensions: [("endpoint", endpoint)], factory: factory).increment()
    }

    func recordRejectedByBreaker(endpoint: String) {
        Counter(label: "mx_breaker_rejections_total", dimensions: [("endpoint", endpoint)], factory: factory).increment()
    }

    func recordBreakerState(_ state: CircuitBreaker.State) {
        Gauge(label: "mx_breaker_state", factory: factory).record(state.rawValue)
    }
}
