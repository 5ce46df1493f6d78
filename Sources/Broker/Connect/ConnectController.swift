import BrokerCore
import BrokerStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MXPlatform
import NIOCore

/// Connecting members without the widget, for apps with their own UI: institutions and the
/// fields they ask for, members created with the user's credentials, MFA challenges and their
/// answers, new credentials, the OAuth window, and a member's status to poll.
///
/// Every member route works inside the caller's own MX user, so another user's member guid is
/// not found. Members change through ``MemberSync``, so these flows announce the same events
/// as the widget's. Credentials and answers go to MX and nowhere else.
struct ConnectController {
    let provisioner: UserProvisioner
    let sync: MemberSync
    let mx: MXClient
    let allowedRedirects: RedirectAllowList
    /// A new member aggregates at once, which is MX's `transactions` product.
    let products: EnabledProducts
    /// How soon a member may be read from MX again: a status read within it answers from the store.
    let pollInterval: TimeInterval
    let maxBodyBytes: Int

    init(provisioner: UserProvisioner, sync: MemberSync, mx: MXClient, settings: ConnectSettings, maxBodyBytes: Int) {
        self.provisioner = provisioner
        self.sync = sync
        self.mx = mx
        allowedRedirects = settings.allowedRedirects
        products = settings.enabledProducts
        pollInterval = settings.memberPollInterval.timeInterval
        self.maxBodyBytes = maxBodyBytes
    }

    /// MX asks apps to poll a member no more often than every 3 seconds.
    static let minimumPollMilliseconds = 3000

    func addRoutes(to routes: UserRoutes) {
        let reads = routes.spending(.reads)
        reads.get("institutions", use: searchInstitutions)
        reads.get("institutions/:institution_code", use: institution)
        reads.get("institutions/:institution_code/credentials", use: institutionCredentials)
        reads.get("members/:member_guid/status", use: status)
        reads.get("members/:member_guid/challenges", use: challenges)
        reads.get("members/:member_guid/oauth_window_uri", use: oauthWindowURI)
        let attempts = routes.spending(.connectionAttempts)
        attempts.post("members", use: createMember)
        attempts.put("members/:member_guid/resume", use: resume)
        attempts.put("members/:member_guid/credentials", use: updateCredentials)
    }

    // MARK: Institutions

    @Sendable func searchInstitutions(_ request: Request, context: BrokerRequestContext) async throws -> Response {
        var query = try ReadQuery(request, dates: false, maxRecordsPerPage: 100).mxQuery(version: mx.configuration.apiVersion)
        if let name = request.uri.queryParameters.get("name") {
            guard (1...100).contains(name.count) else {
                throw BrokerError.badRequest(.invalidName, "name must be 1 to 100 characters.")
            }
            query.append(("name", name))
        }
        return JSONAnswer.read(body: try await mx.get(["institutions"], query: query).body, to: request)
    }

    @Sendable func institution(_ request: Request, context: BrokerRequestContext) async throws -> Response {
        JSONAnswer.read(body: try await mx.get(["institutions", try Self.institutionCode(context)]).body, to: request)
    }

    @Sendable func institutionCredentials(_ request: Request, context: BrokerRequestContext) async throws -> Response {
        JSONAnswer.read(body: try await mx.get(["institutions", try Self.institutionCode(context), "credentials"]).body, to: request)
    }

    // MARK: Members

    @Sendable func createMember(_ request: Request, context: BrokerRequestContext) async throws -> Response {
        try products.check([.transactions])
        let body = try await JSONBody.read(request, limit: maxBodyBytes)
        guard let code = body["institution_code"]?.stringValue, Identifier.isValid(code) else {
            throw BrokerError.badRequest(.invalidBody, "institution_code must be an institution's code, as GET /v1/institutions lists them.")
        }
        let credentials = try ConnectRequest.values(body, field: "credentials")
        let options = try ConnectRequest.oauthOptions(allowedRedirects: allowedRedirects) { body[$0]?.stringValue }
        let user = try await provisioner.user(subject: try context.requireSubject(), profile: context.profile)
        let created: MXMember
        do {
            created = try await mx.createMember(
                userGUID: user.mxUserGUID,
                institutionCode: code,
                credentials: credentials,
                options: Dictionary(uniqueKeysWithValues: options.map { ($0.0, JSONValue.string($0.1)) })
            )
        } catch let error as MXError where error.kind == .conflict {
            throw BrokerError(
                .conflict,
                .duplicateMember,
                "This user is already connected to this institution with these credentials: use that member (reconnect or update its credentials) instead."
            )
        }
        context.logger.info("Created member through the API", metadata: ["mx.member.guid": "\(created.guid)"])
        return try await answer(sync.apply(created, mxUserGUID: user.mxUserGUID), status: .accepted)
    }

    @Sendable func status(_ request: Request, context: BrokerRequestContext) async throws -> Response {
        let (user, guid) = try await context.callerAndMember(provisioner)
        if let stored = try await sync.store.member(guid: guid, mxUserGUID: user.mxUserGUID),
            Date().timeIntervalSince(stored.refreshedAt) < pollInterval
        {
            return answer(stored)
        }
        return answer(try await sync.refresh(memberGUID: guid, mxUserGUID: user.mxUserGUID))
    }

    @Sendable func challenges(_ request: Request, context: BrokerRequestContext) async throws -> Response {
        let (user, guid) = try await context.callerAndMember(provisioner)
        guard let asked = try await mx.memberChallenges(userGUID: user.mxUserGUID, memberGUID: guid) else {
            return Response(status: .noContent, headers: [.cacheControl: "no-store"])
        }
        return JSONAnswer.response(body: asked.body, caching: .never)
    }

    @Sendable func resume(_ request: Request, context: BrokerRequestContext) async throws -> Response {
        let (user, guid) = try await context.callerAndMember(provisioner)
        let answers = try ConnectRequest.values(try await JSONBody.read(request, limit: maxBodyBytes), field: "challenges")
        guard !answers.isEmpty else {
            throw BrokerError.badRequest(.invalidBody, "challenges must answer the member's challenges: [{\"guid\", \"value\"}].")
        }
        let resumed: MXMember
        do {
            resumed = try await mx.resumeMember(userGUID: user.mxUserGUID, memberGUID: guid, answers: answers)
        } catch let error as MXError where error.kind == .conflict {
            throw BrokerError(.conflict, .notChallenged, "This member is not waiting for MFA answers; read its status.")
        }
        return try await answer(sync.apply(resumed, mxUserGUID: user.mxUserGUID), status: .accepted)
    }

    @Sendable func updateCredentials(_ request: Request, context: BrokerRequestContext) async throws -> Response {
        let (user, guid) = try await context.callerAndMember(provisioner)
        let credentials = try ConnectRequest.values(try await JSONBody.read(request, limit: maxBodyBytes), field: "credentials")
        guard !credentials.isEmpty else {
            throw BrokerError.badRequest(.invalidBody, "credentials must give the institution's fields: [{\"guid\", \"value\"}].")
        }
        let updated = try await mx.updateMemberCredentials(userGUID: user.mxUserGUID, memberGUID: guid, credentials: credentials)
        return try await answer(sync.apply(updated, mxUserGUID: user.mxUserGUID), status: .accepted)
    }

    /// The bank's sign-in page for an OAuth member. Like a widget URL, the answer is a bearer
    /// secret: it is never logged or cached.
    @Sendable func oauthWindowURI(_ request: Request, context: BrokerRequestContext) async throws -> Response {
        let (user, guid) = try await context.callerAndMember(provisioner)
        let query = request.uri.queryParameters
        let options = try ConnectRequest.oauthOptions(allowedRedirects: allowedRedirects) { query.get($0) }
        let window = try await mx.get(["users", user.mxUserGUID, "members", guid, "oauth_window_uri"], query: options)
        return JSONAnswer.response(body: window.body, caching: .never)
    }

    // MARK: Answers

    /// `{"member": …, "poll_after_ms": …}`: while the member is connecting or aggregating, how
    /// long to wait before reading its status again; absent once the next step is the user's.
    private func answer(_ member: MemberRecord, status: HTTPResponse.Status = .ok) -> Response {
        let waits = member.isBeingAggregated || ActionRequired(connectionStatus: member.connectionStatus) == .wait
        let poll = waits ? max(Self.minimumPollMilliseconds, Int(pollInterval * 1000)) : nil
        return JSONAnswer.response(
            MemberStatusAnswer(member: MemberView(member: member), pollAfterMilliseconds: poll),
            status: status,
            caching: .revalidate
        )
    }

    private static func institutionCode(_ context: BrokerRequestContext) throws -> String {
        let code = try context.parameters.require("institution_code")
        guard Identifier.isValid(code) else { throw BrokerError.notFound("No such institution.") }
        return code
    }
}

/// A member with the hint of when to look again.
private struct MemberStatusAnswer: Encodable {
    let member: MemberView
    let pollAfterMilliseconds: Int?

    enum CodingKeys: String, CodingKey {
        case member
        case pollAfterMilliseconds = "poll_after_ms"
    }
}
