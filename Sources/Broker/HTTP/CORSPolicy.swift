import HTTPTypes
import Hummingbird

/// CORS for the configured origins only; any other origin gets no CORS headers at all.
struct CORSPolicy: Sendable {
    let allowedOrigins: Set<String>

    /// The request's `Origin` when it is one of the allowed origins.
    func allowedOrigin(of request: Request) -> String? {
        guard let origin = request.headers[.origin], allowedOrigins.contains(origin) else { return nil }
        return origin
    }

    /// Whether the request is a CORS preflight (`OPTIONS` with `Access-Control-Request-Method`).
    static func isPreflight(_ request: Request) -> Bool {
        request.method == .options && request.headers[.accessControlRequestMethod] != nil
    }

    /// The answer to an allowed origin's preflight.
    static func preflightResponse(origin: String) -> Response {
        var headers = HTTPFields()
        headers[.accessControlAllowOrigin] = origin
        headers[.accessControlAllowMethods] = "GET, POST, DELETE"
        headers[.accessControlAllowHeaders] = "Authorization, Content-Type, Accept, Accept-Language, X-Request-Id, Last-Event-ID"
        headers[.accessControlMaxAge] = "600"
        headers[.vary] = "Origin"
        return Response(status: .noContent, headers: headers)
    }

    /// Lets an allowed origin read `response`.
    static func allow(_ origin: String, in response: inout Response) {
        response.headers[.accessControlAllowOrigin] = origin
        response.headers[.accessControlExposeHeaders] = "X-Request-Id, Retry-After"
        response.headers[.vary] = "Origin"
    }
}
