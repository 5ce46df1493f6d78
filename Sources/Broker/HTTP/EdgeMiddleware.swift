import Hummingbird
import Logging

/// What every request passes through: a request id, errors turned into the JSON error shape (so
/// no input can end in a crash or an HTML page), CORS for the allowed origins, the request
/// metrics and the access log line.
///
/// It is one middleware rather than one per concern because each middleware is an async frame
/// on the connection's task, and that task keeps the memory of its deepest call for as long as
/// the connection lives: an open event stream holds it for hours.
struct EdgeMiddleware: RouterMiddleware {
    typealias Context = BrokerRequestContext

    let edge: Edge

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        var context = context
        let caller = CallerNote()
        context.caller = caller
        let requestID = Edge.requestID(of: request)
        context.requestID = requestID
        context.logger[metadataKey: "request.id"] = .string(requestID)
        let origin = edge.cors.allowedOrigin(of: request)
        var response: Response
        if let origin, CORSPolicy.isPreflight(request) {
            response = CORSPolicy.preflightResponse(origin: origin)
        } else if let coding = request.headers[.transferEncoding], coding.trimmingOptionalWhitespace.lowercased() != "chunked" {
            // The parser takes `gzip, chunked` as chunked; the broker decodes no other coding, so
            // it refuses the body rather than read it as something it is not.
            response = BrokerError.badRequest(.unsupportedTransferEncoding, "Only Transfer-Encoding: chunked is accepted.")
                .response(requestID: requestID)
        } else {
            do {
                response = try await next(request, context)
            } catch {
                response = Self.errorResponse(error, requestID: requestID, logger: context.logger)
            }
        }
        edge.finish(
            &response,
            to: request,
            route: context.endpointPath ?? "NotFound",
            requestID: requestID,
            origin: origin,
            started: started,
            subjectHash: caller.subjectHash,
            logger: context.logger
        )
        return response
    }

    private static func errorResponse(_ error: any Error, requestID: String, logger: Logger) -> Response {
        let brokerError = BrokerError(describing: error)
        if brokerError.status.code >= 500 {
            // A 503 is the broker shedding load or waiting for MX or the store, which its
            // metrics show; anything else past 500 is a fault to look at.
            logger.log(
                level: brokerError.status == .serviceUnavailable ? .warning : .error,
                "Request failed",
                metadata: ["error.code": "\(brokerError.code.rawValue)", "error.type": "\(String(reflecting: type(of: error)))"]
            )
        }
        return brokerError.response(requestID: requestID)
    }
}

/// The part of the edge every answer gets, whichever way it was made (router or
/// ``CacheHitHandler``): the request id echoed, CORS, the request metrics and the access log.
struct Edge: Sendable {
    let cors: CORSPolicy
    let metrics: BrokerMetrics

    /// The client's `X-Request-Id` when usable, else a new one.
    static func requestID(of request: Request) -> String {
        RequestID.usable(request.headers[.requestID]) ?? RequestID.new()
    }

    /// Adds the request id and CORS headers to `response`, and counts and logs the request.
    func finish(
        _ response: inout Response,
        to request: Request,
        route: String,
        requestID: String,
        origin: String?,
        started: ContinuousClock.Instant,
        subjectHash: String?,
        logger: Logger
    ) {
        response.headers[.requestID] = requestID
        if let origin { CORSPolicy.allow(origin, in: &response) }
        let duration = ContinuousClock.now - started
        metrics.recordRequest(route: route, method: request.method.rawValue, status: Int(response.status.code), duration: duration)
        AccessLog.write(request, route: route, response: response, duration: duration, subjectHash: subjectHash, logger: logger)
    }
}
