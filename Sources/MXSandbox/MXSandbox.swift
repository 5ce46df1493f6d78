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
        addInstitutionRoutes(to: faulty)
        addMemberRoutes(to: faulty)
        addConnectRoutes(to: faulty, mountPath: mountPath)
        addAccountRoutes(to: faulty)
        addTransactionRoutes(to: faulty)
        addJobRoutes(to: faulty)
        addVerificationRoutes(to: faulty)
        addStatementRoutes(to: faulty)
        addHoldingRoutes(to: faulty)
        addMicrodepositRoutes(to: faulty)
        addWidgetRoutes(to: group, mountPath: mountPath)
        addWidgetMicrodepositRoutes(to: group)
        addFaultRoutes(to: group)
    }

    // MARK: Lookups

    func rendering(_ version: SandboxAPIVersion) -> SandboxRendering {
        SandboxRendering(version: version, now: Date(), delay: delay)
    }

    /// The route's user; `byGUIDOnly` for the few v20250224 paths that take guids.
    func user<Context: RequestContext>(_ context: Context, _ version: SandboxAPIVersion, byGUIDOnly: Bool = false) async throws -> SandboxUser {
        let byID = version.acceptsPartnerIDs && !byGUIDOnly
        guard let user = await state.user(try context.parameters.require("user"), byIDToo: byID) else {
            throw SandboxFailure(404, "User not found.")
        }
        return user
    }

    /// The route's user and member; `byGUIDOnly` for the few v20250224 paths that take guids.
    func member<Context: RequestContext>(
        _ context: Context,
        _ version: SandboxAPIVersion,
        byGUIDOnly: Bool = false
    ) async throws -> (SandboxUser, SandboxMember) {
        let user = try await user(context, version, byGUIDOnly: byGUIDOnly)
        let identifier = try context.parameters.require("member")
        guard let member = await state.member(identifier, ofUser: user.guid, byIDToo: version.acceptsPartnerIDs && !byGUIDOnly) else {
            throw SandboxFailure(404, "Member not found.")
        }
        return (user, member)
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
        if request.headers[values: .accept].contains(where: { $0.contains("application/vnd.mx.api.v1+json") || $0.contains(pdfContentType) }) {
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
