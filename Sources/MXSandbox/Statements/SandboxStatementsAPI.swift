import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The statements a `fetch_statements` job found: listed, read, and downloaded as PDFs.
extension MXSandbox {
    /// MX's content type for a statement's PDF, in both API versions.
    static let pdfContentType = "application/vnd.mx.api.v1+pdf"

    func addStatementRoutes<Context: RequestContext>(to group: RouterGroup<Context>) {
        group.get("users/:user/members/:member/statements") { request, context in
            try await api(request, context) { version in
                let (user, member) = try await member(context, version, byGUIDOnly: true)
                let query = request.uri.queryParameters
                let page = SandboxPage(page: query.get("page"), recordsPerPage: query.get("records_per_page"), maximum: 1000)
                    .slice(statements(of: member))
                let render = rendering(version)
                return .object([("statements", .array(page.items.map { render.statement($0, user: user) })), ("pagination", page.pagination)])
            }
        }
        // The router takes `STA-….pdf` as the statement parameter, so one route serves both.
        group.get("users/:user/members/:member/statements/:statement") { request, context in
            let identifier = try context.parameters.require("statement")
            if identifier.hasSuffix(".pdf") {
                return try await pdf(request, context, statementGUID: String(identifier.dropLast(4)))
            }
            return try await api(request, context) { version in
                let (user, member) = try await member(context, version, byGUIDOnly: true)
                return .object([("statement", rendering(version).statement(try statement(identifier, of: member), user: user))])
            }
        }
    }

    private func pdf<Context: RequestContext>(_ request: Request, _ context: Context, statementGUID: String) async throws -> Response {
        var pdf = Data()
        let answer = try await api(request, context) { version in
            let (_, member) = try await member(context, version, byGUIDOnly: true)
            pdf = try statement(statementGUID, of: member).pdf
            return .null
        }
        guard answer.status == .ok else { return answer }
        return Response(
            status: .ok,
            headers: [.contentType: Self.pdfContentType, .contentLength: String(pdf.count)],
            body: .init(byteBuffer: ByteBuffer(bytes: pdf))
        )
    }

    /// The member's statements, once a fetch has completed.
    func statements(of member: SandboxMember) -> [SandboxStatement] {
        guard let fetchedAt = SandboxMemberStatus(member: member, now: Date(), delay: delay).lastSuccess(of: .statementFetch) else { return [] }
        return SandboxStatements.statements(of: accounts(of: member), fetchedAt: fetchedAt)
    }

    private func statement(_ guid: String, of member: SandboxMember) throws -> SandboxStatement {
        guard let found = statements(of: member).first(where: { $0.guid == guid }) else { throw SandboxFailure(404, "Statement not found.") }
        return found
    }
}

extension SandboxRendering {
    /// MX's `StatementResponse` (the same in both versions).
    func statement(_ statement: SandboxStatement, user: SandboxUser) -> SandboxJSON {
        let fetched = SandboxClock.isoText(statement.fetchedAt)
        return .object([
            ("account_guid", .string(statement.account.guid)), ("content_hash", .string(statement.contentHash)),
            ("created_at", .string(fetched)), ("guid", .string(statement.guid)), ("member_guid", .string(statement.account.member.guid)),
            ("updated_at", .string(fetched)),
            ("uri", .string("/users/\(user.guid)/members/\(statement.account.member.guid)/statements/\(statement.guid).pdf")),
            ("user_guid", .string(user.guid)),
        ])
    }
}
