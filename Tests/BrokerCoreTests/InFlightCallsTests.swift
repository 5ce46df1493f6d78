import BrokerCore
import Synchronization
import Testing

@Suite("Sharing calls in flight")
struct InFlightCallsTests {
    /// Counts the calls really made, and holds each until released.
    private final class SlowCalls: Sendable {
        let calls = InFlightCalls<Int>()
        private let made = Mutex(0)
        private let released = Mutex(false)

        var count: Int { made.withLock { $0 } }

        func release() { released.withLock { $0 = true } }

        /// The number of the call that answered, made now or joined.
        func run(notBefore: ContinuousClock.Instant? = nil) async throws -> Int {
            try await calls.run(key: "users/USR-1/accounts", notBefore: notBefore) {
                let number = self.made.withLock { count in
                    count += 1
                    return count
                }
                while !self.released.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
                return number
            }
        }

        func waitForCount(_ count: Int) async throws {
            while self.count < count { try await Task.sleep(for: .milliseconds(5)) }
        }
    }

    @Test("an identical call joins one in flight, unless that one started before the caller's notBefore", .timeLimit(.minutes(1)))
    func joining() async throws {
        let slow = SlowCalls()
        async let first = slow.run()
        try await slow.waitForCount(1)
        async let joined = slow.run()
        try await Task.sleep(for: .milliseconds(50))
        #expect(slow.count == 1, "a call without notBefore joins the one in flight")

        async let fresh = slow.run(notBefore: ContinuousClock.now)
        try await slow.waitForCount(2)
        async let joinedFresh = slow.run(notBefore: ContinuousClock.now - .seconds(5))
        try await Task.sleep(for: .milliseconds(50))
        #expect(slow.count == 2, "a call whose notBefore is older than the newest call in flight joins that call")

        slow.release()
        #expect(try await [first, joined, fresh, joinedFresh] == [1, 1, 2, 2])
    }
}
