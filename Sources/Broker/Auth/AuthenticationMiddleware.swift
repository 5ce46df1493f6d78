import HTTPTypes
import Hummingbird
import Logging

/// Requires `Authorization: Bearer <JWT>` and puts the token's subject on the context.
struct AuthenticationMiddleware: UserRouteStep {
    typealias Context = BrokerRequestContext

    let verifier: TokenVerifier
    let hasher: SubjectHasher

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else {
            throw BrokerError.unauthorized(.missingToken, "A bearer token is required (Authorization: Bearer <token>).")
        }
        guard let token = Self.bearerToken(in: header) else {
            throw BrokerError.unauthorized(.missingToken, "Use the Bearer scheme: Authorization: Bearer <token>.")
        }
        var context = context
        let caller = try await verifier.caller(of: token)
        let hash = hasher.hash(caller.subject)
        context.subject = caller.subject
        context.profile = caller.profile
        context.caller?.record(subjectHash: hash)
        context.logger[metadataKey: "user.hash"] = .string(hash)
        return try await next(request, context)
    }

    /// Early, only a token verified before is known; any other goes to the router to be verified.
    func admitEarly(_ request: Request, caller: inout EarlyCaller) -> Bool {
        guard let header = request.headers[.authorization], let token = Self.bearerToken(in: header),
            let verified = verifier.rememberedCaller(of: token)
        else { return false }
        caller.subject = verified.subject
        caller.subjectHash = hasher.hash(verified.subject)
        return true
    }

    /// The token of an `Authorization` header value in the Bearer scheme; `nil` for any other.
    static func bearerToken(in header: String) -> String? {
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return String(parts[1].trimmingOptionalWhitespace)
    }
}
