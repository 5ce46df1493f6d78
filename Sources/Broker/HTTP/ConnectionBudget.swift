import HTTPTypes
import NIOCore
import NIOHTTPTypes
import Synchronization

/// How many connections the broker keeps open at once, short of the open-file limit.
///
/// Past the budget a connection is still accepted, but its request is answered with 503
/// `server_busy` and the connection closed, unless it is a health check (`/healthz`,
/// `/readyz`), so an orchestrator still sees the broker alive while it sheds load. The budget
/// leaves half of ``OpenFiles``' reserve free for the store, calls to MX and these refusals;
/// streams stop at the whole reserve. When descriptors do run out, NIO's accept loop backs off
/// and resumes once connections close.
final class ConnectionBudget: Sendable {
    let limit: Int
    private let open = Atomic<Int>(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// The budget for the process's open-file limit.
    convenience init() {
        let files = OpenFiles.limit
        self.init(limit: max(1, files - OpenFiles.reserve(of: files) / 2))
    }

    /// Counts a new connection until `channel` closes; false when it is past the budget.
    func admit(_ channel: any Channel) -> Bool {
        let count = open.wrappingAdd(1, ordering: .relaxed).newValue
        channel.closeFuture.whenComplete { [self] _ in _ = open.wrappingSubtract(1, ordering: .relaxed) }
        return count <= limit
    }
}

/// On a connection past the ``ConnectionBudget``: answers its first request with 503
/// `server_busy` and closes, or lets a health check through, to be answered and closed. A connection that sends no
/// request within ``grace`` is closed, so idle connections past the budget cannot hold the
/// descriptors the budget keeps free.
final class OverBudgetHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    static let grace = TimeAmount.milliseconds(500)
    private static let healthChecks: Set<String> = ["/healthz", "/readyz"]
    private var idleClose: Scheduled<Void>?

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        idleClose = context.eventLoop.scheduleTask(in: Self.grace) { channel.close(promise: nil) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleClose?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = unwrapInboundIn(data) else { return }
        idleClose?.cancel()
        let path = head.path.map { $0.split(separator: "?", maxSplits: 1).first.map(String.init) ?? $0 } ?? ""
        if head.method == .get, Self.healthChecks.contains(path) {
            var check = head
            check.headerFields[.connection] = "close"
            context.fireChannelRead(wrapInboundOut(.head(check)))
            context.pipeline.syncOperations.removeHandler(self, promise: nil)
            return
        }
        let refusal = BrokerError(
            .serviceUnavailable,
            .serverBusy,
            "The broker holds as many connections as it can; try again shortly.",
            headers: [.retryAfter: "5"]
        )
        let (response, body) = refusal.closingAnswer(requestID: RequestID.new())
        context.write(wrapOutboundOut(.head(response)), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }
}
