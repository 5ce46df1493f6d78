import CompressNIO
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import Broker

@Suite("Read cache")
struct ReadCacheTests {
    let start = ContinuousClock.now

    @Test("a read is kept for its time to live, per user and key")
    func timeToLive() {
        let cache = ReadCache(ttl: .seconds(30), maxBytes: 1 << 20)
        guard case .miss(let miss) = cache.lookup(mxUserGUID: "USR-a", key: "accounts", now: start) else {
            Issue.record("an empty cache hit")
            return
        }
        cache.store(ByteBuffer(string: #"{"accounts":[]}"#), mxUserGUID: "USR-a", key: "accounts", miss: miss, now: start)
        guard case .hit(let answer) = cache.lookup(mxUserGUID: "USR-a", key: "accounts", now: start + .seconds(29)) else {
            Issue.record("a fresh entry missed")
            return
        }
        #expect(String(buffer: answer.body) == #"{"accounts":[]}"#)
        if case .hit = cache.lookup(mxUserGUID: "USR-b", key: "accounts", now: start) { Issue.record("another user's entry was found") }
        if case .hit = cache.lookup(mxUserGUID: "USR-a", key: "accounts", now: start + .seconds(31)) { Issue.record("an old entry was found") }
    }

    @Test("a change drops the user's entries, and keeps out an answer read from MX before it")
    func invalidation() {
        let cache = ReadCache(ttl: .seconds(30), maxBytes: 1 << 20)
        guard case .miss(let early) = cache.lookup(mxUserGUID: "USR-a", key: "transactions", now: start) else { return }
        guard case .miss(let other) = cache.lookup(mxUserGUID: "USR-a", key: "accounts", now: start) else { return }
        cache.store(ByteBuffer(string: "[]"), mxUserGUID: "USR-a", key: "accounts", miss: other, now: start)
        cache.invalidate(mxUserGUID: "USR-a", now: start + .milliseconds(10))
        #expect(cache.bytes == 0)
        cache.store(ByteBuffer(string: "[1]"), mxUserGUID: "USR-a", key: "transactions", miss: early, now: start + .milliseconds(20))
        if case .hit = cache.lookup(mxUserGUID: "USR-a", key: "transactions", now: start + .milliseconds(30)) {
            Issue.record("an answer from before the change was kept")
        }
        guard case .miss(let later) = cache.lookup(mxUserGUID: "USR-a", key: "transactions", now: start + .milliseconds(40)) else { return }
        cache.store(ByteBuffer(string: "[2]"), mxUserGUID: "USR-a", key: "transactions", miss: later, now: start + .milliseconds(50))
        guard case .hit = cache.lookup(mxUserGUID: "USR-a", key: "transactions", now: start + .milliseconds(60)) else {
            Issue.record("an answer read after the change was not kept")
            return
        }
    }

    @Test("over its byte budget the cache lets the least recently used entries go")
    func budget() {
        let body = ByteBuffer(repeating: 0x20, count: 1000)
        let cache = ReadCache(ttl: .seconds(30), maxBytes: 10_000)
        for index in 0..<5 {
            guard case .miss(let miss) = cache.lookup(mxUserGUID: "USR-\(index)", key: "k", now: start) else { return }
            cache.store(body, mxUserGUID: "USR-\(index)", key: "k", miss: miss, now: start)
        }
        _ = cache.lookup(mxUserGUID: "USR-0", key: "k", now: start)
        guard case .miss(let miss) = cache.lookup(mxUserGUID: "USR-5", key: "k", now: start) else { return }
        cache.store(body, mxUserGUID: "USR-5", key: "k", miss: miss, now: start)
        #expect(cache.bytes <= 9_000)
        if case .miss = cache.lookup(mxUserGUID: "USR-0", key: "k", now: start) { Issue.record("the most recently used entry was evicted") }
        if case .hit = cache.lookup(mxUserGUID: "USR-1", key: "k", now: start) { Issue.record("the least recently used entry was kept") }
    }

    @Test("ETags follow the body: the same bytes give the same tag, any change of a byte or length another")
    func etagsFollowTheBody() {
        let body = Array(#"{"accounts":[{"guid":"ACT-1","balance":1234.56,"name":"Checking"}],"pagination":{"total_pages":1}}"#.utf8)
        let tag = CacheableAnswer(body: ByteBuffer(bytes: body)).etag
        #expect(CacheableAnswer(body: ByteBuffer(bytes: body)).etag == tag)
        var tags: Set<String> = [tag]
        for index in body.indices {
            var changed = body
            changed[index] ^= 0x01
            tags.insert(CacheableAnswer(body: ByteBuffer(bytes: changed)).etag)
        }
        for length in 0..<body.count {
            tags.insert(CacheableAnswer(body: ByteBuffer(bytes: body.prefix(length))).etag)
        }
        tags.insert(CacheableAnswer(body: ByteBuffer(bytes: body + [0x20])).etag)
        #expect(tags.count == 1 + body.count * 2 + 1)
    }

    @Test("If-None-Match and Accept-Encoding are read as RFC 9110 says")
    func headers() {
        let answer = CacheableAnswer(body: ByteBuffer(string: "{}"))
        #expect(answer.etag.hasPrefix("\"") && answer.etag.count == 34)
        #expect(CacheableAnswer.matches(["\"x\", W/\(answer.etag)"], etag: answer.etag))
        #expect(CacheableAnswer.matches(["*"], etag: answer.etag))
        #expect(!CacheableAnswer.matches(["\"other\""], etag: answer.etag))
        #expect(CacheableAnswer.acceptsGzip(["br, gzip;q=0.8"]))
        #expect(CacheableAnswer.acceptsGzip(["*"]))
        #expect(!CacheableAnswer.acceptsGzip(["gzip;q=0, identity"]))
        #expect(!CacheableAnswer.acceptsGzip(["br"]))
    }
}

@Suite("Read cache end to end")
struct ReadCacheEndToEndTests {
    @Test("a repeated read is answered from the cache until a webhook changes the user's data")
    func servedUntilChanged() async throws {
        try await withBroker(sandboxEnvironment(["MX_WEBHOOK_USERNAME": "mx", "MX_WEBHOOK_PASSWORD": "hook-secret"])) { broker async throws in
            let member = try await broker.connectMember(as: "alice")
            let users = try #require(try await broker.sandbox("/users")["users"] as? [[String: Any]])
            let aliceGUID = try #require(users.first?["guid"] as? String)
            try await broker.injectFaults(#"[{"path":"/users/*/accounts","kind":"latency","latency_ms":0}]"#)
            let first = try await broker.send(.get, "/v1/accounts", as: "alice")
            let second = try await broker.send(.get, "/v1/accounts", as: "alice")
            #expect(first.status == .ok && second.status == .ok)
            #expect(first.body == second.body)
            #expect(try await broker.faultReport().first?["matched"] as? Int == 1)
            _ = try await broker.mintWidgetURL(as: "bob")
            #expect(try await broker.send(.get, "/v1/accounts", as: "bob").status == .ok)
            #expect(try await broker.faultReport().first?["matched"] as? Int == 2, "another user's read is not served from alice's entry")

            let webhook = dataWebhook(type: "BALANCE", user: aliceGUID, member: member, completedAt: Int(Date().timeIntervalSince1970) + 1000)
            #expect(try await broker.deliver(webhook, credentials: "mx:hook-secret").status == .noContent)
            let deadline = ContinuousClock.now + .seconds(10)
            var matched = 2
            while ContinuousClock.now < deadline, matched < 3 {
                _ = try await broker.send(.get, "/v1/accounts", as: "alice")
                matched = try await broker.faultReport().first?["matched"] as? Int ?? 0
                if matched < 3 { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(matched == 3, "the webhook's change dropped alice's cached read")
        }
    }

    @Test("reads carry an ETag (304 when the client has it) and are gzipped when the client accepts it")
    func conditionalAndCompressed() async throws {
        try await withBroker { broker async throws in
            _ = try await broker.connectMember(as: "alice")
            let plain = try await broker.send(.get, "/v1/transactions?records_per_page=100", as: "alice")
            let etag = try #require(plain.headers[.eTag])
            #expect(plain.headers[.vary] == "Accept-Encoding")
            let unchanged = try await broker.send(.get, "/v1/transactions?records_per_page=100", as: "alice", headers: [.ifNoneMatch: etag])
            #expect(unchanged.status == .notModified)
            #expect(unchanged.body.readableBytes == 0)
            #expect(unchanged.headers[.eTag] == etag)

            let compressed = try await broker.send(.get, "/v1/transactions?records_per_page=100", as: "alice", headers: [.acceptEncoding: "gzip"])
            #expect(compressed.headers[.contentEncoding] == "gzip")
            #expect(compressed.body.readableBytes < plain.body.readableBytes / 3)
            var gzipped = compressed.body
            #expect(try gzipped.decompress(with: .gzip()) == plain.body)

            let members = try await broker.send(.get, "/v1/members", as: "alice")
            let membersTag = try #require(members.headers[.eTag])
            #expect(try await broker.send(.get, "/v1/members", as: "alice", headers: [.ifNoneMatch: membersTag]).status == .notModified)
        }
    }

    @Test("with READ_CACHE_SECONDS=0 every read goes to MX")
    func disabled() async throws {
        try await withBroker(sandboxEnvironment(["READ_CACHE_SECONDS": "0"])) { broker async throws in
            _ = try await broker.mintWidgetURL(as: "alice")
            try await broker.injectFaults(#"[{"path":"/users/*/accounts","kind":"latency","latency_ms":0}]"#)
            for _ in 0..<3 { #expect(try await broker.send(.get, "/v1/accounts", as: "alice").status == .ok) }
            #expect(try await broker.faultReport().first?["matched"] as? Int == 3)
        }
    }
}

@Suite("Reads after a change")
struct ReadsAfterAChangeTests {
    @Test("a read begun after a webhook changed the user's data does not take the answer of one begun before", .timeLimit(.minutes(1)))
    func readAfterWebhook() async throws {
        try await withBroker(sandboxEnvironment(["MX_WEBHOOK_USERNAME": "mx", "MX_WEBHOOK_PASSWORD": "hook-secret"])) { broker async throws in
            let member = try await broker.connectMember(as: "alice")
            let users = try #require(try await broker.sandbox("/users")["users"] as? [[String: Any]])
            let aliceGUID = try #require(users.first?["guid"] as? String)
            let stream = try await broker.openEvents(as: "alice")
            defer { stream.close() }
            try await stream.wait { $0.contains { $0.comment == "connected" } }
            try await broker.injectFaults(#"[{"path":"/users/*/accounts","kind":"latency","latency_ms":1500}]"#)

            async let before = broker.send(.get, "/v1/accounts", as: "alice")
            try await Task.sleep(for: .milliseconds(200))
            let webhook = dataWebhook(type: "BALANCE", user: aliceGUID, member: member, completedAt: Int(Date().timeIntervalSince1970) + 1000)
            #expect(try await broker.deliver(webhook, credentials: "mx:hook-secret").status == .noContent)
            try await stream.wait { $0.contains { $0.event == "balances.updated" } }
            let after = try await broker.send(.get, "/v1/accounts", as: "alice")

            #expect(try await before.status == .ok && after.status == .ok)
            #expect(try await broker.faultReport().first?["matched"] as? Int == 2, "the read after the change went to MX itself")
        }
    }

    @Test("a relayed member event reads the member from MX anew, not from a read begun before it", .timeLimit(.minutes(1)))
    func relayAfterRead() async throws {
        let refusingSandboxWebhooks = sandboxEnvironment(["MX_WEBHOOK_USERNAME": "mx", "MX_WEBHOOK_PASSWORD": "not-the-sandbox-password"])
        try await withBroker(refusingSandboxWebhooks) { broker async throws in
            let member = try await broker.connectMember(as: "alice")
            let users = try #require(try await broker.sandbox("/users")["users"] as? [[String: Any]])
            let aliceGUID = try #require(users.first?["guid"] as? String)
            try await broker.injectFaults(#"[{"path":"/users/*/members/*","kind":"latency","latency_ms":1000}]"#)

            async let widget = broker.mintWidgetURL(as: "alice", #"{"current_member_guid":"\#(member)"}"#)
            while try await broker.faultReport().first?["matched"] as? Int == 0 { try await Task.sleep(for: .milliseconds(20)) }
            let metadata = #"{"member_guid":"\#(member)","connection_status":6,"user_guid":"\#(aliceGUID)","session_guid":"ANS-1"}"#
            let relay = #"{"type":"mx/connect/memberStatusUpdate","metadata":\#(metadata)}"#
            let relayed = try await broker.relay(relay, as: "alice")
            #expect(relayed.status == .accepted, "\(String(buffer: relayed.body))")
            _ = try await widget
            #expect(try await broker.metric("mx_coalesced_requests_total", "members") ?? 0 == 0, "the relay's refresh went to MX itself")
            #expect(try await broker.faultReport().first?["matched"] as? Int == 2)
        }
    }
}
