import BrokerCore
import MXPlatform

/// The parts of API-only connection requests, checked before anything reaches MX.
///
/// Credential values and MFA answers are secrets: they are handed to MX and nowhere else, and
/// no error message quotes them.
enum ConnectRequest {
    /// Most values one request may carry (MX's login forms have a handful of fields).
    static let maxValues = 20
    static let maxValueBytes = 1024

    /// `[{"guid": "CRD-…", "value": "…"}]` under `field`; an absent field is an empty list.
    static func values(_ body: JSONValue, field: String) throws(BrokerError) -> [MXCredentialValue] {
        guard let list = body[field] else { return [] }
        guard case .array(let items) = list, items.count <= maxValues else {
            throw BrokerError.badRequest(.invalidBody, "\(field) must be an array of at most \(maxValues) {\"guid\", \"value\"} objects.")
        }
        var values: [MXCredentialValue] = []
        for (index, item) in items.enumerated() {
            guard let guid = item["guid"]?.stringValue, Identifier.isValid(guid) else {
                throw BrokerError.badRequest(.invalidBody, "\(field)[\(index)].guid must be the guid of one of MX's fields.")
            }
            guard let value = item["value"]?.stringValue, !value.isEmpty, value.utf8.count <= maxValueBytes else {
                throw BrokerError.badRequest(.invalidBody, "\(field)[\(index)].value must be a string of 1 to \(maxValueBytes) bytes.")
            }
            values.append(MXCredentialValue(guid: guid, value: value))
        }
        return values
    }

    /// Where MX sends the user after an OAuth bank's sign-in: `referral_source` (`BROWSER` or
    /// `APP`), and for `APP` a `client_redirect_url` under an allowed prefix and a plain
    /// `ui_message_webview_url_scheme`. `lookup` reads one field of the request.
    static func oauthOptions(
        allowedRedirects: RedirectAllowList,
        _ lookup: (String) -> String?
    ) throws(BrokerError) -> [(String, String)] {
        let source = lookup("referral_source")?.uppercased() ?? "BROWSER"
        guard source == "BROWSER" || source == "APP" else {
            throw BrokerError.badRequest(.invalidReferralSource, "referral_source must be BROWSER or APP.")
        }
        var options = [("referral_source", source)]
        if let redirect = lookup("client_redirect_url") {
            guard source == "APP" else {
                throw BrokerError.badRequest(.invalidReferralSource, "client_redirect_url is only used with referral_source APP.")
            }
            try allowedRedirects.check(redirect)
            options.append(("client_redirect_url", redirect))
        }
        if let scheme = lookup("ui_message_webview_url_scheme") {
            guard WidgetURLRequest.isPlainScheme(scheme) else {
                throw BrokerError.badRequest(.invalidURLScheme, "ui_message_webview_url_scheme must be an app's URL scheme, like mx or myapp.")
            }
            options.append(("ui_message_webview_url_scheme", scheme))
        }
        return options
    }
}
