import BrokerCore
import Synchronization

/// One token bucket per key: `capacity` requests at once, refilled at `capacity` per minute.
/// Keys are callers' subjects, compared by their bytes (``ByteKey``).
final class TokenBuckets: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    private struct Buckets {
        var byKey: [ByteKey: Bucket] = [:]
        var takesSincePrune = 0
    }

    let capacity: Int
    private let perSecond: Double
    private let buckets = Mutex(Buckets())
    /// Buckets kept before full ones are dropped (a full bucket is the same as none).
    private let pruneAbove: Int

    init(perMinute capacity: Int, pruneAbove: Int = 10_000) {
        self.capacity = capacity
        self.perSecond = Double(capacity) / 60
        self.pruneAbove = pruneAbove
    }

    /// Takes a token for `key`; returns `nil` when one was there, else how long until one is.
    func take(_ key: String, now: ContinuousClock.Instant = .now) -> Duration? {
        let key = ByteKey(key)
        return buckets.withLock { state in
            var bucket = state.byKey[key] ?? Bucket(tokens: Double(capacity), updated: now)
            bucket.tokens = min(Double(capacity), bucket.tokens + refill(since: bucket.updated, now: now))
            bucket.updated = now
            let wait: Duration?
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                wait = nil
            } else {
                wait = .milliseconds(Int64(((1 - bucket.tokens) / perSecond * 1000).rounded(.up)))
            }
            state.byKey[key] = bucket
            state.takesSincePrune += 1
            if state.byKey.count > pruneAbove, state.takesSincePrune >= pruneAbove / 10 {
                state.takesSincePrune = 0
                state.byKey = state.byKey.filter { $0.value.tokens + refill(since: $0.value.updated, now: now) < Double(capacity) }
            }
            return wait
        }
    }

    /// How many keys have a bucket that is not full (for tests of pruning).
    var count: Int { buckets.withLock { $0.byKey.count } }

    private func refill(since: ContinuousClock.Instant, now: ContinuousClock.Instant) -> Double {
        let elapsed = now - since
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return seconds * perSecond
    }
}
