import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Answers requests whose headers exceed the configured limit with a JSON 431, then closes.
///
/// The HTTP decoder refuses such requests before any route sees them; this handler, placed
/// just after it, turns its error into the broker's error shape instead of a bare 400.
final class OversizedHeadersHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError, parserError == .headerOverflow else {
            context.fireErrorCaught(error)
            return
        }
        let requestID = RequestID.new()
        let body = ByteBuffer(
            string:
                #"{"error":{"code":"headers_too_large","message":"The request headers are larger than this server accepts.","request_id":"\#(requestID)"}}"#
        )
        let head = HTTPResponse(
            status: .requestHeaderFieldsTooLarge,
            headerFields: [
                .contentType: "application/json", .contentLength: String(body.readableBytes), .connection: "close", .requestID: requestID,
            ]
        )
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.close(promise: nil)
    }
}
