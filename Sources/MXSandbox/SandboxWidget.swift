import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

extension MXSandbox {
    private struct WidgetURLBody: Decodable {
        struct Fields: Decodable {
            let widget_type: String?
            let is_mobile_webview: Bool?
            let ui_message_webview_url_scheme: String?
            let current_member_guid: String?
            let current_institution_code: String?
        }
        let widget_url: Fields
    }

    private struct ConnectForm: Decodable {
        let institution_code: String
        let username: String
        let password: String
    }

    /// `POST /users/{user_guid}/widget_urls`: a single-use URL of the sandbox's widget page.
    func mintWidgetURL<Context: RequestContext>(
        for user: SandboxUser,
        request: Request,
        context: Context,
        mountPath: String
    ) async throws -> SandboxJSON {
        let fields = try await decode(WidgetURLBody.self, from: request, context: context).widget_url
        guard let widgetType = fields.widget_type, !widgetType.isEmpty else {
            throw SandboxFailure(400, "widget_type is required.")
        }
        if let memberGUID = fields.current_member_guid, await state.member(memberGUID, ofUser: user.guid, byIDToo: false) == nil {
            throw SandboxFailure(404, "current_member_guid does not belong to this user.")
        }
        let grant = WidgetGrant(
            userGUID: user.guid,
            expiresAt: Date().addingTimeInterval(Self.seconds(configuration.widgetURLLifetime)),
            widgetType: widgetType,
            isMobileWebview: fields.is_mobile_webview ?? false,
            webviewURLScheme: fields.ui_message_webview_url_scheme ?? "mx",
            currentMemberGUID: fields.current_member_guid,
            currentInstitutionCode: fields.current_institution_code,
            language: Self.primaryLanguage(request.headers[.acceptLanguage])
        )
        let token = await state.grantWidget(grant)
        let base = configuration.publicBaseURL ?? "http://\(request.head.authority ?? "127.0.0.1")\(mountPath)"
        return .object([
            ("widget_url", .object([("type", .string(widgetType)), ("url", .string("\(base)/widget/\(token)")), ("user_id", .string(user.id))]))
        ])
    }

    func addWidgetRoutes<Context: RequestContext>(to group: RouterGroup<Context>, mountPath: String) {
        group.get("widget/:token") { request, context in
            let token = try context.parameters.require("token")
            guard let (session, grant) = await state.redeemWidget(token: token, now: Date()) else {
                return Self.html(
                    status: .notFound,
                    title: "Link expired",
                    body: "<p>This Connect link has expired or was already used. Ask the app for a new one.</p>"
                )
            }
            return Self.html(status: .ok, title: "Connect your bank", body: connectForm(session: session, grant: grant), language: grant.language)
        }
        group.post("widget/sessions/:session/connect") { request, context in
            let session = try context.parameters.require("session")
            guard let grant = await state.widgetSession(session), let user = await state.user(grant.userGUID, byIDToo: false) else {
                return Self.html(status: .notFound, title: "Session ended", body: "<p>This Connect session has ended.</p>")
            }
            var request = request
            let body = try await request.collectBody(upTo: 16 * 1024)
            guard let form = try? URLEncodedFormDecoder().decode(ConnectForm.self, from: String(buffer: body)),
                let institution = SandboxInstitution.named(form.institution_code)
            else {
                return Self.html(
                    status: .badRequest,
                    title: "Connect your bank",
                    body: "<p>Choose an institution and enter your credentials.</p>" + connectForm(session: session, grant: grant)
                )
            }
            let member = await createMember(
                user: user,
                institution: institution,
                username: form.username,
                password: form.password,
                id: nil,
                metadata: nil
            )
            let page = """
                <h1>Connecting to \(Self.escape(institution.name))</h1>
                <p id="member" data-member-guid="\(Self.escape(member.guid))">Your connection has been created and is being verified.</p>
                """
            return Self.html(status: .ok, title: "Connecting", body: page)
        }
    }

    private func connectForm(session: String, grant: WidgetGrant) -> String {
        let options = SandboxInstitution.all.map { institution in
            let selected = institution.code == grant.currentInstitutionCode ? " selected" : ""
            return "<option value=\"\(Self.escape(institution.code))\"\(selected)>\(Self.escape(institution.name))</option>"
        }.joined()
        return """
            <h1>Connect your bank</h1>
            <form method="post" action="sessions/\(Self.escape(session))/connect">
              <label>Institution <select name="institution_code">\(options)</select></label>
              <label>Username <input name="username" autocomplete="off"></label>
              <label>Password <input name="password" type="password" autocomplete="off"></label>
              <button type="submit">Connect</button>
            </form>
            <p class="hint">Sandbox: username <code>\(SandboxInstitution.validUsername)</code>, password <code>\(SandboxInstitution.validPassword)</code>.</p>
            """
    }

    /// The first language tag of an `Accept-Language` value (`fr-CA,fr;q=0.8` → `fr-CA`), else `en`.
    static func primaryLanguage(_ header: String?) -> String {
        let first = header?.split(separator: ",").first?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces) ?? ""
        let plain = !first.isEmpty && first.count <= 35 && first.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        return plain ? first : "en"
    }

    static func html(status: HTTPResponse.Status, title: String, body: String, language: String = "en") -> Response {
        let page = """
            <!doctype html>
            <html lang="\(escape(language))"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title)) · MX sandbox</title>
            <style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem;color:#1d2433}
            label{display:block;margin:.8rem 0}input,select{display:block;width:100%;padding:.5rem;margin-top:.3rem;box-sizing:border-box}
            button{padding:.6rem 1.2rem;background:#2c64e3;color:#fff;border:0;border-radius:6px}.hint{color:#5b6475;font-size:.9rem}</style>
            </head><body>\(body)</body></html>
            """
        return Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: page))
        )
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    static func seconds(_ duration: Duration) -> TimeInterval {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
