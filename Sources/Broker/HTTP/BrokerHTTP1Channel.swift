import HummingbirdCore
import Logging
import NIOCore

/// Hummingbird's HTTP/1 connection, with a ``CacheHitHandler`` in front of the router when
/// cached reads are answered early, and an ``OverBudgetHandler`` on a connection past the
/// ``ConnectionBudget``.
struct BrokerHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let base: HTTP1Channel
    let cacheHits: CacheHitResponder?
    let budget: ConnectionBudget

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let admitted = budget.admit(channel)
        return base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            let connectionState = try pipeline.handler(type: HTTPConnectionStateHandler.self)
            if let cacheHits {
                try pipeline.addHandler(CacheHitHandler(responder: cacheHits), position: .after(connectionState))
            }
            if !admitted {
                try pipeline.addHandler(OverBudgetHandler(), position: .after(connectionState))
            }
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
