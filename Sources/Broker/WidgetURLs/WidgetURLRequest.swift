import BrokerCore
import Foundation
import HTTPTypes
import MXPlatform

/// A widget URL request as MX's web SDK sends it in proxy mode (`{"widget_url": {...}}`),
/// reduced to what the broker lets through to MX.
///
/// Fields outside the allow-list are dropped, each kept field must have MX's type, enumerations
/// must hold one of MX's values, `ui_message_version` is always 4, and `client_redirect_url`
/// must start with a configured prefix. The MX products the widget would fetch are worked out
/// from both versions' fields (`mode`, `include_*`, `data_request`), for the operator's allow-list.
struct WidgetURLRequest {
    private enum FieldType { case string, bool, stringArray, object }

    private static let allowedFields: [String: FieldType] = [
        "widget_type": .string, "mode": .string, "data_request": .object, "is_mobile_webview": .bool,
        "ui_message_webview_url_scheme": .string, "oauth_referral_source": .string, "client_redirect_url": .string,
        "enable_app2app": .bool, "current_member_guid": .string, "current_institution_code": .string,
        "current_institution_guid": .string, "current_microdeposit_guid": .string, "disable_institution_search": .bool,
        "update_credentials": .bool, "include_transactions": .bool, "include_identity": .bool,
        "disable_background_agg": .bool, "color_scheme": .string, "use_cases": .stringArray,
        "connections_use_case_filter": .bool, "iso_country_code": .stringArray, "locale": .string,
        "deep_link_params": .object, "style": .object, "additional_product_option": .string,
    ]

    private static let enumerations: [String: Set<String>] = [
        "widget_type": ["connect_widget", "connections_widget"],
        "oauth_referral_source": ["BROWSER", "APP"],
        "color_scheme": ["light", "dark", "browser"],
        "additional_product_option": ["account_verification", "transactions"],
    ]

    private static let forbiddenSchemes: Set<String> = ["javascript", "data", "vbscript", "file", "about", "blob"]

    /// The `widget_url` object to send to MX.
    private(set) var fields: [String: JSONValue]

    /// The member the widget should open on, if the caller asked for one.
    var currentMemberGUID: String? { fields["current_member_guid"]?.stringValue }

    /// The microdeposit whose flow the widget should resume, if the caller asked for one.
    var currentMicrodepositGUID: String? { fields["current_microdeposit_guid"]?.stringValue }

    /// The MX products the widget would fetch.
    private(set) var products: Set<MXProduct> = []

    init(body: JSONValue, allowedRedirects: RedirectAllowList) throws(BrokerError) {
        guard let object = body.objectValue else {
            throw BrokerError.badRequest(.invalidBody, "The body must be a JSON object: {\"widget_url\": {...}}.")
        }
        let requested: [String: JSONValue]
        switch object["widget_url"] {
        case .none, .null: requested = [:]
        case .object(let value): requested = value
        default: throw BrokerError.badRequest(.invalidBody, "widget_url must be a JSON object.")
        }
        var fields: [String: JSONValue] = [:]
        for (name, value) in requested {
            guard let type = Self.allowedFields[name], value != .null else { continue }
            try Self.check(name, value, is: type)
            fields[name] = value
        }
        fields["widget_type"] = fields["widget_type"] ?? .string("connect_widget")
        fields["ui_message_version"] = .integer(4)
        for (name, allowed) in Self.enumerations {
            if let value = fields[name]?.stringValue, !allowed.contains(value) {
                throw BrokerError(
                    .unprocessableContent,
                    .invalidWidgetURLField,
                    "\(name) must be one of: \(allowed.sorted().joined(separator: ", "))."
                )
            }
        }
        var modes: Set<String> = ["aggregation"]
        if let mode = fields["mode"]?.stringValue {
            modes = Set(mode.split(separator: ",").map { String($0.trimmingOptionalWhitespace) })
            guard !modes.isEmpty, modes.allSatisfy({ $0 == "aggregation" || $0 == "verification" }) else {
                throw BrokerError(.unprocessableContent, .invalidWidgetURLField, "mode must be aggregation or verification.")
            }
        }
        if let dataRequest = fields["data_request"] {
            let requested = try Self.dataRequestProducts(dataRequest)
            fields["data_request"] = .object(["products": .array(requested.map { .string($0.rawValue) })])
            products = Set(requested)
        } else {
            if modes.contains("aggregation") || fields["include_transactions"] == .bool(true) { products.insert(.transactions) }
            if modes.contains("verification") { products.insert(.accountVerification) }
        }
        if fields["include_identity"] == .bool(true) { products.insert(.identityVerification) }
        if let option = fields["additional_product_option"]?.stringValue, let product = MXProduct(rawValue: option) { products.insert(product) }
        if let microdepositGUID = fields["current_microdeposit_guid"]?.stringValue {
            guard Identifier.isValid(microdepositGUID) else { throw BrokerError.notFound("No such microdeposit for this user.") }
            products.insert(.accountVerification)
        }
        if let scheme = fields["ui_message_webview_url_scheme"]?.stringValue {
            guard Self.isPlainScheme(scheme) else {
                throw BrokerError(
                    .unprocessableContent,
                    .invalidWidgetURLField,
                    "ui_message_webview_url_scheme must be an app's URL scheme, like mx or myapp."
                )
            }
        }
        if let memberGUID = fields["current_member_guid"]?.stringValue, !Identifier.isValid(memberGUID) {
            throw BrokerError.notFound("No such member for this user.")
        }
        if let redirect = fields["client_redirect_url"]?.stringValue {
            try allowedRedirects.check(redirect)
        }
        self.fields = fields
    }

    /// The products of a v20250224 `data_request`: `{"products": [...]}` of MX's product names.
    private static func dataRequestProducts(_ value: JSONValue) throws(BrokerError) -> [MXProduct] {
        guard case .array(let names)? = value.objectValue?["products"], !names.isEmpty, names.count <= MXProduct.allCases.count * 2 else {
            throw BrokerError.badRequest(.invalidWidgetURLField, "widget_url.data_request must be {\"products\": [...]} with at least one product.")
        }
        var products: [MXProduct] = []
        for name in names {
            guard let product = name.stringValue.flatMap(MXProduct.init(rawValue:)) else {
                throw BrokerError(
                    .unprocessableContent,
                    .invalidWidgetURLField,
                    "data_request.products must hold MX products: \(MXProduct.allCases.map(\.rawValue).joined(separator: ", "))."
                )
            }
            if !products.contains(product) { products.append(product) }
        }
        return products
    }

    private static func check(_ name: String, _ value: JSONValue, is type: FieldType) throws(BrokerError) {
        let matches: Bool
        switch (type, value) {
        case (.string, .string(let text)): matches = text.utf8.count <= 2048
        case (.bool, .bool): matches = true
        case (.stringArray, .array(let items)): matches = items.count <= 32 && items.allSatisfy { $0.stringValue != nil }
        case (.object, .object): matches = true
        default: matches = false
        }
        guard matches else {
            let expected =
                switch type {
                case .string: "a string"
                case .bool: "true or false"
                case .stringArray: "an array of strings"
                case .object: "an object"
                }
            throw BrokerError.badRequest(.invalidWidgetURLField, "widget_url.\(name) must be \(expected).")
        }
    }

    /// Whether `scheme` is an app's own URL scheme: a lowercase letter, then letters, digits,
    /// `+`, `-` or `.`, and none of the web's or the system's schemes.
    static func isPlainScheme(_ scheme: String) -> Bool {
        guard let first = scheme.unicodeScalars.first, ("a"..."z").contains(first),
            scheme.count <= 32, !forbiddenSchemes.contains(scheme.lowercased())
        else { return false }
        return scheme.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "+" || $0 == "-" || $0 == "." }
    }
}

/// Identifiers that may be placed in an MX path: MX guids (`MBR-…`) and partner ids.
enum Identifier {
    /// 1–128 letters, digits, `-` or `_`.
    static func isValid(_ text: some StringProtocol) -> Bool {
        !text.isEmpty && text.utf8.count <= 128
            && text.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x2D || byte == 0x5F
            }
    }
}
