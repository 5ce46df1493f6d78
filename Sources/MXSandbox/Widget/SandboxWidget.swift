import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat

/// The sandbox's Connect widget: widget URLs, the page they open, and the JSON session API the
/// page drives. Every session call answers with the widget events the page must emit to its
/// host, so a test can walk the same flow over HTTP and receive the same events.
extension MXSandbox {
    private struct WidgetURLBody: Decodable {
        struct Fields: Decodable {
            let widget_type: String?
            let is_mobile_webview: Bool?
            let ui_message_webview_url_scheme: String?
            let current_member_guid: String?
            let current_institution_code: String?
            let client_redirect_url: String?
            let oauth_referral_source: String?
            let mode: String?
            let data_request: DataRequest?
            let include_identity: Bool?
            let current_microdeposit_guid: String?
        }
        struct DataRequest: Decodable {
            let products: [String]?
        }
        let widget_url: Fields

        /// The premium jobs a connection in this widget runs before it is reported connected:
        /// verification in MX's `verification` mode or for `account_verification`, then
        /// identification for `include_identity` or `identity_verification`.
        var jobs: [SandboxJob.Kind] {
            let fields = widget_url
            let products = Set(fields.data_request?.products ?? [])
            let modes = Set((fields.mode ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            var jobs: [SandboxJob.Kind] = []
            if modes.contains("verification") || products.contains(SandboxProduct.accountVerification.rawValue) { jobs.append(.verification) }
            if fields.include_identity == true || products.contains(SandboxProduct.identityVerification.rawValue) { jobs.append(.identification) }
            return jobs
        }
    }

    /// `POST /users/{user_guid}/widget_urls`: a single-use URL of the sandbox's widget page.
    /// MX's widget types (v20250224 `WidgetResponse.type`).
    static let widgetTypes: Set<String> = [
        "accounts_widget", "mini_accounts_widget", "actionable_integration_widget", "budgets_widget", "mini_budgets_widget",
        "cash_flow_widget", "mini_cash_flow_widget", "connect_widget", "connections_widget", "debts_widget", "finstrong_widget",
        "mini_finstrong_widget", "goals_widget", "help_widget", "master_widget", "money_dashboard_widget", "net_worth_widget",
        "mini_net_worth_widget", "notifications_settings_widget", "recurringtransactions_widget", "mini_recurringtransactions_widget",
        "settings_widget", "spending_widget", "mini_spending_widget", "spending_plan_widget", "mini_spending_plan_widget",
        "transaction_rules_widget", "transactions_widget", "trends_widget", "mini_trends_widget",
    ]

    func mintWidgetURL<Context: RequestContext>(
        for user: SandboxUser,
        request: Request,
        context: Context,
        mountPath: String
    ) async throws -> SandboxJSON {
        let body = try await decode(WidgetURLBody.self, from: request, context: context)
        let fields = body.widget_url
        guard let widgetType = fields.widget_type, !widgetType.isEmpty else {
            throw SandboxFailure(400, "widget_type is required.")
        }
        guard Self.widgetTypes.contains(widgetType) else {
            throw SandboxFailure(400, "widget_type must be one of MX's widget types, such as connect_widget.")
        }
        if let memberGUID = fields.current_member_guid, await state.member(memberGUID, ofUser: user.guid, byIDToo: false) == nil {
            throw SandboxFailure(404, "current_member_guid does not belong to this user.")
        }
        if let guid = fields.current_microdeposit_guid, await state.microdeposit(guid, ofUser: user.guid) == nil {
            throw SandboxFailure(404, "current_microdeposit_guid does not belong to this user.")
        }
        let isMobile = fields.is_mobile_webview ?? false
        let grant = WidgetGrant(
            userGUID: user.guid,
            expiresAt: Date().addingTimeInterval(Self.seconds(configuration.widgetURLLifetime)),
            widgetType: widgetType,
            isMobileWebview: isMobile,
            webviewURLScheme: fields.ui_message_webview_url_scheme ?? "mx",
            currentMemberGUID: fields.current_member_guid,
            currentInstitutionCode: fields.current_institution_code,
            clientRedirectURL: fields.client_redirect_url,
            oauthReferralSource: fields.oauth_referral_source ?? (isMobile ? "APP" : "BROWSER"),
            language: Self.primaryLanguage(request.headers[.acceptLanguage]),
            jobs: body.jobs,
            currentMicrodepositGUID: fields.current_microdeposit_guid
        )
        let token = await state.grantWidget(grant)
        return .object([
            (
                "widget_url",
                .object([
                    ("type", .string(widgetType)), ("url", .string("\(publicBase(request, mountPath))/widget/\(token)")),
                    ("user_id", .string(user.id)),
                ])
            )
        ])
    }

    /// Where browsers reach the sandbox: the configured public URL, else the address called.
    func publicBase(_ request: Request, _ mountPath: String) -> String {
        configuration.publicBaseURL ?? "http://\(request.head.authority ?? "127.0.0.1")\(mountPath)"
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
            let page = try await SandboxWidgetPage(
                session: session,
                grant: grant,
                initialStep: initialStep(grant),
                targetOrigin: Self.origin(of: request.headers[.referer]),
                pollMilliseconds: max(250, min(1000, Int(delay * 250)))
            )
            return Self.html(status: .ok, title: "Connect your bank", body: page.body, language: grant.language)
        }
        group.post("widget/sessions/:session/connect") { request, context in
            try await plainFormConnect(request, context)
        }
        group.post("widget/sessions/:session/search") { request, context in
            try await widgetCall(request, context) { session, grant, body in
                let query = body["query"] as? String ?? ""
                let matches = SandboxInstitution.all.filter {
                    query.isEmpty || $0.name.localizedCaseInsensitiveContains(query) || $0.code.contains(query.lowercased())
                }
                let events = WidgetEventFactory(grant: grant, session: session)
                return [
                    ("institutions", .array(matches.map { $0.json(.v20250224) })),
                    ("events", .array([events.make("mx/connect/institutionSearch", [("query", .string(query))])])),
                ]
            }
        }
        group.post("widget/sessions/:session/select") { request, context in
            try await widgetCall(request, context) { session, grant, body in
                let institution = try Self.institution(body["institution_code"])
                let events = WidgetEventFactory(grant: grant, session: session)
                return [
                    ("institution", institution.json(.v20250224)), ("credentials", .array(institution.credentials.map(\.json))),
                    ("step", .string(Self.step(after: institution, grant: grant))),
                    (
                        "events",
                        .array([
                            events.make(
                                "mx/connect/selectedInstitution",
                                [
                                    ("code", .string(institution.code)), ("guid", .string(institution.guid)), ("name", .string(institution.name)),
                                    ("url", .string(institution.url)),
                                ]
                            ),
                            events.stepChange(from: "search", to: Self.step(after: institution, grant: grant)),
                        ])
                    ),
                ]
            }
        }
        group.post("widget/sessions/:session/members") { request, context in
            try await widgetCall(request, context) { session, grant, body in
                try await createWidgetMember(session: session, grant: grant, body: body, base: publicBase(request, mountPath))
            }
        }
        group.get("widget/sessions/:session/members/:member") { request, context in
            try await widgetCall(request, context) { session, grant, _ in
                let member = try await sessionMember(context, grant: grant)
                return await progress(of: member, session: session, grant: grant)
            }
        }
        group.post("widget/sessions/:session/members/:member/mfa") { request, context in
            try await widgetCall(request, context) { session, grant, body in
                let member = try await sessionMember(context, grant: grant)
                guard SandboxMemberStatus(member: member, now: Date(), delay: delay).isChallenged else {
                    throw SandboxFailure(409, "This connection is not waiting for MFA answers.")
                }
                let answers = (body["answers"] as? [String: Any] ?? [:]).compactMapValues { $0 as? String }
                _ = await state.answerChallenges(member.guid, isRight: SandboxChallenge.areRight(answers), now: Date(), delay: delay)
                webhooks.watch(memberGUID: member.guid, after: delay)
                let events = WidgetEventFactory(grant: grant, session: session)
                return [
                    (
                        "events",
                        .array([
                            events.make("mx/connect/submitMFA", [("member_guid", .string(member.guid))]),
                            events.stepChange(from: "mfa", to: "connecting"),
                        ])
                    )
                ]
            }
        }
        group.post("widget/sessions/:session/done") { request, context in
            try await widgetCall(request, context) { session, grant, _ in
                [("events", .array([WidgetEventFactory(grant: grant, session: session).make("mx/connect/connected/primaryAction")]))]
            }
        }
        group.get("oauth/:member") { _, context in
            guard let member = await state.member(guid: try context.parameters.require("member")), let institution = member.institution,
                institution.isOAuth
            else {
                return Self.html(status: .notFound, title: "Not found", body: "<p>This authorization request does not exist.</p>")
            }
            let body = """
                <h1>\(Self.escape(institution.name))</h1>
                <p>An app asks to read your accounts and transactions at \(Self.escape(institution.name)).</p>
                <form method="post" action="\(Self.escape(member.guid))/authorize"><button type="submit" id="authorize">Authorize</button></form>
                """
            return Self.html(status: .ok, title: "Authorize", body: body)
        }
        group.post("oauth/:member/authorize") { _, context in
            guard let member = await state.authorizeOAuth(try context.parameters.require("member"), now: Date()) else {
                return Self.html(status: .notFound, title: "Not found", body: "<p>This authorization request does not exist.</p>")
            }
            webhooks.watch(memberGUID: member.guid, after: delay)
            if let returnURL = member.oauthReturnURL {
                let separator = returnURL.contains("?") ? "&" : "?"
                let location = "\(returnURL)\(separator)status=success&member_guid=\(member.guid)"
                return Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
            }
            return Self.html(status: .ok, title: "Authorized", body: "<h1>Authorized</h1><p>You can close this window and return to the app.</p>")
        }
    }

    // MARK: Session steps

    private func createWidgetMember(session: String, grant: WidgetGrant, body: [String: Any], base: String) async throws -> [(String, SandboxJSON)] {
        let institution = try Self.institution(body["institution_code"])
        let events = WidgetEventFactory(grant: grant, session: session)
        let username = body["username"] as? String ?? ""
        let password = body["password"] as? String ?? ""
        guard let user = await state.user(grant.userGUID, byIDToo: false) else { throw SandboxFailure(404, "This session's user no longer exists.") }
        if !institution.isOAuth, username.isEmpty || password.isEmpty {
            let error = events.make(
                "mx/connect/createMemberError",
                [("institution_guid", .string(institution.guid)), ("institution_code", .string(institution.code))]
            )
            throw SandboxFailure(400, "Enter your username and password.", events: [error])
        }
        let returnURL = grant.oauthReferralSource == "APP" ? grant.clientRedirectURL ?? "\(grant.webviewURLScheme)://oauth_complete" : nil
        let member = try await createMember(
            user: user,
            institution: institution,
            username: username,
            password: password,
            id: nil,
            metadata: nil,
            oauthReturnURL: returnURL
        )
        var emitted: [SandboxJSON] = []
        var extra: [(String, SandboxJSON)] = []
        if institution.isOAuth {
            let url = "\(base)/oauth/\(member.guid)"
            emitted.append(events.make("mx/connect/oauthRequested", [("url", .string(url)), ("member_guid", .string(member.guid))]))
            extra.append(("oauth_window_uri", .string(url)))
        } else {
            emitted.append(
                events.make(
                    "mx/connect/enterCredentials",
                    [("institution", .object([("code", .string(institution.code)), ("guid", .string(institution.guid))]))]
                )
            )
            emitted.append(events.stepChange(from: "enterCreds", to: "connecting"))
        }
        let status = SandboxMemberStatus(member: member, now: Date(), delay: delay)
        return [("member", Self.progressJSON(member, status))] + extra + [("events", .array(emitted))]
    }

    /// A member's state for the widget, with the events its change since the last look warrants.
    private func progress(of found: SandboxMember, session: String, grant: WidgetGrant) async -> [(String, SandboxJSON)] {
        let member = await startRequestedJob(on: found, grant: grant)
        let status = SandboxMemberStatus(member: member, now: Date(), delay: delay)
        let report = await state.report(session: session, member: member.guid, status: status)
        let events = WidgetEventFactory(grant: grant, session: session)
        var emitted: [SandboxJSON] = []
        if report.statusIsNew {
            emitted.append(
                events.make(
                    "mx/connect/memberStatusUpdate",
                    [("member_guid", .string(member.guid)), ("connection_status", .int(Int64(status.connectionStatusID)))]
                )
            )
            if ["DENIED", "REJECTED"].contains(status.connectionStatus) {
                emitted.append(
                    events.make(
                        "mx/connect/memberError",
                        [("member", .object([("guid", .string(member.guid)), ("connection_status", .int(Int64(status.connectionStatusID)))]))]
                    )
                )
            }
            if status.isChallenged { emitted.append(events.stepChange(from: "connecting", to: "mfa")) }
        }
        if report.connectedNow {
            emitted.append(events.stepChange(from: "connecting", to: "connected"))
            emitted.append(events.make("mx/connect/memberConnected", [("member_guid", .string(member.guid))]))
        }
        return [("member", Self.progressJSON(member, status)), ("events", .array(emitted))]
    }

    /// Once the member is connected and idle, starts the first job the widget asked for that has
    /// not succeeded on it and its institution offers; MX reports the member connected only when
    /// every requested job is done.
    private func startRequestedJob(on member: SandboxMember, grant: WidgetGrant) async -> SandboxMember {
        let status = SandboxMemberStatus(member: member, now: Date(), delay: delay)
        guard status.connectionStatus == "CONNECTED", status.runningJob == nil,
            let next = grant.jobs.first(where: { status.lastSuccess(of: $0) == nil && member.institution?.products.contains($0.product) == true })
        else { return member }
        guard let started = try? await state.startJob(next, on: member.guid, now: Date(), delay: delay) else { return member }
        webhooks.watch(memberGUID: member.guid, after: delay)
        return started.member
    }

    private static func progressJSON(_ member: SandboxMember, _ status: SandboxMemberStatus) -> SandboxJSON {
        .object([
            ("guid", .string(member.guid)), ("institution_code", .string(member.institutionCode)),
            ("connection_status", .string(status.connectionStatus)), ("connection_status_id", .int(Int64(status.connectionStatusID))),
            ("is_being_aggregated", .bool(status.isBeingAggregated)),
            ("challenges", .array(status.isChallenged ? SandboxInstitution.challenges.map(\.json) : [])),
        ])
    }

    private func initialStep(_ grant: WidgetGrant) async -> String {
        if grant.currentMicrodepositGUID != nil { return "microdeposits" }
        if let guid = grant.currentMemberGUID, let member = await state.member(guid, ofUser: grant.userGUID, byIDToo: false) {
            let status = SandboxMemberStatus(member: member, now: Date(), delay: delay)
            return status.isChallenged ? "mfa" : status.connectionStatus == "CONNECTED" ? "connected" : "enterCreds"
        }
        return grant.currentInstitutionCode.flatMap(SandboxInstitution.named) != nil ? "enterCreds" : "search"
    }

    private func sessionMember<Context: RequestContext>(_ context: Context, grant: WidgetGrant) async throws -> SandboxMember {
        guard let member = await state.member(try context.parameters.require("member"), ofUser: grant.userGUID, byIDToo: false) else {
            throw SandboxFailure(404, "Member not found.")
        }
        return member
    }

    /// What selecting `institution` leads to: its sign-in, or — when the widget verifies and the
    /// institution cannot — the microdeposit flow.
    static func step(after institution: SandboxInstitution, grant: WidgetGrant) -> String {
        if grant.jobs.contains(.verification), !institution.products.contains(.accountVerification) { return "microdeposits" }
        return institution.isOAuth ? "oauth" : "enterCreds"
    }

    private static func institution(_ code: Any?) throws -> SandboxInstitution {
        guard let code = code as? String, let institution = SandboxInstitution.named(code) else {
            throw SandboxFailure(400, "Choose one of the listed institutions.")
        }
        return institution
    }

    /// Runs one session call: the session must exist; the body, when any, is a JSON object. The
    /// answer is JSON; a failure carries its message and any events the page must still emit.
    func widgetCall<Context: RequestContext>(
        _ request: Request,
        _ context: Context,
        _ handler: (String, WidgetGrant, [String: Any]) async throws -> [(String, SandboxJSON)]
    ) async throws -> Response {
        do {
            let session = try context.parameters.require("session")
            guard let grant = await state.widgetSession(session) else { throw SandboxFailure(404, "This Connect session has ended.") }
            var request = request
            let buffer = try await request.collectBody(upTo: 16 * 1024)
            let body = buffer.readableBytes == 0 ? [:] : (try? JSONSerialization.jsonObject(with: Data(buffer: buffer))) as? [String: Any]
            guard let body else { throw SandboxFailure(400, "Send a JSON object.") }
            return Self.json(.object(try await handler(session, grant, body)), status: 200, contentType: "application/json")
        } catch let failure as SandboxFailure {
            let body = SandboxJSON.object([("error", .object([("message", .string(failure.message))])), ("events", .array(failure.events))])
            return Self.json(body, status: failure.status, contentType: "application/json")
        }
    }

    // MARK: The page without scripts

    private struct ConnectForm: Decodable {
        let institution_code: String
        let username: String
        let password: String
    }

    /// The no-script form: creates a member from a plain form post.
    private func plainFormConnect<Context: RequestContext>(_ request: Request, _ context: Context) async throws -> Response {
        let session = try context.parameters.require("session")
        guard let grant = await state.widgetSession(session), let user = await state.user(grant.userGUID, byIDToo: false) else {
            return Self.html(status: .notFound, title: "Session ended", body: "<p>This Connect session has ended.</p>")
        }
        var request = request
        let body = try await request.collectBody(upTo: 16 * 1024)
        guard let form = try? URLEncodedFormDecoder().decode(ConnectForm.self, from: String(buffer: body)),
            let institution = SandboxInstitution.named(form.institution_code)
        else {
            return Self.html(status: .badRequest, title: "Connect your bank", body: "<p>Choose an institution and enter your credentials.</p>")
        }
        let member = try await createMember(
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

    // MARK: HTML

    /// The first language tag of an `Accept-Language` value (`fr-CA,fr;q=0.8` → `fr-CA`), else `en`.
    static func primaryLanguage(_ header: String?) -> String {
        let first = header?.split(separator: ",").first?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces) ?? ""
        let plain = !first.isEmpty && first.count <= 35 && first.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        return plain ? first : "en"
    }

    /// The origin (`scheme://host[:port]`) of a referring page, or `*` when unknown.
    static func origin(of referer: String?) -> String {
        guard let referer, let components = URLComponents(string: referer), let scheme = components.scheme, let host = components.host else {
            return "*"
        }
        return "\(scheme)://\(host)\(components.port.map { ":\($0)" } ?? "")"
    }

    static func html(status: HTTPResponse.Status, title: String, body: String, language: String = "en") -> Response {
        let page = """
            <!doctype html>
            <html lang="\(escape(language))"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title)) · MX sandbox</title><link rel="icon" href="data:,">
            <style>\(SandboxWidgetPage.style)</style>
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

/// Builds widget events (ui_message_version 4) for one session.
struct WidgetEventFactory {
    let grant: WidgetGrant
    let session: String

    /// `{"mx": true, "type": …, "metadata": {user_guid, session_guid, …}}`.
    func make(_ type: String, _ fields: [(String, SandboxJSON)] = []) -> SandboxJSON {
        let metadata = [("user_guid", SandboxJSON.string(grant.userGUID)), ("session_guid", .string(session))] + fields
        return .object([("mx", .bool(true)), ("type", .string(type)), ("metadata", .object(metadata))])
    }

    func stepChange(from previous: String, to current: String) -> SandboxJSON {
        make("mx/connect/stepChange", [("previous", .string(previous)), ("current", .string(current))])
    }

    /// `mx/load`, the one event without user or session.
    static let load = SandboxJSON.object([("mx", .bool(true)), ("type", .string("mx/load")), ("metadata", .object([]))])
}
