import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers cached reads on the connection's event loop through a ``CacheHitResponder``, and
/// passes every other request on to the router, keeping answers in the order requests came.
///
/// It sits after Hummingbird's connection-state handler, so the requests it answers count for
/// the idle timeout and for closing the connection when the server shuts down.
final class CacheHitHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let responder: CacheHitResponder
    /// Requests passed on to the router whose answers have not ended yet. While there is one,
    /// every request is passed on, so that no answer overtakes an earlier one.
    private var routerRequests = 0
    /// The head of a request that may be answered here, held until the request's end.
    private var held: HTTPRequest?
    private var needsFlush = false

    init(responder: CacheHitResponder) {
        self.responder = responder
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            if routerRequests == 0, responder.mayAnswer(head) {
                held = head
            } else {
                passOn(head, context: context)
            }
        case .body:
            if let head = held.take() { passOn(head, context: context) }
            context.fireChannelRead(data)
        case .end:
            if let head = held.take() {
                if let answer = responder.answer(head) {
                    context.write(wrapOutboundOut(.head(answer.head)), promise: nil)
                    if let body = answer.body { context.write(wrapOutboundOut(.body(body)), promise: nil) }
                    context.write(wrapOutboundOut(.end(nil)), promise: nil)
                    needsFlush = true
                    return
                }
                passOn(head, context: context)
            }
            context.fireChannelRead(data)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if needsFlush {
            needsFlush = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), routerRequests > 0 { routerRequests -= 1 }
        context.write(data, promise: promise)
    }

    private func passOn(_ head: HTTPRequest, context: ChannelHandlerContext) {
        routerRequests += 1
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }
}
