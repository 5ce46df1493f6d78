import BrokerStore
import Foundation
import Testing

@testable import Broker

@Suite("Which member changes are announced")
struct MemberEventsTests {
    private func member(status: String?, aggregating: Bool = false, succeeded: String? = nil, refreshed: TimeInterval = 0) -> MemberRecord {
        MemberRecord(
            guid: "MBR-1",
            mxUserGUID: "USR-1",
            institutionCode: "mxbank",
            name: "MX Bank",
            connectionStatus: status,
            isBeingAggregated: aggregating,
            aggregatedAt: "2025-01-01T00:00:00Z",
            successfullyAggregatedAt: succeeded,
            refreshedAt: Date(timeIntervalSince1970: refreshed)
        )
    }

    private func kinds(_ previous: MemberRecord?, _ current: MemberRecord) -> [String] {
        MemberSync.events(from: previous, to: current).map(\.kind)
    }

    @Test("a member first seen connected and aggregated: member.updated, then aggregation.completed")
    func firstSeen() {
        #expect(kinds(nil, member(status: "CONNECTED", succeeded: "2025-01-01T00:00:03Z")) == ["member.updated", "aggregation.completed"])
        #expect(kinds(nil, member(status: "CREATED", aggregating: true)) == ["member.updated"])
    }

    @Test("nothing changed but the time it was read: nothing to announce")
    func unchanged() {
        #expect(kinds(member(status: "CONNECTED", refreshed: 1), member(status: "CONNECTED", refreshed: 99)).isEmpty)
    }

    @Test("aggregation.completed only when a new success is recorded and nothing is running")
    func aggregationCompleted() {
        let running = member(status: "CONNECTED", aggregating: true, succeeded: "2025-01-01T00:00:03Z")
        let done = member(status: "CONNECTED", succeeded: "2025-01-02T00:00:03Z")
        #expect(kinds(member(status: "CONNECTED", succeeded: "2025-01-01T00:00:03Z"), running) == ["member.updated"])
        #expect(kinds(running, done) == ["member.updated", "aggregation.completed"])
    }

    @Test("an aggregation seen running that stops with a success counts, even within the same second")
    func sameSecondAggregation() {
        var running = member(status: "CONNECTED", aggregating: true, succeeded: "2025-01-01T00:00:03Z")
        running.aggregatedAt = "2025-01-01T00:00:03Z"
        var done = running
        done.isBeingAggregated = false
        #expect(kinds(running, done) == ["member.updated", "aggregation.completed"])
        var laterRun = running
        laterRun.aggregatedAt = "2025-01-01T00:00:04Z"
        var failed = laterRun
        failed.isBeingAggregated = false
        #expect(kinds(laterRun, failed) == ["member.updated"], "the last success predates the run that stopped")
    }

    @Test("connection.action_required when the user newly has to act, once")
    func actionRequired() throws {
        let challenged = member(status: "CHALLENGED")
        #expect(kinds(member(status: "CREATED", aggregating: true), challenged) == ["member.updated", "connection.action_required"])
        #expect(kinds(challenged, member(status: "CHALLENGED", aggregating: true)) == ["member.updated"])
        #expect(kinds(challenged, member(status: "DENIED")) == ["member.updated", "connection.action_required"])
        let payload = try #require(MemberSync.events(from: nil, to: member(status: "LOCKED")).last?.payload)
        #expect(payload.contains(#""action_required":"visit_institution""#))
    }
}
