import BrokerCore
import BrokerStore
import Foundation
import Logging
import ServiceLifecycle

/// Deletes relayed widget events, stream events and audit entries past their retention, hourly.
struct RetentionService: Service, CustomStringConvertible {
    var description: String { "RetentionService" }

    let store: any StoreSchema & EventLog & AuditLog
    let retention: StoreSettings.Retention
    let logger: Logger

    /// The first pass waits for the store's migrations, then a minute, so start-up comes first.
    func run() async throws {
        guard (try? await cancelWhenGracefulShutdown({ try await store.waitUntilReady() })) != nil else { return }
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(60)) }
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            let now = Date()
            do {
                let removed =
                    try await store.prune(
                        widgetEventsBefore: now.addingTimeInterval(-retention.widgetEvents.timeInterval),
                        eventsBefore: now.addingTimeInterval(-retention.events.timeInterval)
                    ) + store.pruneAudit(before: now.addingTimeInterval(-retention.audit.timeInterval))
                if removed > 0 { logger.info("Pruned old events", metadata: ["store.rows_removed": "\(removed)"]) }
            } catch {
                logger.warning("Pruning old events failed", metadata: ["error.type": "\(type(of: error))"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(3600)) }
        }
    }
}
