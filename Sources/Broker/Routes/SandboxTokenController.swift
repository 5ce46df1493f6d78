import Foundation
import HTTPTypes
import Hummingbird
import MXPlatform
import NIOCore
import NIOFoundationCompat

/// `POST /v1/sandbox/token` (sandbox mode only): a test token for `{"sub": "alice"}`, valid one hour.
struct SandboxTokenController {
    let signer: DevTokenSigner
    let maxBodyBytes: Int

    func addRoutes(to group: RouterGroup<BrokerRequestContext>) {
        group.post("token") { request, context in
            let body = try await JSONBody.read(request, limit: maxBodyBytes)
            guard let subject = body["sub"]?.stringValue, !subject.isEmpty, subject.utf8.count <= 255 else {
                throw BrokerError.badRequest("invalid_subject", "Send {\"sub\": \"<app user id>\"}.")
            }
            let lifetime: TimeInterval = 3600
            let token = try await signer.token(subject: subject, lifetime: lifetime)
            let answer = try JSONEncoder().encode(["token": token, "token_type": "Bearer", "expires_in": String(Int(lifetime))])
            return Response(
                status: .ok,
                headers: [.contentType: "application/json", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(data: answer))
            )
        }
    }
}
