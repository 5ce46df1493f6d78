import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Sends MX-shaped webhooks when a sandbox member's state calls for one, as MX does: a data
/// webhook (`AGGREGATION`, and to v20250224 integrations `initial_data_ready` after the first) when an aggregation
/// completes, `VERIFICATION`, `BALANCE`, `HISTORY` or `STATEMENT` when such a job succeeds, `CONNECTION_STATUS` when the
/// member lands in a status the user must act on, and a microdeposit's resource webhook at
/// each of its statuses.
///
/// Deliveries use HTTP Basic and are redelivered on a non-2xx answer or a timeout, at most 12
/// times over about 24 hours (scaled by `webhookRetryScale`).
actor SandboxWebhooks {
    /// MX's redelivery delays after the first attempt, in seconds (≈ 24 hours in all).
    static let redeliverySchedule: [Double] = [60, 120, 300, 600, 1200, 1800, 3600, 7200, 10_800, 14_400, 18_000, 27_300]

    /// The statuses whose arrival MX announces with a `CONNECTION_STATUS` webhook.
    static let announcedStatuses: Set<String> = ["CHALLENGED", "DENIED", "EXPIRED", "IMPAIRED", "IMPEDED", "LOCKED", "PREVENTED", "REJECTED"]

    private let configuration: SandboxConfiguration
    private let state: SandboxState
    private let logger: Logger
    private var target: String?
    private var sent: Set<String> = []
    private var attemptsByKey: [String: Int] = [:]

    init(configuration: SandboxConfiguration, state: SandboxState, logger: Logger) {
        self.configuration = configuration
        self.state = state
        self.logger = logger
        self.target = configuration.webhookURL
    }

    /// Sets (or replaces) where webhooks go.
    func setTarget(_ url: String) {
        target = url
    }

    /// How many delivery attempts each webhook took so far, by its key; for tests.
    var attempts: [String: Int] { attemptsByKey }

    /// Looks at the member once `delay` has passed (its next step is due then) and sends what
    /// its state calls for.
    nonisolated func watch(memberGUID: String, after delay: TimeInterval) {
        Task {
            try? await Task.sleep(for: .milliseconds(Int(delay * 1000) + 30))
            await self.check(memberGUID: memberGUID)
        }
    }

    /// Looks at a microdeposit once `delay` has passed and announces a status not announced yet:
    /// `created` for its first, `updated` for each later one. The status is the one it had at
    /// `asOf` when given (its creation), else the one it has then.
    nonisolated func watch(microdepositGUID: String, after delay: TimeInterval, asOf: Date? = nil) {
        Task {
            if asOf == nil { try? await Task.sleep(for: .milliseconds(Int(delay * 1000) + 30)) }
            await self.check(microdepositGUID: microdepositGUID, asOf: asOf ?? Date())
        }
    }

    private func check(microdepositGUID: String, asOf: Date) async {
        guard let microdeposit = await state.microdeposit(microdepositGUID, ofUser: nil),
            let user = await state.user(microdeposit.userGUID, byIDToo: false)
        else { return }
        let (status, since) = microdeposit.state(now: asOf, delay: MXSandbox.seconds(configuration.connectDelay))
        let isFirst = !sent.contains { $0.hasPrefix("MICRO_DEPOSIT|\(microdeposit.guid)|") }
        let key = "MICRO_DEPOSIT|\(microdeposit.guid)|\(status.rawValue)"
        guard sent.insert(key).inserted else { return }
        let institution = SandboxInstitution.named(SandboxMicrodeposit.institutionCode)
        let body = SandboxJSON.object([
            ("action", .string(isFirst ? "created" : "updated")), ("version", .int(1)),
            (
                "micro_deposit",
                .object([
                    ("account_number", .string(microdeposit.accountNumber)),
                    ("account_type", microdeposit.accountType.map { .int($0 == "SAVINGS" ? 2 : 1) } ?? .null),
                    ("created_at", .string(SandboxClock.isoText(microdeposit.createdAt))), ("guid", .string(microdeposit.guid)),
                    ("institution_guid", .string(institution?.guid)), ("routing_number", .string(microdeposit.routingNumber)),
                    ("status", .int(Int64(status.number))), ("status_name", .string(status.rawValue)),
                    ("updated_at", .string(SandboxClock.isoText(since))),
                    ("user_guid", .string(microdeposit.userGUID)), ("user_id", .string(user.id)),
                    ("verified_at", status == .verified ? .string(SandboxClock.isoText(since)) : .null),
                ])
            ),
        ])
        deliver(key: key, body: body.text)
    }

    private func check(memberGUID: String) async {
        guard let member = await state.member(guid: memberGUID), let user = await state.user(member.userGUID, byIDToo: false) else { return }
        let status = SandboxMemberStatus(member: member, now: Date(), delay: MXSandbox.seconds(configuration.connectDelay))
        var payloads: [(key: String, body: SandboxJSON)] = []
        if status.connectionStatus == "CONNECTED", !status.isBeingAggregated, let completedAt = status.successfullyAggregatedAt {
            let stamp = Int64(completedAt.timeIntervalSince1970)
            let isFirst = !sent.contains { $0.hasPrefix("AGGREGATION|\(member.guid)|") }
            payloads.append(("AGGREGATION|\(member.guid)|\(stamp)", aggregation(member, user: user, completedAt: completedAt, isFirst: isFirst)))
            if isFirst, configuration.webhookAPIVersion == .v20250224 {
                payloads.append(("initial_data_ready|\(member.guid)", initialDataReady(member)))
            }
            if let job = member.job, case .succeeded(let at) = status.jobProgress, let payload = completion(of: job, member, user, status, at: at) {
                payloads.append(("\(payload.type)|\(member.guid)|\(job.startedAt.timeIntervalSince1970)", payload.body))
            }
        } else if Self.announcedStatuses.contains(status.connectionStatus) {
            let episode = [member.challengeAnswer?.answeredAt, member.job?.startedAt, member.job?.challengeAnswer?.answeredAt]
                .map { String($0?.timeIntervalSince1970 ?? 0) }.joined(separator: "|")
            payloads.append(("CONNECTION_STATUS|\(member.guid)|\(status.connectionStatus)|\(episode)", connectionStatus(member, status)))
        }
        for (key, body) in payloads where sent.insert(key).inserted {
            deliver(key: key, body: body.text)
        }
    }

    private nonisolated func deliver(key: String, body: String) {
        Task {
            for attempt in 0...Self.redeliverySchedule.count {
                if attempt > 0 {
                    try? await Task.sleep(for: .milliseconds(Int(Self.redeliverySchedule[attempt - 1] * configuration.webhookRetryScale * 1000)))
                }
                if await self.attempt(key: key, body: body) { return }
            }
            logger.warning("Sandbox webhook abandoned after MX's last redelivery", metadata: ["sandbox.webhook": "\(key)"])
        }
    }

    /// One delivery attempt; true when the receiver answered 2xx.
    private func attempt(key: String, body: String) async -> Bool {
        guard let target else { return false }
        attemptsByKey[key, default: 0] += 1
        var request = HTTPClientRequest(url: target)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        request.headers.add(name: "Accept", value: "application/json")
        let credentials = Data("\(configuration.webhookUsername):\(configuration.webhookPassword)".utf8).base64EncodedString()
        request.headers.add(name: "Authorization", value: "Basic \(credentials)")
        request.body = .bytes(ByteBuffer(string: body))
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            _ = try? await response.body.collect(upTo: 1 << 16)
            return (200..<300).contains(response.status.code)
        } catch {
            return false
        }
    }

    // MARK: Payloads

    /// The first aggregation creates the member's whole history; later ones create nothing new.
    private func aggregation(_ member: SandboxMember, user: SandboxUser, completedAt: Date, isFirst: Bool) -> SandboxJSON {
        let stamp = Int64(completedAt.timeIntervalSince1970)
        let created = isFirst ? SandboxLedger.accounts(of: member).reduce(0) { $0 + SandboxLedger.transactions(of: $1).count } : 0
        return .object([
            ("action", .string("member_data_updated")), ("completed_at", .int(stamp)),
            ("completed_on", .string(SandboxClock.dateText(day: SandboxClock.day(of: completedAt)))), ("is_background", .bool(false)),
            ("job_guid", .string(SandboxLedger.stableGUID(prefix: "JOB", parts: [member.guid, String(stamp)]))),
            ("member_guid", .string(member.guid)), ("transactions_created_count", .int(Int64(created))),
            ("transactions_updated_count", .int(0)), ("type", .string("AGGREGATION")), ("user_guid", .string(member.userGUID)),
            ("user_id", .string(user.id)),
        ])
    }

    /// The member-data webhook that announces a completed premium job, as MX's documents shape
    /// each: `VERIFICATION` with the verified accounts, `BALANCE`, `HISTORY` with the
    /// transactions it added, `STATEMENT` with the statements it found. Identification has none.
    private func completion(
        of job: SandboxJob,
        _ member: SandboxMember,
        _ user: SandboxUser,
        _ status: SandboxMemberStatus,
        at completedAt: Date
    ) -> (type: String, body: SandboxJSON)? {
        let stamp = Int64(completedAt.timeIntervalSince1970)
        let common: [(String, SandboxJSON)] = [
            ("action", .string("member_data_updated")), ("completed_at", .int(stamp)),
            ("completed_on", .string(SandboxClock.dateText(day: SandboxClock.day(of: completedAt)))), ("member_guid", .string(member.guid)),
            ("user_guid", .string(member.userGUID)),
        ]
        let accounts = SandboxLedger.accounts(of: member, view: status.ledgerView)
        switch job.kind {
        case .identification:
            return nil
        case .verification:
            let verified = accounts.filter { SandboxAccountDetails.numbers(of: $0) != nil }
            let jobGUID = SandboxLedger.stableGUID(prefix: "JOB", parts: [member.guid, "verification", String(stamp)])
            return (
                "VERIFICATION",
                .object(
                    [("type", .string("VERIFICATION")), ("accounts", .array(verified.map { .string($0.guid) }))] + common + [
                        ("job_guid", .string(jobGUID)), ("user_id", .string(user.id)),
                    ]
                )
            )
        case .balanceCheck:
            return ("BALANCE", .object([("type", .string("BALANCE"))] + common))
        case .historyExtension:
            let isFirst = status.successBeforeLatest(of: .historyExtension) == nil
            let added = isFirst ? accounts.reduce(0) { $0 + SandboxLedger.transactions(of: $1).filter(\.isFromExtendedHistory).count } : 0
            return (
                "HISTORY",
                .object(
                    [("type", .string("HISTORY"))] + common + [
                        ("transactions_created_count", .int(Int64(added))), ("transactions_updated_count", .int(0)),
                    ]
                )
            )
        case .statementFetch:
            let isFirst = status.successBeforeLatest(of: .statementFetch) == nil
            let found = isFirst ? accounts.count * SandboxStatements.months : 0
            return ("STATEMENT", .object([("type", .string("STATEMENT"))] + common + [("statements_created_count", .int(Int64(found)))]))
        }
    }

    private func initialDataReady(_ member: SandboxMember) -> SandboxJSON {
        .object([
            ("type", .string("initial_data_ready")), ("guid", .string(UUID().uuidString.lowercased())),
            ("client_guid", .string("CLT-\(configuration.clientID)")), ("user_guid", .string(member.userGUID)), ("member_guid", .string(member.guid)),
        ])
    }

    private func connectionStatus(_ member: SandboxMember, _ status: SandboxMemberStatus) -> SandboxJSON {
        .object([
            ("action", .string("CHANGED")), ("connection_status", .string(status.connectionStatus)),
            ("connection_status_id", .int(Int64(status.connectionStatusID))),
            ("connection_status_message", .string(SandboxRendering.statusMessage(status.connectionStatus) ?? status.connectionStatus)),
            ("member_guid", .string(member.guid)), ("type", .string("CONNECTION_STATUS")), ("user_guid", .string(member.userGUID)),
        ])
    }
}
