import BrokerCore
import BrokerStore
import HTTPTypes
import Hummingbird
import Logging
import MXPlatform
import NIOCore

/// `POST /v1/widget_urls`: mints a Connect widget URL for the caller, creating their MX user on
/// first use. The answer is MX's `{"widget_url": {"type", "url", "user_id"}}`, passed through.
struct WidgetURLController {
    let provisioner: UserProvisioner
    let mx: MXClient
    let allowedRedirects: RedirectAllowList
    let products: EnabledProducts
    let maxBodyBytes: Int

    func addRoutes(to routes: UserRoutes) {
        routes.spending(.widgetURLs).post("widget_urls", use: mint)
    }

    @Sendable func mint(_ request: Request, context: BrokerRequestContext) async throws -> Response {
        let subject = try context.requireSubject()
        let body = try await JSONBody.read(request, limit: maxBodyBytes)
        let widgetRequest = try WidgetURLRequest(body: body, allowedRedirects: allowedRedirects)
        try products.check(widgetRequest.products)
        let acceptLanguage = try Self.acceptLanguage(request)
        let user = try await provisioner.user(subject: subject, profile: context.profile)
        if let memberGUID = widgetRequest.currentMemberGUID {
            do {
                _ = try await mx.readMember(userGUID: user.mxUserGUID, memberGUID: memberGUID)
            } catch let error as MXError where error.kind == .notFound {
                throw BrokerError.notFound("No such member for this user.")
            }
        }
        if let microdepositGUID = widgetRequest.currentMicrodepositGUID {
            do {
                _ = try await mx.get(["users", user.mxUserGUID, "micro_deposits", microdepositGUID])
            } catch let error as MXError where error.kind == .notFound {
                throw BrokerError.notFound("No such microdeposit for this user.")
            }
        }
        let answer = try await mx.requestWidgetURL(
            userGUID: user.mxUserGUID,
            widgetURL: .object(widgetRequest.fields),
            acceptLanguage: acceptLanguage
        )
        context.logger.info("Minted widget URL", metadata: ["mx.user.guid": "\(user.mxUserGUID)"])
        return JSONAnswer.response(body: answer.body, caching: .never)
    }

    /// The caller's `Accept-Language`, when it is a plausible language list (`en-US,en;q=0.9`).
    static func acceptLanguage(_ request: Request) throws(BrokerError) -> String? {
        guard let value = request.headers[.acceptLanguage] else { return nil }
        let plausible =
            value.utf8.count <= 128
            && value.unicodeScalars.allSatisfy {
                $0.properties.isAlphabetic && $0.isASCII || ("0"..."9").contains($0) || ",;=.-* ".unicodeScalars.contains($0)
            }
        guard plausible else {
            throw BrokerError.badRequest(.invalidAcceptLanguage, "Accept-Language must be a language list such as en-US,en;q=0.9.")
        }
        return value
    }
}
