import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SandboxWidgetDriver
import Testing

@testable import Broker

@Suite("Member lifecycle end to end")
struct MemberLifecycleTests {
    @Test("members are listed from the store with status and action_required; an MFA member asks for answers")
    func listing() async throws {
        try await withBroker { broker async throws in
            let stream = try await broker.openEvents(as: "alice")
            var (driver, member) = try await broker.connectThroughWidget(as: "alice", institution: "mxbank_mfa")
            _ = try await driver.poll(member) { $0 == "CHALLENGED" }
            let listed = try #require(try await broker.send(.get, "/v1/members", as: "alice").json["members"] as? [[String: Any]])
            let view = try #require(listed.first)
            #expect(view["guid"] as? String == member)
            #expect(view["connection_status"] as? String == "CHALLENGED")
            #expect(view["connection_status_id"] as? Int == 3)
            #expect(view["action_required"] as? String == "answer_mfa")
            #expect(view["institution_code"] as? String == "mxbank_mfa")
            let events = try await stream.wait { $0.contains { $0.event == "connection.action_required" } }
            let action = try #require(events.first { $0.event == "connection.action_required" })
            #expect(action.json["action_required"] as? String == "answer_mfa")
            #expect(action.json["member_guid"] as? String == member)

            try await driver.call(
                .post,
                "/members/\(member)/mfa",
                ["answers": ["CRD-mfa-text": "mxcity", "CRD-mfa-options": "checking-1234", "CRD-mfa-image": "7291"]]
            )
            _ = try await driver.poll(member) { $0 == "CONNECTED" }
            let fresh = try await broker.send(.get, "/v1/members/\(member)", as: "alice").json["member"] as? [String: Any]
            #expect(fresh?["action_required"] as? String == "none")
            stream.close()
        }
    }

    @Test("aggregate: 202 started, then already_running while it runs; completion is announced")
    func aggregate() async throws {
        try await withBroker(sandboxEnvironment(["SANDBOX_CONNECT_SECONDS": "2"])) { broker async throws in
            let member = try await broker.connectMember(as: "alice")
            let stream = try await broker.openEvents(as: "alice")
            let first = try await broker.send(.post, "/v1/members/\(member)/aggregate", as: "alice")
            #expect(first.status == .accepted)
            #expect(try first.json["aggregation"] as? String == "started")
            let second = try await broker.send(.post, "/v1/members/\(member)/aggregate", as: "alice")
            #expect(try second.json["aggregation"] as? String == "already_running")
            try await broker.waitForAggregation(of: member, as: "alice")
            try await stream.wait { $0.contains { $0.event == "aggregation.completed" } }
            #expect(try await broker.send(.post, "/v1/members/MBR-not-mine/aggregate", as: "alice").status == .notFound)
            stream.close()
        }
    }

    @Test("disconnecting a member deletes it at MX and locally, and announces member.deleted")
    func disconnect() async throws {
        try await withBroker { broker async throws in
            let member = try await broker.connectMember(as: "alice")
            let stream = try await broker.openEvents(as: "alice")
            #expect(try await broker.send(.delete, "/v1/members/\(member)", as: "alice").status == .noContent)
            let deleted = try await stream.wait { $0.contains { $0.event == "member.deleted" } }
            #expect(deleted.last { $0.event == "member.deleted" }?.json["member_guid"] as? String == member)
            #expect(try await broker.send(.get, "/v1/members/\(member)", as: "alice").status == .notFound)
            #expect(try await broker.send(.delete, "/v1/members/\(member)", as: "alice").status == .notFound)
            #expect((try await broker.send(.get, "/v1/members", as: "alice").json["members"] as? [Any])?.isEmpty == true)
            #expect(try await broker.send(.delete, "/v1/members/\(member)", as: "bob").status == .notFound)
            stream.close()
        }
    }

    @Test("a member deleted in the widget is forgotten once MX confirms it is gone")
    func deletedInWidget() async throws {
        try await withBroker { broker async throws in
            let member = try await broker.connectMember(as: "alice")
            let userGUID = try #require(try await broker.relayedUserGUID(as: "alice"))
            let event =
                #"{"mx":true,"type":"mx/connect/memberDeleted","metadata":{"user_guid":"\#(userGUID)","session_guid":"S","member_guid":"\#(member)"}}"#
            let stillThere = try await broker.relay(event, as: "alice")
            #expect((try stillThere.json["events"] as? [[String: Any]])?.first?["action"] as? String == "member_still_exists")

            try await broker.deleteAtMX(user: userGUID, member: member)
            let gone = try await broker.relay(event, as: "alice")
            #expect((try gone.json["events"] as? [[String: Any]])?.first?["action"] as? String == "member_deleted")
            #expect(try await broker.send(.get, "/v1/members/\(member)", as: "alice").status == .notFound)
            #expect(try await broker.relay(event, as: "alice").status == .notFound, "a second time there is nothing to delete")
        }
    }

    @Test("DELETE /v1/me erases the MX user and every local row; a later mint starts afresh")
    func eraseMe() async throws {
        try await withBroker { broker async throws in
            let member = try await broker.connectMember(as: "alice")
            _ = try await broker.mintWidgetURL(as: "bob")
            let before = try #require(try await broker.relayedUserGUID(as: "alice"))
            #expect(try await broker.send(.delete, "/v1/me", as: "alice").status == .noContent)
            let users = try #require(try await broker.sandbox("/users")["users"] as? [[String: Any]])
            #expect(users.count == 1, "only bob is left at MX")
            #expect((try await broker.send(.get, "/v1/members", as: "alice").json["members"] as? [Any])?.isEmpty == true)
            #expect(try await broker.send(.get, "/v1/members/\(member)", as: "alice").status == .notFound)
            let replay = try await broker.openEvents(as: "alice", lastEventID: "0")
            try await Task.sleep(for: .milliseconds(150))
            #expect(replay.events.isEmpty, "alice's past events are gone")
            replay.close()
            let after = try #require(try await broker.relayedUserGUID(as: "alice"))
            #expect(after != before)
            #expect(try await broker.send(.delete, "/v1/me", as: "carol").status == .noContent, "erasing a user with nothing is fine")
        }
    }
}

extension BrokerClient {
    /// Deletes a member at the embedded sandbox directly, as if the user deleted it in MX's widget.
    func deleteAtMX(user: String, member: String) async throws {
        let credentials = Data("sandbox-client-id:sandbox-api-key".utf8).base64EncodedString()
        let headers: HTTPFields = [.authorization: "Basic \(credentials)", .accept: "application/vnd.mx.api.v1+json"]
        let response = try await client.execute(uri: "/sandbox/mx/users/\(user)/members/\(member)", method: .delete, headers: headers) { $0 }
        #expect(response.status == .noContent)
    }
}
