import Logging
import Synchronization

/// Fails calls fast while MX is down, and lets single probes find out when it is back.
///
/// Closed, it counts consecutive failures; at the threshold it opens for a while, failing every
/// call with ``MXError/circuitOpen(retryAfterSeconds:)``. Then one call at a time is let through
/// as a probe: a success closes the circuit, a failure opens it again.
final class CircuitBreaker: Sendable {
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
    private let phase = Mutex(Phase.closed(consecutiveFailures: 0))

    init(failureThreshold: Int, openDuration: Duration, logger: Logger, onChange: @escaping @Sendable (State) -> Void) {
        self.failureThreshold = max(1, failureThreshold)
        self.openDuration = openDuration
        self.logger = logger
        self.onChange = onChange
    }

    var state: State {
        phase.withLock { Self.state(of: $0) }
    }

    /// Lets a call through, or throws ``MXError/circuitOpen(retryAfterSeconds:)``.
    func admit() throws(MXError) -> Admission {
        let (admission, change) = phase.withLock { phase -> (Result<Admission, MXError>, State?) in
            switch phase {
            case .closed:
                return (.success(.normal), nil)
            case .open(let until):
                let now = ContinuousClock.now
                guard now >= until else {
                    return (.failure(.circuitOpen(retryAfterSeconds: Self.wholeSeconds(until - now))), nil)
                }
                return (.success(.probe), Self.move(&phase, to: .halfOpen(probing: true)))
            case .halfOpen(let probing):
                guard !probing else { return (.failure(.circuitOpen(retryAfterSeconds: 1)), nil) }
                phase = .halfOpen(probing: true)
                return (.success(.probe), nil)
            }
        }
        if let change { onChange(change) }
        return try admission.get()
    }

    /// Records what became of a call `admit()` let through.
    func record(_ outcome: Outcome, admission: Admission) {
        let change = phase.withLock { phase -> State? in
            switch (phase, outcome) {
            case (.closed, .answered):
                phase = .closed(consecutiveFailures: 0)
            case (.closed(let failures), .failed):
                if failures + 1 >= failureThreshold {
                    return Self.move(&phase, to: .open(until: ContinuousClock.now + openDuration))
                }
                phase = .closed(consecutiveFailures: failures + 1)
            case (.halfOpen, .answered) where admission == .probe:
                return Self.move(&phase, to: .closed(consecutiveFailures: 0))
            case (.halfOpen, .failed) where admission == .probe:
                return Self.move(&phase, to: .open(until: ContinuousClock.now + openDuration))
            case (.halfOpen, .abandoned) where admission == .probe:
                phase = .halfOpen(probing: false)
            default:
                break
            }
            return nil
        }
        switch change {
        case .open?:
            logger.warning("MX is failing: opening the circuit", metadata: ["mx.breaker.open_seconds": "\(Self.wholeSeconds(openDuration))"])
        case .closed?:
            logger.notice("MX answered a probe: closing the circuit")
        case .halfOpen?, nil:
            break
        }
        if let change { onChange(change) }
    }

    /// Moves to `next`; returns the new state when it differs from the old one.
    private static func move(_ phase: inout Phase, to next: Phase) -> State? {
        let before = state(of: phase)
        phase = next
        let after = state(of: phase)
        return after == before ? nil : after
    }

    private static func state(of phase: Phase) -> State {
        switch phase {
        case .closed: .closed
        case .open: .open
        case .halfOpen: .halfOpen
        }
    }

    private static func wholeSeconds(_ duration: Duration) -> Int {
        let parts = duration.components
        return max(1, Int(parts.seconds) + (parts.attoseconds > 0 ? 1 : 0))
    }
}
