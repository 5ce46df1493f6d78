import Foundation
import HTTPTypes
import Hummingbird
import MXPlatform
import NIOCore
import NIOFoundationCompat

/// An error answered to a client as `{"error": {"code", "message", "request_id"}}`.
///
/// `code` is stable snake_case for programs; `message` is for people. Neither ever carries a
/// secret, a token or a widget URL.
public struct BrokerError: Error, Sendable {
    public let status: HTTPResponse.Status
    public let code: ErrorCode
    public let message: String
    /// Extra response headers (`Retry-After`, `WWW-Authenticate`).
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, _ code: ErrorCode, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    static func badRequest(_ code: ErrorCode, _ message: String) -> BrokerError {
        BrokerError(.badRequest, code, message)
    }

    static func notFound(_ message: String) -> BrokerError {
        BrokerError(.notFound, .notFound, message)
    }

    static func unauthorized(_ code: ErrorCode, _ message: String) -> BrokerError {
        BrokerError(.unauthorized, code, message, headers: [.wwwAuthenticate: "Bearer"])
    }

    /// The client-facing form of any error thrown while handling a request.
    init(describing error: any Error) {
        switch error {
        case let error as BrokerError:
            self = error
        case let error as MXError:
            self.init(mxError: error)
        case let error as HTTPError:
            self.init(httpError: error)
        case is DecodingError:
            self.init(.badRequest, .malformedJSON, "The request body is not valid JSON for this endpoint.")
        case is ParserErrorHandler.MalformedRequest:
            self.init(.badRequest, .malformedRequest, Self.malformedRequestMessage)
        default:
            self.init(.internalServerError, .internalError, "The broker could not complete this request.")
        }
    }

    /// What a request the HTTP parser refuses is told.
    static let malformedRequestMessage =
        "The request is not valid HTTP/1.1: its request line, headers or body framing (Content-Length, Transfer-Encoding: chunked) could not be read."

    private init(mxError: MXError) {
        switch mxError.kind {
        case .authenticationFailed:
            self.init(.badGateway, .mxAuthFailed, "MX refused the broker's credentials or calling address.")
        case .notFound:
            self.init(.notFound, .notFound, "No such object for this user.")
        case .conflict:
            self.init(.conflict, .mxConflict, "MX reports a conflict: the object exists already or another job is running.")
        case .rejected:
            self.init(.unprocessableContent, .mxRejected, "MX rejected the request as invalid.")
        case .rateLimited:
            let seconds = mxError.retryAfterSeconds ?? 1
            self.init(.serviceUnavailable, .mxRateLimited, "MX is rate limiting the broker; retry later.", headers: [.retryAfter: String(seconds)])
        case .serverError, .unreachable, .invalidResponse:
            self.init(.badGateway, .mxUnavailable, "MX could not serve this request.")
        case .circuitOpen:
            let seconds = mxError.retryAfterSeconds ?? 1
            self.init(
                .serviceUnavailable,
                .mxUnavailable,
                "MX has been failing; the broker is not calling it for now. Retry later.",
                headers: [.retryAfter: String(seconds)]
            )
        case .timeout:
            self.init(.gatewayTimeout, .mxTimeout, "MX did not answer in time.")
        }
    }

    private init(httpError: HTTPError) {
        switch httpError.status {
        case .notFound:
            self.init(.notFound, .notFound, "No such route.")
        case .contentTooLarge:
            self.init(.contentTooLarge, .bodyTooLarge, "The request body is larger than this endpoint accepts.")
        case .methodNotAllowed:
            self.init(.methodNotAllowed, .methodNotAllowed, "This route does not accept that method.")
        case .badRequest:
            self.init(.badRequest, .badRequest, "The request could not be read.")
        default:
            let status = httpError.status
            self.init(status, status.code < 500 ? .badRequest : .internalError, status.reasonPhrase)
        }
    }

    private struct Body: Encodable {
        struct Detail: Encodable {
            let code: ErrorCode
            let message: String
            let request_id: String
        }
        let error: Detail
    }

    /// The JSON response for this error.
    func response(requestID: String) -> Response {
        let (head, body) = answer(requestID: requestID)
        return Response(status: head.status, headers: head.headerFields, body: .init(byteBuffer: body))
    }

    /// The same answer as a response head and body, for a channel handler that answers before
    /// any route, and then closes the connection (`Connection: close`, `Content-Length` set).
    func closingAnswer(requestID: String) -> (head: HTTPResponse, body: ByteBuffer) {
        var (head, body) = answer(requestID: requestID)
        head.headerFields[.contentLength] = String(body.readableBytes)
        head.headerFields[.connection] = "close"
        head.headerFields[.requestID] = requestID
        return (head, body)
    }

    private func answer(requestID: String) -> (head: HTTPResponse, body: ByteBuffer) {
        let body = Body(error: .init(code: code, message: message, request_id: requestID))
        var headers = self.headers
        headers.append(contentsOf: JSONAnswer.headers(.never))
        return (HTTPResponse(status: status, headerFields: headers), ByteBuffer(data: BrokerJSON.data(of: body)))
    }
}
