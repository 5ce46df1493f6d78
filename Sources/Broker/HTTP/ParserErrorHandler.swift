import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Answers requests the HTTP parser refuses with the broker's JSON error shape, then closes:
/// headers over the configured limit with 431 `headers_too_large`, anything else that is not
/// HTTP/1.1 (a malformed request line or header, conflicting lengths, a bad chunk) with 400
/// `malformed_request`.
///
/// The decoder refuses such requests before any route sees them, and Hummingbird would answer a
/// bare 400. Answers keep the order of their requests: a parse error in the body of the request
/// being read reaches its route as ``MalformedRequest`` (which it answers with the same 400,
/// ``BrokerError/init(describing:)``), and one in a request pipelined behind unanswered ones is
/// answered once they are.
final class ParserErrorHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// What a route reading a body the parser refused is told.
    struct MalformedRequest: Error {}

    /// Requests whose head came in and whose answer has not been written to its end.
    private var unanswered = 0
    /// Whether a request's head came in and its body has not ended yet.
    private var bodyOpen = false
    /// A parse error waiting for the answers of the requests before it.
    private var waiting: HTTPParserError?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            unanswered += 1
            bodyOpen = true
        case .end:
            bodyOpen = false
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data) else {
            context.write(data, promise: promise)
            return
        }
        unanswered = max(0, unanswered - 1)
        context.write(data, promise: promise)
        if unanswered == 0, let waiting {
            self.waiting = nil
            answer(waiting, context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        if unanswered == 0 {
            answer(parserError, context: context)
        } else if bodyOpen {
            context.fireErrorCaught(MalformedRequest())
        } else {
            waiting = waiting ?? parserError
        }
    }

    private func answer(_ error: HTTPParserError, context: ChannelHandlerContext) {
        let refusal =
            error == .headerOverflow
            ? BrokerError(.requestHeaderFieldsTooLarge, .headersTooLarge, "The request headers are larger than this server accepts.")
            : BrokerError(.badRequest, .malformedRequest, BrokerError.malformedRequestMessage)
        let (head, body) = refusal.closingAnswer(requestID: RequestID.new())
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.close(promise: nil)
    }
}
