import NIOCore
import NIOHTTPTypes

/// Tells the broker that the server has begun to shut down gracefully, as each open connection
/// hears of it.
///
/// The server lets responses in progress finish before it stops, and an event stream's response
/// never finishes on its own. Closing the event hub from here ends every stream at once; a
/// graceful-shutdown handler in each stream would do the same at more than a kilobyte of memory
/// per open stream.
final class ShutdownNotice: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart

    private let onShutdown: @Sendable () -> Void

    init(onShutdown: @escaping @Sendable () -> Void) {
        self.onShutdown = onShutdown
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent { onShutdown() }
        context.fireUserInboundEventTriggered(event)
    }
}
