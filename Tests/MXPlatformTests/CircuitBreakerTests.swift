import Logging
import Synchronization
import Testing

@testable import MXPlatform

@Suite("Circuit breaker")
struct CircuitBreakerTests {
    /// The states a breaker reported moving to.
    final class Changes: Sendable {
        private let states = Mutex<[CircuitBreaker.State]>([])
        func append(_ state: CircuitBreaker.State) { states.withLock { $0.append(state) } }
        var all: [CircuitBreaker.State] { states.withLock { $0 } }
    }

    private static func breaker(threshold: Int = 3, open: Duration = .milliseconds(100)) -> (CircuitBreaker, Changes) {
        let changes = Changes()
        let breaker = CircuitBreaker(failureThreshold: threshold, openDuration: open, logger: Logger(label: "breaker")) { state in
            changes.append(state)
        }
        return (breaker, changes)
    }

    @Test("closed: failures below the threshold, or broken by an answer, keep it closed")
    func staysClosed() throws {
        let (breaker, changes) = Self.breaker()
        for _ in 0..<2 { breaker.record(.failed, admission: try breaker.admit()) }
        breaker.record(.answered, admission: try breaker.admit())
        for _ in 0..<2 { breaker.record(.failed, admission: try breaker.admit()) }
        #expect(breaker.state == .closed)
        #expect(changes.all.isEmpty)
    }

    @Test("open: the threshold's failure opens it, calls fail fast with a retry time, then one probe at a time")
    func opensAndProbes() async throws {
        let (breaker, changes) = Self.breaker()
        for _ in 0..<3 { breaker.record(.failed, admission: try breaker.admit()) }
        #expect(breaker.state == .open)
        let refused = #expect(throws: MXError.self) { try breaker.admit() }
        #expect(refused?.kind == .circuitOpen)
        #expect(refused?.retryAfterSeconds == 1)

        try await Task.sleep(for: .milliseconds(150))
        let probe = try breaker.admit()
        #expect(probe == .probe)
        #expect(breaker.state == .halfOpen)
        #expect(throws: MXError.self, "a second call waits for the probe") { try breaker.admit() }

        breaker.record(.abandoned, admission: probe)
        let next = try breaker.admit()
        #expect(next == .probe, "an abandoned probe lets another through")
        breaker.record(.failed, admission: next)
        #expect(breaker.state == .open, "a failed probe opens it again")

        try await Task.sleep(for: .milliseconds(150))
        breaker.record(.answered, admission: try breaker.admit())
        #expect(breaker.state == .closed, "an answered probe closes it")
        #expect(try breaker.admit() == .normal)
        #expect(changes.all == [.open, .halfOpen, .open, .halfOpen, .closed])
    }
}
