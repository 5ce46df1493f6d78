import BrokerStore
import HTTPTypes
import Hummingbird
import MXPlatform

/// A statement's PDF, streamed from MX to the caller as it arrives.
///
/// It is read under the caller's own MX user like every read, never cached (a statement shows
/// a whole month of someone's money), and passed on without being held whole: a large statement
/// costs the broker a few buffers, not its size.
struct StatementPDFController {
    let provisioner: UserProvisioner
    let mx: MXClient
    let products: EnabledProducts

    func addRoutes(to routes: UserRoutes) {
        routes.spending(.reads).get("members/:member_guid/statements/{statement_guid}.pdf", use: download)
    }

    @Sendable func download(_ request: Request, context: BrokerRequestContext) async throws -> Response {
        try products.check([.statements])
        let (user, member) = try await context.callerAndMember(provisioner)
        guard let statement = context.parameters.get("statement_guid"), Identifier.isValid(statement) else {
            throw BrokerError.notFound("No such statement for this user.")
        }
        let pdf = try await mx.downloadPDF(["users", user.mxUserGUID, "members", member, "statements", statement + ".pdf"])
        var headers: HTTPFields = [
            .contentType: "application/pdf",
            .contentDisposition: "attachment; filename=\"\(statement).pdf\"",
            .cacheControl: "private, no-store",
        ]
        if let length = pdf.contentLength { headers[.contentLength] = String(length) }
        return Response(status: .ok, headers: headers, body: ResponseBody(asyncSequence: pdf.body))
    }
}
