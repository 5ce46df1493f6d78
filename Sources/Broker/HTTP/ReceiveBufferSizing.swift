import NIOCore
import NIOHTTPTypes

/// Starts each connection with a 1 KB receive buffer instead of NIO's 2 KB.
///
/// A connection keeps its receive buffer for as long as it is open, and an event stream reads
/// one request in hours: at 10,000 streams the difference is 10 MB. The buffer still grows for
/// connections whose reads fill it.
final class ReceiveBufferSizing: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart

    static let allocator = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 1024, maximum: 65536)

    func handlerAdded(context: ChannelHandlerContext) {
        try? context.channel.syncOptions?.setOption(ChannelOptions.recvAllocator, value: Self.allocator)
    }
}
