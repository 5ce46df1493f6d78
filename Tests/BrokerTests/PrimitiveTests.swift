import BrokerCore
import Foundation
import Testing

@testable import Broker

@Suite("Small primitives")
struct PrimitiveTests {
    @Test("CIDR ranges: masks inside a byte, IPv6, IPv4-mapped IPv6, bare addresses and bad input")
    func cidrRanges() throws {
        let wide = try #require(CIDRRange("10.0.0.0/8"))
        #expect(wide.contains("10.255.1.2"))
        #expect(!wide.contains("11.0.0.1"))
        #expect(wide.contains("::ffff:10.1.2.3"), "an IPv4 peer seen through an IPv6 socket")
        #expect(!wide.contains("::ffff:11.1.2.3"))
        #expect(!wide.contains("::a01:203"), "an IPv6 address that only ends like 10.1.2.3 is not IPv4")

        let odd = try #require(CIDRRange("192.168.1.0/23"))
        #expect(odd.contains("192.168.0.5"))
        #expect(odd.contains("192.168.1.255"))
        #expect(!odd.contains("192.168.2.0"))

        let v6 = try #require(CIDRRange("2001:db8::/32"))
        #expect(v6.contains("2001:db8:ffff::1"))
        #expect(!v6.contains("2001:db9::1"))
        #expect(!v6.contains("10.0.0.1"))

        let one = try #require(CIDRRange("203.0.113.7"))
        #expect(one.contains("203.0.113.7"))
        #expect(!one.contains("203.0.113.8"))
        #expect(try #require(CIDRRange("0.0.0.0/0")).contains("198.51.100.1"))

        for bad in ["10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/", "10.0.0/8", "example.com", "", "::/129", "10.0.0.0/8/8"] {
            #expect(CIDRRange(bad) == nil, "\(bad) is refused")
        }
        #expect(!wide.contains("not an address"))
    }

    @Test("token buckets: a full minute's worth at once, then one per refill interval, per key")
    func tokenBuckets() throws {
        let buckets = TokenBuckets(perMinute: 60)
        let start = ContinuousClock.now
        for _ in 0..<60 { #expect(buckets.take("alice", now: start) == nil) }
        let wait = try #require(buckets.take("alice", now: start), "the 61st request waits")
        #expect(wait > .milliseconds(900) && wait <= .seconds(1))
        #expect(buckets.take("bob", now: start) == nil, "another caller has a budget of their own")
        #expect(buckets.take("alice", now: start + .milliseconds(500)) != nil, "half a token is not one")
        #expect(buckets.take("alice", now: start + .seconds(1)) == nil, "a second later one more is allowed")
        #expect(buckets.take("alice", now: start + .seconds(1)) != nil)
        for _ in 0..<60 { #expect(buckets.take("alice", now: start + .seconds(3600)) == nil) }
        #expect(buckets.take("alice", now: start + .seconds(3600)) != nil, "a long pause refills to the capacity, not beyond")
    }

    @Test("webhook dedup keys: data webhooks by member and completion, others by guid or canonical content")
    func webhookDedupKeys() throws {
        func key(_ json: String) throws -> String {
            guard case .object(let object) = JSONValue.parse(json) else { throw PrimitiveTestFailure() }
            return WebhookDedupKey.of(object)
        }
        let aggregation = #"{"type":"AGGREGATION","action":"member_data_updated","member_guid":"MBR-1","completed_at":1700000000}"#
        #expect(try key(aggregation) == "AGGREGATION|member_data_updated|MBR-1|1700000000")
        #expect(try key(aggregation) != key(aggregation.replacingOccurrences(of: "1700000000", with: "1700000001")))
        #expect(try key(#"{"type":"INITIAL_DATA_READY","guid":"IDR-1"}"#) == "INITIAL_DATA_READY|guid|IDR-1")
        let unknown = try key(#"{"type":"NEW","b":1,"a":[true,null]}"#)
        #expect(unknown.hasPrefix("sha256:") && unknown.count == 7 + 64)
        #expect(try key(#"{"a":[true,null],"type":"NEW","b":1}"#) == unknown, "key order does not matter")
        #expect(try key(#"{"type":"NEW","b":2,"a":[true,null]}"#) != unknown)
    }

    @Test("read routes match whole paths only, and name their parameters")
    func readRouteMatching() throws {
        func match(_ path: String) -> [String: Substring]? {
            let components = path.split(separator: "/", omittingEmptySubsequences: false)[...]
            return ReadController.routes.lazy.compactMap { $0.parameters(matching: components) }.first
        }
        #expect(match("accounts") == [:])
        #expect(match("accounts/ACT-1") == ["account_guid": "ACT-1"])
        #expect(match("members/MBR-1/transactions") == ["member_guid": "MBR-1"])
        #expect(match("accounts/ACT-1/transactions") == ["account_guid": "ACT-1"])
        #expect(match("accounts/ACT-1/transactions/extra") == nil)
        #expect(match("members/MBR-1") == nil, "a member is read by MembersController, not here")
        #expect(match("accountsx") == nil)
        #expect(match("") == nil)
    }

    @Test("the keyed serial queue runs one key's operations in order, and other keys alongside")
    func keyedSerialQueue() async throws {
        let queue = KeyedSerialQueue()
        let log = Locked<[String]>([])
        let gate = AsyncGate()
        async let first: Void = queue.run("member-a") {
            log.withLock { $0.append("a1 start") }
            await gate.wait()
            log.withLock { $0.append("a1 end") }
        }
        try await Task.sleep(for: .milliseconds(50))
        async let second: Void = queue.run("member-a") { log.withLock { $0.append("a2") } }
        try await queue.run("member-b") { log.withLock { $0.append("b1") } }
        #expect(log.withLock { $0 } == ["a1 start", "b1"], "another key is not held up; the same key waits")
        await gate.open()
        _ = try await (first, second)
        #expect(log.withLock { $0 } == ["a1 start", "b1", "a1 end", "a2"])
        await #expect(throws: PrimitiveTestFailure.self) { try await queue.run("member-a") { throw PrimitiveTestFailure() } }
        #expect(try await queue.run("member-a") { 7 } == 7, "a failed operation does not block the key")
    }

    @Test("hex text of bytes and of 64-bit words")
    func hex() {
        #expect(Hex.string([0x00, 0x0f, 0xa5, 0xff]) == "000fa5ff")
        #expect(Hex.string([UInt8]()) == "")
        #expect(Hex.string(UInt64(0x0123_4567_89ab_cdef)) == "0123456789abcdef")
        #expect(Hex.string(UInt64(1)) == "0000000000000001")
    }
}

struct PrimitiveTestFailure: Error {}

/// Holds waiters until it is opened.
actor AsyncGate {
    private var isOpen = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func wait() async {
        if isOpen { return }
        await withCheckedContinuation { waiters.append($0) }
    }

    func open() {
        isOpen = true
        for waiter in waiters { waiter.resume() }
        waiters = []
    }
}
