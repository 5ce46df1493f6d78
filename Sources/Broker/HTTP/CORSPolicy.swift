import BrokerCore
import Foundation
import HTTPTypes
import Hummingbird

/// CORS for the configured origins only; any other origin gets no CORS headers at all.
struct CORSPolicy: Sendable {
    /// Compared by their bytes (``ByteKey``), as a browser sends them.
    private let allowedOrigins: Set<ByteKey>

    init(allowedOrigins: [String]) {
        self.allowedOrigins = Set(allowedOrigins.map(ByteKey.init))
    }

    /// The request's `Origin` when it is one of the allowed origins.
    func allowedOrigin(of request: Request) -> String? {
        guard let origin = request.headers[.origin], allowedOrigins.contains(ByteKey(origin)) else { return nil }
        return origin
    }

    /// Every method the API's routes take, so a browser may call each of them from an allowed origin.
    static let allowedMethods = "GET, POST, PUT, DELETE"

    /// Whether the request is a CORS preflight (`OPTIONS` with `Access-Control-Request-Method`).
    static func isPreflight(_ request: Request) -> Bool {
        request.method == .options && request.headers[.accessControlRequestMethod] != nil
    }

    /// The answer to an allowed origin's preflight.
    static func preflightResponse(origin: String) -> Response {
        var headers = HTTPFields()
        headers[.accessControlAllowOrigin] = origin
        headers[.accessControlAllowMethods] = allowedMethods
        headers[.accessControlAllowHeaders] = "Authorization, Content-Type, Accept, Accept-Language, X-Request-Id, Last-Event-ID"
        headers[.accessControlMaxAge] = "600"
        headers[.vary] = "Origin"
        return Response(status: .noContent, headers: headers)
    }

    /// Lets an allowed origin read `response`, adding `Origin` to what its `Vary` names already
    /// (`Accept-Encoding` on reads), so a cache keeps the answers to each apart.
    static func allow(_ origin: String, in response: inout Response) {
        response.headers[.accessControlAllowOrigin] = origin
        response.headers[.accessControlExposeHeaders] = "X-Request-Id, Retry-After"
        let varies = response.headers[values: .vary].flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        if !varies.contains(where: { $0.caseInsensitiveCompare("Origin") == .orderedSame }) {
            response.headers[.vary] = (varies + ["Origin"]).joined(separator: ", ")
        }
    }
}
