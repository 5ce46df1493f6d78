import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat

/// A user's members: create, list, read, status, delete and aggregate.
extension MXSandbox {
    struct MemberBody: Decodable {
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

    func addMemberRoutes<Context: RequestContext>(to group: RouterGroup<Context>) {
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
                let member = try await state.aggregate(found.guid, now: Date(), delay: delay)
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
}
