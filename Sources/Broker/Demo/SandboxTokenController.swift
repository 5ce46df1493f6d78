import BrokerCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat

/// `POST /v1/sandbox/token` (sandbox mode only): a test token for `{"sub": "alice"}`, valid one
/// hour; `email`, `given_name` and `family_name` in the body become claims of the token too.
struct SandboxTokenController {
    let signer: DevTokenSigner
    let maxBodyBytes: Int

    func addRoutes(to group: RouterGroup<BrokerRequestContext>) {
        group.post("token") { request, context in
            let body = try await JSONBody.read(request, limit: maxBodyBytes)
            guard let subject = body["sub"]?.stringValue, !subject.isEmpty, subject.utf8.count <= 255 else {
                throw BrokerError.badRequest(.invalidSubject, "Send {\"sub\": \"<app user id>\"}.")
            }
            var claims: [String: String] = [:]
            for name in ["email", "given_name", "family_name"] {
                if let value = body[name]?.stringValue, !value.isEmpty, value.utf8.count <= 255 { claims[name] = value }
            }
            let lifetime: TimeInterval = 3600
            let token = try await signer.token(subject: subject, lifetime: lifetime, claims: claims)
            return JSONAnswer.response(IssuedToken(token: token, token_type: "Bearer", expires_in: Int(lifetime)), caching: .never)
        }
    }
}

/// A development token, as OAuth token endpoints answer.
private struct IssuedToken: Encodable {
    let token: String
    let token_type: String
    let expires_in: Int
}
