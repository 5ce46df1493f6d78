import Logging

/// Fails calls fast while MX is down, and lets single probes find out when it is back.
///
/// Closed, it counts consecutive failures; at the threshold it opens for a while, failing every
/// call with ``MXError/circuitOpen(retryAfterSeconds:)``. Then one call at a time is let through
/// as a probe: a success closes the circuit, a failure opens it again.
actor CircuitBreaker {
    /// The breaker's state, as reported in metrics (`0` closed, `1` open, `2` half-open).
    enum State: Int, Sendable {
        case closed = 0
        case open = 1
        case halfOpen = 2
    }

    /// How a call was let through, to be handed back with its outcome.
    enum Admission: Sendable {
        case normal
        case probe
    }

    /// What became of an admitted call.
    enum Outcome: Sendable {
        /// MX answered (any status below 500).
        case answered
        /// MX failed: 5xx, timeout or no connection.
        case failed
        /// The call ended without an answer for another reason (cancelled).
        case abandoned
    }

    private enum Phase {
        case closed(consecutiveFailures: Int)
        case open(until: ContinuousClock.Instant)
        case halfOpen(probing: Bool)
    }

    private let failureThreshold: Int
    private let openDuration: Duration
    private let logger: Logger
    private let onChange: @Sendable (State) -> Void
    private var phase = Phase.closed(consecutiveFailures: 0)

    init(failureThreshold: Int, openDuration: Duration, logger: Logger, onChange: @escaping @Sendable (State) -> Void) {
        self.failureThreshold = max(1, failureThreshold)
        self.openDuration = openDuration
        self.logger = logger
        self.onChange = onChange
    }

    var state: State {
        switch phase {
        case .closed: .closed
        case .open: .open
        case .halfOpen: .halfOpen
        }
    }

    /// Lets a call through, or throws ``MXError/circuitOpen(retryAfterSeconds:)``.
    func admit() throws -> Admission {
        switch phase {
        case .closed:
            return .normal
        case .open(let until):
            let now = ContinuousClock.now
            guard now >= until else {
                throw MXError.circuitOpen(retryAfterSeconds: Self.wholeSeconds(until - now))
            }
            enter(.halfOpen(probing: true))
            return .probe
        case .halfOpen(let probing):
            guard !probing else { throw MXError.circuitOpen(retryAfterSeconds: 1) }
            phase = .halfOpen(probing: true)
            return .probe
        }
    }

    /// Records what became of a call `admit()` let through.
    func record(_ outcome: Outcome, admission: Admission) {
        switch (phase, outcome) {
        case (.closed, .answered):
            phase = .closed(consecutiveFailures: 0)
        case (.closed(let failures), .failed):
            if failures + 1 >= failureThreshold {
                open()
            } else {
                phase = .closed(consecutiveFailures: failures + 1)
            }
        case (.halfOpen, .answered) where admission == .probe:
            logger.notice("MX answered a probe: closing the circuit")
            enter(.closed(consecutiveFailures: 0))
        case (.halfOpen, .failed) where admission == .probe:
            open()
        case (.halfOpen, .abandoned) where admission == .probe:
            phase = .halfOpen(probing: false)
        default:
            break
        }
    }

    private func open() {
        logger.warning("MX is failing: opening the circuit", metadata: ["mx.breaker.open_seconds": "\(Self.wholeSeconds(openDuration))"])
        enter(.open(until: ContinuousClock.now + openDuration))
    }

    private func enter(_ next: Phase) {
        let before = state
        phase = next
        if state != before { onChange(state) }
    }

    private static func wholeSeconds(_ duration: Duration) -> Int {
        let parts = duration.components
        return max(1, Int(parts.seconds) + (parts.attoseconds > 0 ? 1 : 0))
    }
}
