import BrokerCore
import BrokerStore
import Foundation
import HTTPTypes
import Logging
import MXPlatform
import ServiceLifecycle

/// How webhook processing retries and leases.
struct WebhookProcessing: Sendable {
    /// Attempts before a delivery is dead-lettered.
    var maxAttempts: Int
    /// Delay before the first retry; doubled each attempt, with ±50 % jitter.
    var retryBase: Duration
    var retryMax: Duration
    /// How long a claimed delivery stays with one worker before others may take it over.
    var lease: Duration
    /// Deliveries processed at once.
    var concurrency: Int

    /// The delay before retry number `attempt` (1-based).
    func backoff(after attempt: Int) -> TimeInterval {
        let exponential = min(retryMax.timeInterval, retryBase.timeInterval * pow(2, Double(max(0, attempt - 1))))
        return exponential * Double.random(in: 0.5..<1.5)
    }
}

/// Works through the webhook inbox: claims due deliveries, applies them, and records the outcome
/// — processed, ignored, retried later with backoff, or dead after too many attempts.
struct WebhookProcessor: Service, CustomStringConvertible {
    var description: String { "WebhookProcessor" }

    let store: any StoreSchema & WebhookInbox
    let handler: WebhookHandler
    let settings: WebhookProcessing
    let wakeUp: WebhookWakeUp
    let logger: Logger

    /// Starts once the store is migrated: the service starts with the server, whose start-up
    /// applies the migrations.
    func run() async throws {
        guard (try? await cancelWhenGracefulShutdown({ try await store.waitUntilReady() })) != nil else { return }
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            let claimed: [InboxItem]
            do {
                claimed = try await cancelWhenGracefulShutdown {
                    try await store.claimWebhooks(limit: settings.concurrency, lease: settings.lease.timeInterval, now: Date())
                }
            } catch is CancellationError {
                return
            } catch {
                logger.warning("Claiming webhooks failed", metadata: ["error.type": "\(type(of: error))"])
                claimed = []
            }
            guard !claimed.isEmpty else {
                await waitForWork()
                continue
            }
            await withTaskGroup(of: Void.self) { group in
                for item in claimed {
                    group.addTask { await handle(item) }
                }
            }
        }
    }

    /// Sleeps until a delivery is committed, a second passes (retries come due, other replicas
    /// write), or shutdown begins.
    private func waitForWork() async {
        await cancelWhenGracefulShutdown {
            await wakeUp.wait(upTo: .seconds(1))
        }
    }

    private func handle(_ item: InboxItem) async {
        let metadata: Logger.Metadata = [
            "webhook.id": "\(item.id)", "webhook.type": "\(item.delivery.type ?? "?")", "webhook.attempt": "\(item.attempts)",
        ]
        do {
            switch try await handler.process(item.delivery) {
            case .processed:
                try await store.finishWebhook(id: item.id, status: .processed, note: nil, now: Date())
                logger.info("Webhook processed", metadata: metadata)
            case .ignored(let reason):
                try await store.finishWebhook(id: item.id, status: .ignored, note: reason, now: Date())
                logger.info("Webhook ignored", metadata: metadata.merging(["webhook.reason": "\(reason)"]) { $1 })
            }
        } catch {
            let reason = Self.describe(error)
            do {
                if item.attempts >= settings.maxAttempts {
                    try await store.finishWebhook(id: item.id, status: .dead, note: reason, now: Date())
                    logger.error("Webhook dead-lettered", metadata: metadata.merging(["error.reason": "\(reason)"]) { $1 })
                } else {
                    let retryAt = Date().addingTimeInterval(settings.backoff(after: item.attempts))
                    try await store.retryWebhook(id: item.id, error: reason, at: retryAt)
                    logger.warning("Webhook processing failed; will retry", metadata: metadata.merging(["error.reason": "\(reason)"]) { $1 })
                }
            } catch {
                logger.error("Recording a webhook failure failed; its lease will expire", metadata: metadata)
            }
        }
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case let error as MXError: error.description
        case let error as BrokerError: error.code.rawValue
        default: String(describing: type(of: error))
        }
    }
}

/// What processing a delivery came to.
enum WebhookOutcome: Sendable, Equatable {
    case processed
    /// About nothing the broker knows, or of a type it does not act on.
    case ignored(String)
}

/// Applies one MX webhook: every action re-reads the member (or microdeposit) from MX under
/// its own user.
struct WebhookHandler: Sendable {
    let store: any UserStore
    /// Where a microdeposit's news is appended, as no member changes with it.
    let events: any EventLog
    let sync: MemberSync

    /// Webhook types that announce finished data work on a member.
    static let dataTypes: Set<String> = ["AGGREGATION", "BALANCE", "HISTORY", "STATEMENT", "VERIFICATION", "REWARD", "INITIAL_DATA_READY"]

    /// Fields of a webhook that identify rather than describe; left out of event data.
    private static let identifiers: Set<String> = ["user_guid", "user_id", "member_guid", "job_guid", "client_guid", "guid", "action"]

    func process(_ delivery: WebhookDelivery) async throws -> WebhookOutcome {
        guard let body = JSONValue.parse(delivery.body)?.objectValue else {
            return .ignored("body is not a JSON object")
        }
        if let microdeposit = body["micro_deposit"]?.objectValue {
            return try await processMicrodeposit(microdeposit)
        }
        let type = (body["type"]?.stringValue ?? "").uppercased()
        guard let userGUID = body["user_guid"]?.stringValue, Identifier.isValid(userGUID),
            try await store.user(mxUserGUID: userGUID) != nil
        else { return .ignored("unknown user") }
        guard let memberGUID = body["member_guid"]?.stringValue, Identifier.isValid(memberGUID) else {
            return .ignored("no member_guid")
        }
        let completion: DataCompletion?
        switch type {
        case _ where Self.dataTypes.contains(type):
            completion = DataCompletion(
                webhookType: type,
                completedAt: body["completed_at"]?.integerValue,
                details: .object(body.filter { !Self.identifiers.contains($0.key) })
            )
        case "CONNECTION_STATUS":
            completion = nil
        default:
            return .ignored("unhandled type \(type.prefix(40))")
        }
        do {
            _ = try await sync.refresh(memberGUID: memberGUID, mxUserGUID: userGUID, completion: completion)
        } catch let error as BrokerError where error.status == .notFound {
            return .ignored("unknown member")
        }
        return .processed
    }

    /// MX's microdeposit webhook (`{"action", "micro_deposit": {...}}`): the microdeposit is read
    /// again under its user, and its status — never its numbers — announced as `micro_deposit.updated`.
    private func processMicrodeposit(_ fields: [String: JSONValue]) async throws -> WebhookOutcome {
        guard let userGUID = fields["user_guid"]?.stringValue, Identifier.isValid(userGUID),
            try await store.user(mxUserGUID: userGUID) != nil
        else { return .ignored("unknown user") }
        guard let guid = fields["guid"]?.stringValue, Identifier.isValid(guid) else { return .ignored("no micro_deposit guid") }
        let answer: MXResponse
        do {
            answer = try await sync.mx.get(["users", userGUID, "micro_deposits", guid])
        } catch let error as MXError where error.kind == .notFound {
            return .ignored("unknown microdeposit")
        }
        guard let status = JSONValue.parse(answer.body)?.objectValue?["micro_deposit"]?.objectValue?["status"]?.stringValue else {
            throw MXError.invalidResponse
        }
        let payload = BrokerJSON.text(of: ["micro_deposit_guid": guid, "status": status])
        let stored = try await events.appendEvents([NewEvent(kind: EventKind.microdepositUpdated, payload: payload)], mxUserGUID: userGUID)
        if !stored.isEmpty { await sync.changes.changed(mxUserGUID: userGUID) }
        return .processed
    }
}
