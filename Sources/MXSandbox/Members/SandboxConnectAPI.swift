import Foundation
import Hummingbird

/// The endpoints an app uses to connect members without the widget: MFA challenges and their
/// answers, credential updates, and the OAuth window for OAuth institutions.
extension MXSandbox {
    private struct CredentialValue: Decodable {
        let guid: String
        let value: String
    }

    private struct ResumeBody: Decodable {
        struct Fields: Decodable {
            let challenges: [CredentialValue]?
        }
        let member: Fields
    }

    private struct UpdateBody: Decodable {
        struct Fields: Decodable {
            let credentials: [CredentialValue]?
            let id: String?
            let metadata: String?
        }
        let member: Fields
    }

    func addConnectRoutes<Context: RequestContext>(to group: RouterGroup<Context>, mountPath: String) {
        group.get("users/:user/members/:member/challenges") { request, context in
            try await api(request, context) { version in
                let (_, member) = try await member(context, version)
                guard SandboxMemberStatus(member: member, now: Date(), delay: delay).isChallenged else { return nil }
                let page = SandboxPage(page: nil, recordsPerPage: nil, maximum: 1000).slice(SandboxInstitution.challenges)
                return .object([("challenges", .array(page.items.map(\.json))), ("pagination", page.pagination)])
            }
        }
        group.put("users/:user/members/:member/resume") { request, context in
            try await apiStatus(request, context, status: 202) { version in
                let (user, member) = try await member(context, version)
                let answers = try await decode(ResumeBody.self, from: request, context: context).member.challenges ?? []
                guard SandboxMemberStatus(member: member, now: Date(), delay: delay).isChallenged else {
                    throw SandboxFailure(409, "This member is not waiting for MFA answers.")
                }
                let given = Dictionary(answers.map { ($0.guid, $0.value) }, uniquingKeysWith: { _, last in last })
                guard SandboxInstitution.challenges.allSatisfy({ given[$0.guid] != nil }) else {
                    throw SandboxFailure(400, "challenges must answer each of the member's challenge guids.")
                }
                guard let resumed = await state.answerChallenges(member.guid, isRight: SandboxChallenge.areRight(given), now: Date(), delay: delay)
                else {
                    throw SandboxFailure(404, "Member not found.")
                }
                webhooks.watch(memberGUID: resumed.guid, after: delay)
                return .object([("member", rendering(version).member(resumed, user: user))])
            }
        }
        group.put("users/:user/members/:member") { request, context in
            try await api(request, context) { version in
                let (user, member) = try await member(context, version)
                let fields = try await decode(UpdateBody.self, from: request, context: context).member
                guard fields.credentials != nil || fields.id != nil || fields.metadata != nil else {
                    throw SandboxFailure(400, "The member object must not be empty.")
                }
                var updated = member
                if let credentials = fields.credentials {
                    updated = try await replaceCredentials(of: member, with: credentials)
                }
                if fields.id != nil || fields.metadata != nil {
                    updated = await state.updateMember(member.guid, id: fields.id, metadata: fields.metadata) ?? updated
                }
                return .object([("member", rendering(version).member(updated, user: user))])
            }
        }
        group.get("users/:user/members/:member/oauth_window_uri") { request, context in
            try await api(request, context) { version in
                let (_, member) = try await member(context, version)
                guard member.institution?.isOAuth == true else {
                    throw SandboxFailure(400, "This member's institution does not use OAuth.")
                }
                let query = request.uri.queryParameters
                let referralSource = query.get("referral_source")?.uppercased() ?? "BROWSER"
                guard referralSource == "BROWSER" || referralSource == "APP" else {
                    throw SandboxFailure(400, "referral_source must be BROWSER or APP.")
                }
                let scheme = query.get("ui_message_webview_url_scheme") ?? "mx"
                let returnURL = referralSource == "APP" ? query.get("client_redirect_url") ?? "\(scheme)://oauth_complete" : nil
                _ = await state.setOAuthReturn(member.guid, url: returnURL)
                let uri = "\(publicBase(request, mountPath))/oauth/\(member.guid)"
                return .object([("member", .object([("guid", .string(member.guid)), ("oauth_window_uri", .string(uri))]))])
            }
        }
    }

    /// New credentials for `member`: each of its institution's fields must have a value.
    private func replaceCredentials(of member: SandboxMember, with credentials: [CredentialValue]) async throws -> SandboxMember {
        guard let institution = member.institution, !institution.isOAuth else {
            throw SandboxFailure(400, "This member's institution takes no credentials.")
        }
        let given = Dictionary(credentials.map { ($0.guid, $0.value) }, uniquingKeysWith: { _, last in last })
        let expected = institution.credentials
        guard expected.allSatisfy({ given[$0.guid] != nil }) else {
            throw SandboxFailure(400, "credentials must give a value for each of the institution's credential guids.")
        }
        let username = expected.first.flatMap { given[$0.guid] } ?? ""
        let password = expected.last.flatMap { given[$0.guid] } ?? ""
        guard
            let updated = await state.updateCredentials(
                member.guid,
                accepted: institution.accepts(username: username, password: password),
                digest: Self.credentialsDigest(username: username, password: password),
                now: Date()
            )
        else { throw SandboxFailure(404, "Member not found.") }
        webhooks.watch(memberGUID: updated.guid, after: delay)
        return updated
    }
}
