import BrokerCore
import HTTPTypes
import Hummingbird
import MXPlatform
import NIOCore

/// Account numbers (from a verification) and account owners (from an identification) of the
/// caller's own members, the most sensitive data the broker serves.
///
/// They are read from MX on every call under the caller's own MX user, never cached and never
/// kept (`Cache-Control: no-store`, no `ETag`), and every read is in the audit log before it is
/// answered. A front end sees account numbers as the operator chose (``AccountNumberExposure``);
/// the app's backend sees them whole.
struct AccountDetailsController {
    let provisioner: UserProvisioner
    let mx: MXClient
    let audit: AuditTrail
    let products: EnabledProducts
    let frontEndExposure: AccountNumberExposure

    /// One route: its path below the API's mount point (also MX's, below `/users/{guid}`), the
    /// product whose data it serves and its list's key in MX's answer.
    private struct Route {
        let path: [String]
        let product: MXProduct
        let listKey: String
    }

    private static let routes = [
        Route(path: ["members", ":member_guid", "account_numbers"], product: .accountVerification, listKey: "account_numbers"),
        Route(path: ["accounts", ":account_guid", "account_numbers"], product: .accountVerification, listKey: "account_numbers"),
        Route(path: ["members", ":member_guid", "account_owners"], product: .identityVerification, listKey: "account_owners"),
    ]

    func addRoutes(to routes: UserRoutes) {
        let group = routes.spending(.reads)
        for route in Self.routes {
            group.get(RouterPath(route.path.joined(separator: "/"))) { request, context in
                try await read(route, request: request, context: context)
            }
        }
    }

    private func read(_ route: Route, request: Request, context: BrokerRequestContext) async throws -> Response {
        let exposure = context.backendKeyName == nil ? frontEndExposure : .full
        guard exposure != .none else {
            throw BrokerError(
                .forbidden,
                .productNotEnabled,
                "Account numbers and owners are not served to front ends here (FRONT_END_ACCOUNT_NUMBERS)."
            )
        }
        try products.check([route.product])
        let query = try ReadQuery(request, dates: false)
        var path: [String] = []
        for segment in route.path {
            guard segment.hasPrefix(":") else {
                path.append(segment)
                continue
            }
            guard let value = context.parameters.get(String(segment.dropFirst())), Identifier.isValid(value) else {
                throw BrokerError.notFound("No such object for this user.")
            }
            path.append(value)
        }
        guard let mxUserGUID = try await provisioner.existingMXUserGUID(subject: try context.requireSubject()) else {
            throw BrokerError.notFound("No such object for this user.")
        }
        let answer = try await mx.get(["users", mxUserGUID] + path, query: query.mxQuery(version: mx.configuration.apiVersion))
        guard var body = JSONValue.parse(answer.body)?.objectValue, case .array(let items)? = body[route.listKey] else {
            throw MXError.invalidResponse
        }
        try await audit.record(
            data: route.listKey,
            request: request,
            context: context,
            memberGUID: context.parameters.get("member_guid"),
            accountGUID: context.parameters.get("account_guid")
        )
        body[route.listKey] = .array(items.map(exposure.shown))
        return JSONAnswer.response(JSONValue.object(body), caching: .never)
    }

}

/// How much of an account number a front end sees (`FRONT_END_ACCOUNT_NUMBERS`).
public enum AccountNumberExposure: String, Sendable, CaseIterable {
    /// The last four digits, as MX's account lists show them (`XXXXXX6789`).
    case masked
    /// The whole number.
    case full
    /// None: the account-number and account-owner routes are refused to front ends.
    case none

    /// The fields of MX's objects that identify an account, cut to their last four characters.
    private static let maskedFields = ["account_number", "loan_reference_number"]

    /// One of MX's objects (an account number, a microdeposit) as this exposure shows it.
    func shown(_ item: JSONValue) -> JSONValue {
        guard self == .masked, var fields = item.objectValue else { return item }
        for name in Self.maskedFields {
            if case .string(let value)? = fields[name] { fields[name] = .string(Self.mask(value)) }
        }
        return .object(fields)
    }

    /// `value` with all but its last four characters hidden; wholly hidden when it is that short.
    static func mask(_ value: String) -> String {
        value.count > 4 ? "XXXXXX" + value.suffix(4) : "XXXX"
    }
}
