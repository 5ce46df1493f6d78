import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SandboxWidgetDriver
import Testing

@testable import Broker

@Suite("POST /v1/widget_events end to end")
struct WidgetEventsEndToEndTests {
    @Test("a batch makes one MX read per distinct member, however many of its events name it; one event's metadata is bounded")
    func batchReadsEachMemberOnce() async throws {
        try await withBroker(sandboxEnvironment(["RATE_LIMIT_RELAYS_PER_MINUTE": "0"])) { broker async throws in
            let member = try await broker.connectMember(as: "alice")
            try await broker.waitForAggregation(of: member, as: "alice")
            let userGUID = try #require(try await broker.relayedUserGUID(as: "alice"))
            // The sandbox's webhooks about the connection each make a read of the member too:
            // let them be processed before counting.
            let deadline = ContinuousClock.now + .seconds(10)
            func settled() async throws -> Bool {
                let done =
                    (try await broker.metric("webhook_inbox_items", #"status="processed""#) ?? 0)
                    + (try await broker.metric("webhook_inbox_items", #"status="ignored""#) ?? 0)
                let open =
                    (try await broker.metric("webhook_inbox_items", #"status="pending""#) ?? 0)
                    + (try await broker.metric("webhook_inbox_items", #"status="processing""#) ?? 0)
                return done >= 2 && open == 0
            }
            while try await !settled(), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
            try await broker.injectFaults(#"[{"method":"GET","path":"/users/*/members/*","kind":"latency","latency_ms":0}]"#)
            let event =
                #"{"mx":true,"type":"mx/connect/memberStatusUpdate","metadata":{"user_guid":"\#(userGUID)","session_guid":"S","member_guid":"\#(member)","connection_status":6}}"#
            let deleted =
                #"{"mx":true,"type":"mx/connect/memberDeleted","metadata":{"user_guid":"\#(userGUID)","session_guid":"S","member_guid":"\#(member)"}}"#
            let batch = "[" + (Array(repeating: event, count: 48) + [deleted, event]).joined(separator: ",") + "]"
            let relayed = try await broker.relay(batch, as: "alice")
            #expect(relayed.status == .accepted)
            let outcomes = try #require(try relayed.json["events"] as? [[String: Any]])
            #expect(outcomes.count == 50)
            #expect(outcomes.filter { $0["action"] as? String == "member_refreshed" }.count == 49)
            #expect(outcomes[48]["action"] as? String == "member_still_exists")
            #expect(try await broker.faultReport().first?["matched"] as? Int == 1, "one MX read of the member for all fifty events")

            let padding = String(repeating: "x", count: RelayedWidgetEvent.maxMetadataBytes)
            let large = try await broker.relay(#"{"mx":true,"type":"mx/connect/somethingNew","metadata":{"note":"\#(padding)"}}"#, as: "alice")
            #expect(large.status == .badRequest)
            #expect(large.errorCode == "invalid_widget_event")
        }
    }

    @Test("mint → connect in the sandbox widget → relay its events → the stream shows member.updated, then aggregation.completed")
    func widgetToStream() async throws {
        try await withBroker { broker async throws in
            let stream = try await broker.openEvents(as: "alice")
            var (driver, member) = try await broker.connectThroughWidget(as: "alice")
            _ = try await driver.poll(member) { $0 == "CONNECTED" }
            #expect(driver.types.contains("mx/connect/memberConnected"))

            let relayed = try await broker.relay("[\(driver.eventsJSON.joined(separator: ","))]", as: "alice")
            #expect(relayed.status == .accepted)
            let outcomes = try #require(try relayed.json["events"] as? [[String: Any]])
            #expect(outcomes.count == driver.events.count)
            #expect(outcomes.allSatisfy { $0["recorded"] as? Bool == true })
            let connected = try #require(outcomes.first { $0["type"] as? String == "mx/connect/memberConnected" })
            #expect(connected["action"] as? String == "member_refreshed")
            #expect((connected["member"] as? [String: Any])?["connection_status"] as? String == "CONNECTED")

            let events = try await stream.wait { events in events.contains { $0.event == "aggregation.completed" } }.filter { $0.comment == nil }
            let kinds = events.compactMap(\.event)
            let updated = try #require(kinds.firstIndex(of: "member.updated"))
            let completed = try #require(kinds.firstIndex(of: "aggregation.completed"))
            #expect(updated < completed)
            #expect(events[completed].json["member_guid"] as? String == member)
            let view = events[updated].json["member"] as? [String: Any]
            #expect(view?["action_required"] as? String == "none")
            stream.close()
        }
    }

    @Test("every catalogue event of the caller is accepted, each as a single relay")
    func everyEvent() async throws {
        try await withBroker { broker async throws in
            var (driver, member) = try await broker.connectThroughWidget(as: "alice")
            _ = try await driver.poll(member) { $0 == "CONNECTED" }
            let user = try #require(driver.config["user_guid"] as? String)
            for type in WidgetEventCatalogue.events.keys.sorted() {
                let fields = WidgetEventCatalogue.events[type]!
                var metadata: [String: Any] = [:]
                for (name, field) in fields {
                    switch field.type {
                    case .string: metadata[name] = name == "user_guid" ? user : name == "member_guid" ? member : "value"
                    case .number: metadata[name] = 6
                    case .boolean: metadata[name] = false
                    case .object: metadata[name] = ["code": "mxbank", "guid": "INS-1"]
                    }
                }
                let body = String(
                    decoding: try JSONSerialization.data(withJSONObject: ["mx": true, "type": type, "metadata": metadata]),
                    as: UTF8.self
                )
                let response = try await broker.relay(body, as: "alice")
                #expect(response.status == .accepted, "\(type): \(String(buffer: response.body))")
                let outcome = try #require((try response.json["events"] as? [[String: Any]])?.first)
                let expected =
                    switch type {
                    case "mx/connect/memberConnected", "mx/connect/memberStatusUpdate": "member_refreshed"
                    case "mx/connect/memberDeleted": "member_still_exists"
                    default: "recorded"
                    }
                #expect(outcome["action"] as? String == expected, "\(type)")
            }
        }
    }

    @Test("the mobile form of every event the widget emits in a webview is accepted")
    func mobileRelay() async throws {
        try await withBroker { broker async throws in
            var (driver, member) = try await broker.connectThroughWidget(
                as: "alice",
                options: #"{"is_mobile_webview":true,"ui_message_webview_url_scheme":"myapp"}"#
            )
            _ = try await driver.poll(member) { $0 == "CONNECTED" }
            for event in driver.events {
                let type = try #require(event["type"] as? String)
                let metadata = try JSONSerialization.data(withJSONObject: try #require(event["metadata"]))
                let query = String(decoding: metadata, as: UTF8.self).addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                let url = "myapp://\(type.dropFirst(3))?metadata=\(query)"
                let response = try await broker.relay(#"{"url":"\#(url)"}"#, as: "alice")
                #expect(response.status == .accepted, "\(type)")
            }
        }
    }

    @Test("another user's user_guid is forbidden; another user's member is not found and nothing is stored")
    func foreignEvents() async throws {
        try await withBroker { broker async throws in
            var (driver, member) = try await broker.connectThroughWidget(as: "alice")
            _ = try await driver.poll(member) { $0 == "CONNECTED" }
            let aliceGUID = try #require(driver.config["user_guid"] as? String)
            _ = try await broker.mintWidgetURL(as: "mallory")
            let stream = try await broker.openEvents(as: "mallory", lastEventID: "0")

            let forged =
                #"{"mx":true,"type":"mx/connect/memberConnected","metadata":{"user_guid":"\#(aliceGUID)","session_guid":"S","member_guid":"\#(member)"}}"#
            let forbidden = try await broker.relay(forged, as: "mallory")
            #expect(forbidden.status == .forbidden)
            #expect(forbidden.errorCode == "foreign_user_guid")

            let malloryGUID = try #require(try await broker.relayedUserGUID(as: "mallory"))
            let stolen =
                #"{"mx":true,"type":"mx/connect/memberConnected","metadata":{"user_guid":"\#(malloryGUID)","session_guid":"S","member_guid":"\#(member)"}}"#
            let notFound = try await broker.relay(stolen, as: "mallory")
            #expect(notFound.status == .notFound)
            let members = try await broker.send(.get, "/v1/members", as: "mallory").json["members"] as? [Any]
            #expect(members?.isEmpty == true)

            let batch = try await broker.relay("[\(stolen),{\"mx\":true,\"type\":\"mx/load\"}]", as: "mallory")
            #expect(batch.status == .accepted)
            let outcomes = try #require(try batch.json["events"] as? [[String: Any]])
            #expect(outcomes.map { $0["recorded"] as? Bool } == [false, true])
            #expect(outcomes.first?["error"] as? String == "not_found")
            try await Task.sleep(for: .milliseconds(200))
            #expect(stream.events.isEmpty, "mallory's stream shows nothing of alice's member")
            stream.close()
        }
    }

    @Test("batches hold 1 to 50 events; malformed relays are 400")
    func malformed() async throws {
        try await withBroker { broker async throws in
            let load = #"{"mx":true,"type":"mx/load"}"#
            #expect(try await broker.relay("[\(Array(repeating: load, count: 50).joined(separator: ","))]", as: "alice").status == .accepted)
            #expect(try await broker.relay("[\(Array(repeating: load, count: 51).joined(separator: ","))]", as: "alice").errorCode == "invalid_batch")
            #expect(try await broker.relay("[]", as: "alice").errorCode == "invalid_batch")
            #expect(try await broker.relay(#"{"type":"click"}"#, as: "alice").errorCode == "invalid_widget_event")
            #expect(try await broker.relay(#"[{"mx":true,"type":"mx/load"},{"type":"click"}]"#, as: "alice").errorCode == "invalid_widget_event")
            #expect(
                try await broker.relay(#"{"mx":true,"type":"mx/connect/memberConnected","metadata":{"user_guid":1}}"#, as: "alice").status
                    == .badRequest
            )
            #expect(try await broker.relay("{", as: "alice").errorCode == "malformed_json")
            #expect(try await broker.send(.post, "/v1/widget_events", json: load).status == .unauthorized)
        }
    }
}

extension BrokerClient {
    /// The caller's MX user guid, as the widget reports it.
    func relayedUserGUID(as subject: String) async throws -> String? {
        let widget = try await mintWidgetURL(as: subject)
        let driver = try await WidgetSessionDriver(client: client, url: try #require(widget["url"] as? String))
        return driver.config["user_guid"] as? String
    }
}
