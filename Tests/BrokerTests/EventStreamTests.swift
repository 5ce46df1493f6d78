import BrokerStore
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SandboxWidgetDriver
import Testing

@testable import Broker

@Suite("GET /v1/events (Server-Sent Events)")
struct EventStreamTests {
    /// Connects a member for `subject` and lists members until the broker has stored it connected.
    private func connectAndList(_ broker: BrokerClient, as subject: String) async throws -> String {
        let member = try await broker.connectMember(as: subject)
        _ = try await broker.send(.get, "/v1/members", as: subject)
        return member
    }

    @Test("events arrive in order; a client resuming with Last-Event-ID gets exactly what it missed")
    func orderingAndResume() async throws {
        try await withBroker { broker async throws in
            let first = try await broker.openEvents(as: "alice")
            let member = try await connectAndList(broker, as: "alice")
            let seen = try await first.wait { $0.contains { $0.event == "aggregation.completed" } }.filter { $0.comment == nil }
            first.close()
            let ids = seen.compactMap { $0.id.flatMap(Int64.init) }
            #expect(ids == ids.sorted() && Set(ids).count == ids.count)

            let aggregate = try await broker.send(.post, "/v1/members/\(member)/aggregate", as: "alice")
            #expect(aggregate.status == .accepted)
            try await broker.waitForAggregation(of: member, as: "alice")

            let everything = try await broker.openEvents(as: "alice", lastEventID: "0")
            let all = try await everything.wait { $0.filter { $0.event == "aggregation.completed" }.count >= 2 }.filter { $0.comment == nil }
            everything.close()
            let resumed = try await broker.openEvents(as: "alice", lastEventID: try #require(seen.last?.id))
            let missed = try await resumed.wait { $0.contains { $0.event == "aggregation.completed" } }.filter { $0.comment == nil }
            resumed.close()
            #expect(seen + missed == all, "no gap and no duplicate")
            #expect(missed.first?.event == "member.updated")

            let viaQuery = try await EventStreamClient.open(
                "\(broker.baseURL)/v1/events?last_event_id=\(try #require(seen.last?.id))",
                headers: [("Authorization", "Bearer \(try await broker.token("alice"))")]
            )
            let sameMissed = try await viaQuery.wait { $0.contains { $0.event == "aggregation.completed" } }.filter { $0.comment == nil }
            viaQuery.close()
            #expect(sameMissed == missed)
        }
    }

    @Test("a user never receives another user's events")
    func isolation() async throws {
        try await withBroker { broker async throws in
            let bob = try await broker.openEvents(as: "bob", lastEventID: "0")
            let alice = try await broker.openEvents(as: "alice")
            _ = try await connectAndList(broker, as: "alice")
            try await alice.wait { $0.contains { $0.event == "aggregation.completed" } }
            try await Task.sleep(for: .milliseconds(200))
            #expect(bob.events.isEmpty)
            alice.close()
            bob.close()
        }
    }

    @Test("heartbeats keep an idle stream alive")
    func heartbeats() async throws {
        try await withBroker(sandboxEnvironment(["SSE_HEARTBEAT_SECONDS": "0.1"])) { broker async throws in
            let stream = try await broker.openEvents(as: "alice")
            try await stream.wait { $0.filter { $0.comment == "heartbeat" }.count >= 3 }
            stream.close()
        }
    }

    @Test("EventSource clients use a short-lived events token as access_token; nothing else opens the stream")
    func eventsToken() async throws {
        try await withBroker { broker async throws in
            let issued = try await broker.send(.post, "/v1/events/token", as: "alice").json
            let token = try #require(issued["access_token"] as? String)
            let stream = try await EventStreamClient.open("\(broker.baseURL)/v1/events?access_token=\(token)")
            #expect(stream.status == 200)
            _ = try await connectAndList(broker, as: "alice")
            try await stream.wait { $0.contains { $0.event == "member.updated" } }
            stream.close()

            let appToken = try await broker.token("alice")
            #expect(try await EventStreamClient.open("\(broker.baseURL)/v1/events?access_token=\(appToken)").status == 401)
            #expect(try await EventStreamClient.open("\(broker.baseURL)/v1/events").status == 401)
            #expect(try await broker.send(.get, "/v1/accounts", headers: [.authorization: "Bearer \(token)"]).status == .unauthorized)
            #expect(try await broker.send(.get, "/v1/events?access_token=garbage").errorCode == "invalid_token")
            #expect(try await broker.send(.post, "/v1/events/token").status == .unauthorized)
        }
    }

    @Test("an events token expires")
    func eventsTokenExpiry() async throws {
        try await withBroker(sandboxEnvironment(["EVENTS_TOKEN_SECONDS": "1"])) { broker async throws in
            let issued = try await broker.send(.post, "/v1/events/token", as: "alice").json
            #expect(issued["expires_in"] as? Int == 1)
            let token = try #require(issued["access_token"] as? String)
            try await Task.sleep(for: .milliseconds(1100))
            #expect(try await broker.send(.get, "/v1/events?access_token=\(token)").errorCode == "invalid_token")
        }
    }

    @Test("a Last-Event-ID that is not an event id is a 400")
    func badLastEventID() async throws {
        try await withBroker { broker async throws in
            let response = try await broker.send(.get, "/v1/events", as: "alice", headers: [HTTPField.Name("Last-Event-ID")!: "yesterday"])
            #expect(response.status == .badRequest)
            #expect(response.errorCode == "invalid_last_event_id")
        }
    }
}

@Suite("Event hub")
struct EventHubTests {
    @Test("subscribers are woken for their user only and freed when they leave; closing ends every stream")
    func lifecycle() async throws {
        let hub = EventHub(heartbeat: .seconds(60))
        let (aliceID, alice) = try await hub.subscribe(mxUserGUID: "USR-a")
        let (_, bob) = try await hub.subscribe(mxUserGUID: "USR-b")
        #expect(await hub.openStreams == 2)
        await hub.publish(mxUserGUID: "USR-a")
        var aliceIterator = alice.makeAsyncIterator()
        #expect(await aliceIterator.next() == .newEvents)
        await hub.unsubscribe(aliceID, mxUserGUID: "USR-a")
        #expect(await hub.openStreams == 1)
        #expect(await aliceIterator.next() == nil)
        await hub.close()
        #expect(await hub.openStreams == 0)
        var bobIterator = bob.makeAsyncIterator()
        #expect(await bobIterator.next() == nil, "bob was never woken and his stream ended at close")
        let (_, late) = try await hub.subscribe(mxUserGUID: "USR-c")
        var lateIterator = late.makeAsyncIterator()
        #expect(await lateIterator.next() == nil, "no new streams after close")
    }

    @Test("every stream keeps getting heartbeats, and the streams' heartbeats are spread over the interval", .timeLimit(.minutes(1)))
    func heartbeatsSpread() async throws {
        let interval = Duration.milliseconds(320)
        let hub = EventHub(heartbeat: interval)
        let started = ContinuousClock.now
        let firstBeats = try await withThrowingTaskGroup(of: [Duration].self) { group in
            for index in 0..<32 {
                let (_, signals) = try await hub.subscribe(mxUserGUID: "USR-\(index % 4)")
                group.addTask {
                    var beats: [Duration] = []
                    for await signal in signals where signal == .heartbeat {
                        beats.append(ContinuousClock.now - started)
                        if beats.count == 3 { break }
                    }
                    return beats
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        await hub.close()
        #expect(firstBeats.allSatisfy { $0.count == 3 })
        let firsts = firstBeats.map { $0[0] }
        #expect(firsts.max()! - firsts.min()! >= interval / 2, "heartbeats come in turns, not all at once")
    }

    @Test("streams asking together share one store read; a wake-up after a read started gets a read of its own")
    func sharedReads() async throws {
        let hub = EventHub(heartbeat: .seconds(60))
        _ = try await hub.subscribe(mxUserGUID: "USR-a")
        let reads = Locked(0)
        let slowRead: @Sendable () async throws -> [StoredEvent] = {
            reads.withLock { $0 += 1 }
            try await Task.sleep(for: .milliseconds(300))
            return []
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<20 {
                group.addTask { _ = try await hub.events(of: "USR-a", after: 7, limit: 500, read: slowRead) }
            }
            try await group.waitForAll()
        }
        #expect(reads.withLock { $0 } == 1)

        async let first = hub.events(of: "USR-a", after: 7, limit: 500, read: slowRead)
        try await Task.sleep(for: .milliseconds(50))
        await hub.publish(mxUserGUID: "USR-a")
        _ = try await hub.events(of: "USR-a", after: 7, limit: 500, read: slowRead)
        _ = try await first
        #expect(reads.withLock { $0 } == 3, "the stream woken after the first read began did not join it")
    }
}
