import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Gives every request an id (echoed as `X-Request-Id`) and turns every error into the JSON error
/// shape, so no input can end in a crash or an HTML page.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = BrokerRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let requestID = Self.usableRequestID(request.headers[.requestID]) ?? Self.newRequestID()
        context.requestID = requestID
        context.logger[metadataKey: "request.id"] = .string(requestID)
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            let brokerError = BrokerError(describing: error)
            if brokerError.status.code >= 500 {
                context.logger.error(
                    "Request failed",
                    metadata: ["error.code": "\(brokerError.code)", "error.type": "\(String(reflecting: type(of: error)))"]
                )
            }
            response = brokerError.response(requestID: requestID)
        }
        response.headers[.requestID] = requestID
        return response
    }

    /// A client-sent id is kept when it is short and plain (letters, digits, `-`, `_`, `.`).
    static func usableRequestID(_ value: String?) -> String? {
        guard let value, !value.isEmpty, value.count <= 128,
            value.utf8.allSatisfy({
                $0 < 128 && (Character(UnicodeScalar($0)).isLetter || Character(UnicodeScalar($0)).isNumber || $0 == 45 || $0 == 95 || $0 == 46)
            })
        else { return nil }
        return value
    }

    static func newRequestID() -> String {
        UUID().uuidString.lowercased()
    }
}

extension HTTPField.Name {
    static let requestID = HTTPField.Name("X-Request-Id")!
}
