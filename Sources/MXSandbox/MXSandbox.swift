import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOFoundationCompat

/// A simulator of the MX Platform API for the endpoints the broker uses, written from MX's spec.
///
/// It answers over real HTTP with Basic auth and MX's version headers, keeps users and members,
/// generates deterministic accounts and transactions, and serves the Connect widget page that a
/// minted widget URL points at. Mount it on any router with ``addRoutes(to:mountPath:)``.
public struct MXSandbox: Sendable {
    public let configuration: SandboxConfiguration
    let state: SandboxState
    let webhooks: SandboxWebhooks
    let faults: SandboxFaults
    private let expectedAuthorization: SHA256Digest

    public init(configuration: SandboxConfiguration, logger: Logger) {
        self.configuration = configuration
        self.state = SandboxState(stateFile: configuration.stateFile, logger: logger)
        self.webhooks = SandboxWebhooks(configuration: configuration, state: state, logger: logger)
        self.faults = SandboxFaults(rules: configuration.faults)
        let credentials = Data("\(configuration.clientID):\(configuration.apiKey)".utf8).base64EncodedString()
        self.expectedAuthorization = SHA256.hash(data: Data("Basic \(credentials)".utf8))
    }

    var delay: TimeInterval { Self.seconds(configuration.connectDelay) }

    /// Sends webhooks to `url` from now on (an embedded sandbox learns its broker's port late).
    public func setWebhookTarget(_ url: String) async {
        await webhooks.setTarget(url)
    }

    /// Adds the simulated API and widget pages to `router` under `mountPath` (`""` or `/sandbox/mx`).
    ///
    /// Faults (see ``SandboxFaultRule``) apply to the API's routes, not to the widget pages or
    /// to `{mountPath}/_faults`, where they are read (`GET`), replaced (`PUT`) and cleared (`DELETE`).
    public func addRoutes<Context: RequestContext>(to router: Router<Context>, mountPath: String) {
        let group = mountPath.isEmpty ? router.group() : router.group(RouterPath(mountPath))
        let faulty = group.group().add(middleware: SandboxFaultMiddleware<Context>(faults: faults, mountPath: mountPath))
        addUserRoutes(to: faulty, mountPath: mountPath)
        addMemberRoutes(to: faulty)
        addConnectRoutes(to: faulty, mountPath: mountPath)
        addDataRoutes(to: faulty)
        addWidgetRoutes(to: group, mountPath: mountPath)
        addFaultRoutes(to: group)
    }

    // MARK: Faults

    private func addFaultRoutes<Context: RequestContext>(to group: RouterGroup<Context>) {
        group.get("_faults") { request, context in
            try await api(request, context) { _ in await faults.report }
        }
        group.put("_faults") { request, context in
            try await api(request, context) { _ in
                var request = request
                guard let body = try? await request.collectBody(upTo: 1 << 20) else { throw SandboxFailure(400, "Body too large.") }
                let rules: [SandboxFaultRule]
                let data = Data(buffer: body)
                do throws(SandboxFaultError) {
                    rules = try SandboxFaultRule.list(fromJSON: data)
                } catch {
                    throw SandboxFailure(400, error.description)
                }
                await faults.replace(with: rules)
                return await faults.report
            }
        }
        group.delete("_faults") { request, context in
            try await api(request, context) { _ in
                await faults.replace(with: [])
                return nil
            }
        }
    }

    // MARK: Users

    private struct UserBody: Decodable {
        struct Fields: Decodable {
            let id: String?
            let email: String?
            let metadata: String?
            let is_disabled: Bool?
        }
        let user: Fields
    }

    private func addUserRoutes<Context: RequestContext>(to group: RouterGroup<Context>, mountPath: String) {
        group.post("users") { request, context in
            try await api(request, context) { version in
                let body = try await decode(UserBody.self, from: request, context: context)
                let fields = body.user
                guard fields.id != nil || fields.email != nil || fields.metadata != nil || fields.is_disabled != nil else {
                    throw SandboxFailure(400, "The user object must not be empty.")
                }
                if let id = fields.id, !Self.isURLSafeID(id) {
                    throw SandboxFailure(400, "A user id may contain only letters, digits, '-' and '_'.")
                }
                let user = try await state.createUser(
                    id: fields.id,
                    email: fields.email,
                    metadata: fields.metadata,
                    isDisabled: fields.is_disabled ?? false
                )
                return .object([("user", user.json)])
            }
        }
        group.get("users") { request, context in
            try await api(request, context) { version in
                let query = request.uri.queryParameters
                let users = await state.listUsers(id: query.get("id"), email: query.get("email"))
                let page = SandboxPage(page: query.get("page"), recordsPerPage: query.get("records_per_page"), maximum: 1000).slice(users)
                return .object([("users", .array(page.items.map(\.json))), ("pagination", page.pagination)])
            }
        }
        group.get("users/:user") { request, context in
            try await api(request, context) { version in
                .object([("user", try await user(context, version).json)])
            }
        }
        group.put("users/:user") { request, context in
            try await api(request, context) { version in
                let existing = try await user(context, version)
                let fields = try await decode(UserBody.self, from: request, context: context).user
                let user = try await state.updateUser(
                    existing.guid,
                    id: fields.id,
                    email: fields.email,
                    metadata: fields.metadata,
                    isDisabled: fields.is_disabled
                )
                return .object([("user", user.json)])
            }
        }
        group.delete("users/:user") { request, context in
            try await api(request, context) { version in
                await state.deleteUser(try await user(context, version).guid)
                return nil
            }
        }
        group.post("users/:user/widget_urls") { request, context in
            try await api(request, context) { version in
                let user = try await user(context, version)
                return try await mintWidgetURL(for: user, request: request, context: context, mountPath: mountPath)
            }
        }
    }

    // MARK: Members and institutions

    private struct MemberBody: Decodable {
        struct Credential: Decodable {
            let guid: String
            let value: String
        }
        struct Fields: Decodable {
            let institution_code: String?
            let credentials: [Credential]?
            let id: String?
            let metadata: String?
        }
        let member: Fields
    }

    private func addMemberRoutes<Context: RequestContext>(to group: RouterGroup<Context>) {
        group.get("institutions") { request, context in
            try await api(request, context) { version in
                let query = request.uri.queryParameters
                let name = query.get("name")?.lowercased()
                let matches = SandboxInstitution.all.filter { name == nil || $0.name.lowercased().contains(name!) || $0.code.contains(name!) }
                let page = SandboxPage(page: query.get("page"), recordsPerPage: query.get("records_per_page"), maximum: 100).slice(matches)
                return .object([("institutions", .array(page.items.map { $0.json(version) })), ("pagination", page.pagination)])
            }
        }
        group.get("institutions/:code") { request, context in
            try await api(request, context) { version in
                .object([("institution", try institution(context, version).json(version))])
            }
        }
        group.get("institutions/:code/credentials") { request, context in
            try await api(request, context) { version in
                let fields = try institution(context, version).credentials
                let page = SandboxPage(page: nil, recordsPerPage: nil, maximum: 1000).slice(fields)
                return .object([("credentials", .array(page.items.map(\.json))), ("pagination", page.pagination)])
            }
        }
        group.post("users/:user/members") { request, context in
            try await api(request, context) { version in
                let user = try await user(context, version)
                let fields = try await decode(MemberBody.self, from: request, context: context).member
                guard let code = fields.institution_code, let institution = SandboxInstitution.named(code) else {
                    throw SandboxFailure(400, "institution_code is missing or unknown.")
                }
                let given = Dictionary((fields.credentials ?? []).map { ($0.guid, $0.value) }, uniquingKeysWith: { _, last in last })
                let expected = institution.credentials
                guard expected.allSatisfy({ given[$0.guid] != nil }), given.keys.allSatisfy({ key in expected.contains { $0.guid == key } }) else {
                    throw SandboxFailure(400, "credentials must give a value for each of the institution's credential guids.")
                }
                let member = try await createMember(
                    user: user,
                    institution: institution,
                    username: expected.first.flatMap { given[$0.guid] } ?? "",
                    password: expected.last.flatMap { given[$0.guid] } ?? "",
                    id: fields.id,
                    metadata: fields.metadata
                )
                return .object([("member", rendering(version).member(member, user: user))])
            }
        }
        group.get("users/:user/members") { request, context in
            try await api(request, context) { version in
                let user = try await user(context, version)
                let query = request.uri.queryParameters
                let page = SandboxPage(page: query.get("page"), recordsPerPage: query.get("records_per_page"), maximum: 1000)
                    .slice(await state.members(ofUser: user.guid))
                let render = rendering(version)
                return .object([("members", .array(page.items.map { render.member($0, user: user) })), ("pagination", page.pagination)])
            }
        }
        group.get("users/:user/members/:member") { request, context in
            try await api(request, context) { version in
                let (user, member) = try await member(context, version)
                return .object([("member", rendering(version).member(member, user: user))])
            }
        }
        group.get("users/:user/members/:member/status") { request, context in
            try await api(request, context) { version in
                let (_, member) = try await member(context, version)
                return .object([("member", rendering(version).memberStatus(member))])
            }
        }
        group.delete("users/:user/members/:member") { request, context in
            try await api(request, context) { version in
                await state.deleteMember(try await member(context, version).1.guid)
                return nil
            }
        }
        group.post("users/:user/members/:member/aggregate") { request, context in
            try await apiStatus(request, context, status: 202) { version in
                let (user, found) = try await member(context, version)
                guard let member = await state.aggregate(found.guid, now: Date(), delay: delay) else {
                    throw SandboxFailure(404, "Member not found.")
                }
                webhooks.watch(memberGUID: member.guid, after: delay)
                return .object([("member", rendering(version).member(member, user: user))])
            }
        }
    }

    /// Creates a member that moves through its institution's scenario over the configured delay.
    func createMember(
        user: SandboxUser,
        institution: SandboxInstitution,
        username: String,
        password: String,
        id: String?,
        metadata: String?,
        oauthReturnURL: String? = nil
    ) async throws(SandboxFailure) -> SandboxMember {
        let member = try await state.createMember(
            userGUID: user.guid,
            id: id,
            metadata: metadata,
            institutionCode: institution.code,
            credentialsAccepted: institution.accepts(username: username, password: password),
            credentialsDigest: institution.isOAuth ? nil : Self.credentialsDigest(username: username, password: password),
            oauthReturnURL: oauthReturnURL,
            now: Date()
        )
        webhooks.watch(memberGUID: member.guid, after: delay)
        return member
    }

    /// A digest that tells two sets of credentials apart without keeping them.
    static func credentialsDigest(username: String, password: String) -> String {
        SHA256.hash(data: Data("\(username)\u{0}\(password)".utf8)).map { String(format: "%02x", $0) }.joined()
    }

    // MARK: Accounts and transactions

    private func addDataRoutes<Context: RequestContext>(to group: RouterGroup<Context>) {
        group.get("users/:user/accounts") { request, context in
            try await api(request, context) { version in
                let user = try await user(context, version)
                return accountList(try await accounts(of: user), user: user, request: request, version: version)
            }
        }
        group.get("users/:user/accounts/:account") { request, context in
            try await api(request, context) { version in
                let user = try await user(context, version)
                let account = try await account(context, of: user)
                return .object([("account", rendering(version).account(account, user: user))])
            }
        }
        group.get("users/:user/members/:member/accounts") { request, context in
            try await api(request, context) { version in
                let (user, member) = try await member(context, version)
                return accountList(accounts(of: member), user: user, request: request, version: version)
            }
        }
        group.get("users/:user/transactions") { request, context in
            try await api(request, context) { version in
                let user = try await user(context, version)
                let all = try await accounts(of: user).flatMap(SandboxLedger.transactions(of:))
                return try transactionList(all, user: user, request: request, version: version)
            }
        }
        group.get("users/:user/accounts/:account/transactions") { request, context in
            try await api(request, context) { version in
                let user = try await user(context, version)
                let account = try await account(context, of: user)
                return try transactionList(SandboxLedger.transactions(of: account), user: user, request: request, version: version)
            }
        }
        group.get("users/:user/members/:member/transactions") { request, context in
            try await api(request, context) { version in
                let (user, member) = try await member(context, version)
                let all = accounts(of: member).flatMap(SandboxLedger.transactions(of:))
                return try transactionList(all, user: user, request: request, version: version)
            }
        }
    }

    private func accounts(of user: SandboxUser) async throws -> [SandboxAccount] {
        await state.members(ofUser: user.guid).flatMap(accounts(of:))
    }

    /// A member's accounts, once its first aggregation has succeeded.
    private func accounts(of member: SandboxMember) -> [SandboxAccount] {
        SandboxMemberStatus(member: member, now: Date(), delay: delay).hasData ? SandboxLedger.accounts(of: member) : []
    }

    private func account<Context: RequestContext>(_ context: Context, of user: SandboxUser) async throws -> SandboxAccount {
        let guid = try context.parameters.require("account")
        guard let account = try await accounts(of: user).first(where: { $0.guid == guid }) else {
            throw SandboxFailure(404, "Account not found.")
        }
        return account
    }

    private func accountList(_ accounts: [SandboxAccount], user: SandboxUser, request: Request, version: SandboxAPIVersion) -> SandboxJSON {
        let query = request.uri.queryParameters
        let page = SandboxPage(page: query.get("page"), recordsPerPage: query.get("records_per_page"), maximum: 1000).slice(accounts)
        let render = rendering(version)
        return .object([("accounts", .array(page.items.map { render.account($0, user: user) })), ("pagination", page.pagination)])
    }

    /// Filters by `from_date` / `to_date` (`YYYY-MM-DD` in v20111101, unix timestamps in
    /// v20250224; defaults 120 days back and 5 days ahead), newest first, then pages.
    private func transactionList(_ all: [SandboxTransaction], user: SandboxUser, request: Request, version: SandboxAPIVersion) throws -> SandboxJSON {
        let query = request.uri.queryParameters
        let now = Int64(Date().timeIntervalSince1970)
        func bound(_ name: String, default value: Int64, endOfDay: Bool) throws -> Int64 {
            guard let text = query.get(name) else { return value }
            switch version {
            case .v20111101:
                guard let day = SandboxClock.day(parsing: text) else { throw SandboxFailure(400, "\(name) must be YYYY-MM-DD.") }
                return Int64(day) * 86_400 + (endOfDay ? 86_399 : 0)
            case .v20250224:
                guard let seconds = Int64(text) else { throw SandboxFailure(400, "\(name) must be a unix timestamp.") }
                return seconds
            }
        }
        let from = try bound("from_date", default: now - 120 * 86_400, endOfDay: false)
        let to = try bound("to_date", default: now + 5 * 86_400, endOfDay: true)
        let matching = all.filter { $0.timestamp >= from && $0.timestamp <= to }
            .sorted { ($0.day, $0.guid) > ($1.day, $1.guid) }
        let page = SandboxPage(page: query.get("page"), recordsPerPage: query.get("records_per_page"), maximum: 1000).slice(matching)
        let render = rendering(version)
        return .object([("transactions", .array(page.items.map { render.transaction($0, user: user) })), ("pagination", page.pagination)])
    }

    // MARK: Lookups

    func rendering(_ version: SandboxAPIVersion) -> SandboxRendering {
        SandboxRendering(version: version, now: Date(), delay: delay)
    }

    func user<Context: RequestContext>(_ context: Context, _ version: SandboxAPIVersion) async throws -> SandboxUser {
        guard let user = await state.user(try context.parameters.require("user"), byIDToo: version.acceptsPartnerIDs) else {
            throw SandboxFailure(404, "User not found.")
        }
        return user
    }

    func member<Context: RequestContext>(_ context: Context, _ version: SandboxAPIVersion) async throws -> (SandboxUser, SandboxMember) {
        let user = try await user(context, version)
        let identifier = try context.parameters.require("member")
        guard let member = await state.member(identifier, ofUser: user.guid, byIDToo: version.acceptsPartnerIDs) else {
            throw SandboxFailure(404, "Member not found.")
        }
        return (user, member)
    }

    private func institution<Context: RequestContext>(_ context: Context, _ version: SandboxAPIVersion) throws -> SandboxInstitution {
        guard let institution = SandboxInstitution.identified(by: try context.parameters.require("code"), version: version) else {
            throw SandboxFailure(404, "Institution not found.")
        }
        return institution
    }

    static func isURLSafeID(_ id: String) -> Bool {
        !id.isEmpty
            && id.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x2D || byte == 0x5F
            }
    }

    // MARK: The API envelope

    /// Runs an API handler after checking Basic auth and the version header; answers 200 with
    /// its JSON, 204 when it returns `nil`, and MX-style errors for ``SandboxFailure``.
    func api<Context: RequestContext>(
        _ request: Request,
        _ context: Context,
        _ handler: (SandboxAPIVersion) async throws -> SandboxJSON?
    ) async throws -> Response {
        try await apiStatus(request, context, status: 200, handler)
    }

    func apiStatus<Context: RequestContext>(
        _ request: Request,
        _ context: Context,
        status: Int,
        _ handler: (SandboxAPIVersion) async throws -> SandboxJSON?
    ) async throws -> Response {
        do {
            try authenticate(request)
            let version = try Self.version(of: request)
            guard let json = try await handler(version) else { return Response(status: .noContent) }
            return Self.json(json, status: status, contentType: version.contentType)
        } catch let failure as SandboxFailure {
            let body = SandboxJSON.object([("error", .object([("message", .string(failure.message))]))])
            return Self.json(body, status: failure.status, contentType: "application/json")
        }
    }

    private func authenticate(_ request: Request) throws {
        guard let header = request.headers[.authorization] else {
            throw SandboxFailure(401, "Missing Basic credentials.")
        }
        // Digests compare in constant time.
        guard SHA256.hash(data: Data(header.utf8)) == expectedAuthorization else { throw SandboxFailure(401, "Invalid client_id or api_key.") }
    }

    private static func version(of request: Request) throws -> SandboxAPIVersion {
        if let dated = request.headers[HTTPField.Name("Accept-Version")!] {
            guard dated.trimmingCharacters(in: .whitespaces) == "v20250224" else {
                throw SandboxFailure(406, "Unsupported Accept-Version.")
            }
            return .v20250224
        }
        if request.headers[values: .accept].contains(where: { $0.contains("application/vnd.mx.api.v1+json") }) {
            return .v20111101
        }
        // MX's v20111101 document declares no version header for deletions, and MX's client
        // sends none: a deletion answers no body, so any version serves.
        if request.method == .delete { return .v20111101 }
        throw SandboxFailure(406, "No valid API version given: send Accept-Version or Accept: application/vnd.mx.api.v1+json.")
    }

    func decode<T: Decodable, Context: RequestContext>(_ type: T.Type, from request: Request, context: Context) async throws -> T {
        var request = request
        guard let buffer = try? await request.collectBody(upTo: 1 << 20) else {
            throw SandboxFailure(400, "Body too large.")
        }
        do {
            return try JSONDecoder().decode(T.self, from: buffer)
        } catch {
            throw SandboxFailure(400, "The request body is not valid for this endpoint.")
        }
    }

    static func json(_ value: SandboxJSON, status: Int, contentType: String) -> Response {
        Response(
            status: .init(code: status),
            headers: [.contentType: contentType],
            body: .init(byteBuffer: ByteBuffer(string: value.text))
        )
    }
}
