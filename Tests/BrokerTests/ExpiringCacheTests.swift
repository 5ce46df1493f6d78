import Testing

@testable import Broker

@Suite("Expiring cache")
struct ExpiringCacheTests {
    @Test("an entry holds until its deadline, and can be removed before")
    func deadline() {
        let cache = ExpiringCache<String>()
        let now = ContinuousClock.now
        cache.set("alice", for: "token", until: now + .seconds(5), now: now)
        #expect(cache.value(for: "token", now: now + .seconds(4)) == "alice")
        #expect(cache.value(for: "token", now: now + .seconds(5)) == nil)
        cache.set("bob", for: "other", until: now + .seconds(5), now: now)
        cache.remove("other")
        #expect(cache.value(for: "other", now: now) == nil)
    }

    @Test("when full, expired entries go first, then everything")
    func capacity() {
        let cache = ExpiringCache<Int>(capacity: 3)
        let now = ContinuousClock.now
        cache.set(1, for: "old", until: now + .seconds(1), now: now)
        cache.set(2, for: "a", until: now + .seconds(60), now: now)
        cache.set(3, for: "b", until: now + .seconds(60), now: now)
        cache.set(4, for: "c", until: now + .seconds(60), now: now + .seconds(2))
        #expect(cache.value(for: "a", now: now + .seconds(2)) == 2)
        #expect(cache.value(for: "c", now: now + .seconds(2)) == 4)
        cache.set(5, for: "d", until: now + .seconds(60), now: now + .seconds(2))
        #expect(cache.value(for: "a", now: now + .seconds(2)) == nil)
        #expect(cache.value(for: "d", now: now + .seconds(2)) == 5)
    }
}
