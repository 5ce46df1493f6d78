import Foundation

/// A simulated financial institution.
struct SandboxInstitution: Sendable {
    /// How a connection to this institution goes.
    enum Scenario: Sendable {
        /// Valid credentials connect; others are denied.
        case standard
        /// Valid credentials lead to an MFA challenge; right answers connect, wrong ones are
        /// rejected. Verification asks the questions again.
        case multiFactor
        /// No credentials: the user authorizes on the institution's OAuth page, then it connects.
        case oauth
        /// Every attempt is denied.
        case denied
    }

    let code: String
    let guid: String
    let name: String
    let url: String
    let scenario: Scenario
    /// What the institution offers beyond aggregation; a premium job for anything else is MX's 400.
    let products: Set<SandboxProduct>

    var isOAuth: Bool { scenario == .oauth }

    /// The credential fields MX asks the user for, in display order (none for OAuth).
    var credentials: [SandboxCredentialField] {
        guard !isOAuth else { return [] }
        return [
            SandboxCredentialField(guid: "CRD-\(code)-username", fieldName: "username", label: "Username", type: "LOGIN", displayOrder: 1),
            SandboxCredentialField(guid: "CRD-\(code)-password", fieldName: "password", label: "Password", type: "PASSWORD", displayOrder: 2),
        ]
    }

    /// Whether `username` / `password` log in at this institution: `mxuser`, or another login
    /// of the same person written `mxuser+tag` (MX refuses a second member with the same
    /// credentials, so a user with two members at one bank needs two logins).
    func accepts(username: String, password: String) -> Bool {
        switch scenario {
        case .standard, .multiFactor:
            (username == Self.validUsername || username.hasPrefix(Self.validUsername + "+")) && password == Self.validPassword
        case .oauth: true
        case .denied: false
        }
    }

    /// The username every sandbox institution that connects accepts.
    static let validUsername = "mxuser"
    /// The password every sandbox institution that connects accepts.
    static let validPassword = "password"

    /// What the banks that connect offer: every product the sandbox serves.
    private static let fullService: Set<SandboxProduct> = [
        .transactions, .accountVerification, .identityVerification, .transactionHistory, .statements, .investments,
    ]

    static let all: [SandboxInstitution] = [
        SandboxInstitution(
            code: "mxbank",
            guid: "INS-1572a04c-912b-59bf-5841-332c7dfafaef",
            name: "MX Bank",
            url: "https://www.mx.com",
            scenario: .standard,
            products: fullService
        ),
        SandboxInstitution(
            code: "mxbank_mfa",
            guid: "INS-2b6f3e8a-7c41-4d09-b5e2-9a1c0d3f7e64",
            name: "MX Bank (MFA)",
            url: "https://www.mx.com/mfa",
            scenario: .multiFactor,
            products: fullService
        ),
        SandboxInstitution(
            code: "mxbank_oauth",
            guid: "INS-68e96dd6-eabd-42d3-9f05-416897f0746c",
            name: "MX Bank (OAuth)",
            url: "https://www.mx.com/oauth",
            scenario: .oauth,
            products: fullService
        ),
        SandboxInstitution(
            code: "mx_credit_union",
            guid: "INS-4f0b1cd4-6e40-4c2a-9d77-2b2f0a1c3e51",
            name: "MX Credit Union",
            url: "https://www.mx.com/credit-union",
            scenario: .standard,
            products: [.transactions]
        ),
        SandboxInstitution(
            code: SandboxMicrodeposit.institutionCode,
            guid: "INS-3e1b7c90-5d24-4a8f-b6c3-0f9e2d71a845",
            name: "MX Bank (microdeposits)",
            url: "https://www.mx.com/microdeposits",
            scenario: .standard,
            products: [.transactions]
        ),
        SandboxInstitution(
            code: "denied_bank",
            guid: "INS-8d3c6a52-0f7e-4b1d-a7c9-5e2f4d6b8a10",
            name: "Denied Bank",
            url: "https://denied.example",
            scenario: .denied,
            products: [.transactions]
        ),
    ]

    static func named(_ code: String) -> SandboxInstitution? {
        all.first { $0.code == code }
    }

    /// The institution by its code, or in v20250224 by its guid too.
    static func identified(by identifier: String, version: SandboxAPIVersion) -> SandboxInstitution? {
        named(identifier) ?? (version == .v20250224 ? all.first { $0.guid == identifier } : nil)
    }

    /// MX's `InstitutionResponse` in `version`'s shape: v20250224 lists `supported_products`,
    /// v20111101 has a `supports_…` flag per product.
    func json(_ version: SandboxAPIVersion) -> SandboxJSON {
        var fields: [(String, SandboxJSON)] = [
            ("code", .string(code)), ("forgot_password_url", .null), ("forgot_username_url", .null), ("guid", .string(guid)),
            ("instructional_text", .null), ("instructional_text_steps", .array([])), ("is_disabled_by_client", .bool(false)),
            ("iso_country_code", .string("US")), ("medium_logo_url", .null), ("name", .string(name)), ("small_logo_url", .null),
            ("supports_oauth", .bool(isOAuth)), ("supports_tax_document", .bool(false)), ("trouble_signing_in_url", .null),
            ("url", .string(url)),
        ]
        switch version {
        case .v20250224:
            fields += [
                ("created_at", .string("2025-02-13T18:08:00+00:00")), ("is_hidden", .bool(false)),
                ("supported_products", .array(SandboxProduct.allCases.filter(products.contains).map { .string($0.rawValue) })),
            ]
        case .v20111101:
            fields += [
                ("supports_account_identification", .bool(products.contains(.identityVerification))),
                ("supports_account_statement", .bool(products.contains(.statements))),
                ("supports_account_verification", .bool(products.contains(.accountVerification))),
                ("supports_transaction_history", .bool(products.contains(.transactionHistory))),
            ]
        }
        return .object(fields)
    }

    /// The MFA challenges of a multi-factor institution, and their right answers.
    static let challenges: [SandboxChallenge] = [
        SandboxChallenge(guid: "CRD-mfa-text", label: "What city were you born in?", type: "TEXT", options: [], answer: "mxcity"),
        SandboxChallenge(
            guid: "CRD-mfa-options",
            label: "Which of these accounts is yours?",
            type: "OPTIONS",
            options: [("Checking ending 1234", "checking-1234"), ("Savings ending 9876", "savings-9876")],
            answer: "checking-1234"
        ),
        SandboxChallenge(
            guid: "CRD-mfa-image",
            label: "Enter the code shown in the image.",
            type: "IMAGE_DATA",
            options: [],
            answer: "7291",
            imageData: imageCode
        ),
    ]

    /// The image of the image challenge, a code to type, as MX sends images: a data URI.
    static let imageCode: String = {
        let svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="160" height="56" viewBox="0 0 160 56">\
            <rect width="160" height="56" rx="8" fill="#eef2fb"/>\
            <path d="M8 40 C40 20 70 50 152 18" stroke="#9db1e0" stroke-width="2" fill="none"/>\
            <text x="80" y="38" font-family="monospace" font-size="28" text-anchor="middle" letter-spacing="6" fill="#1d2433">7291</text>\
            </svg>
            """
        return "data:image/svg+xml;base64," + Data(svg.utf8).base64EncodedString()
    }()
}

/// MX's products (`SupportedProducts`), in the order MX's document lists them.
enum SandboxProduct: String, CaseIterable, Codable, Sendable {
    case accountVerification = "account_verification"
    case identityVerification = "identity_verification"
    case transactions
    case transactionHistory = "transaction_history"
    case statements
    case investments
    case rewards
}

/// One field of an institution's login form.
struct SandboxCredentialField: Sendable {
    let guid: String
    let fieldName: String
    let label: String
    let type: String
    let displayOrder: Int

    var json: SandboxJSON {
        .object([
            ("display_order", .int(Int64(displayOrder))), ("field_name", .string(fieldName)), ("field_type", .string(type)),
            ("guid", .string(guid)), ("label", .string(label)), ("type", .string(type)),
        ])
    }
}

/// One MFA question put to a challenged member.
struct SandboxChallenge: Sendable {
    let guid: String
    let label: String
    /// `TEXT`, `OPTIONS` or `IMAGE_DATA`.
    let type: String
    let options: [(label: String, value: String)]
    let answer: String
    /// For `IMAGE_DATA`: the image, as a data URI.
    var imageData: String? = nil

    var json: SandboxJSON {
        .object([
            ("field_name", .string(guid)), ("guid", .string(guid)), ("image_data", .string(imageData)), ("image_options", .array([])),
            ("label", .string(label)),
            ("options", .array(options.map { .object([("label", .string($0.label)), ("value", .string($0.value))]) })),
            ("type", .string(type)),
        ])
    }

    /// Whether `answers` (challenge guid → value) answer every challenge rightly.
    static func areRight(_ answers: [String: String]) -> Bool {
        SandboxInstitution.challenges.allSatisfy { answers[$0.guid]?.trimmingCharacters(in: .whitespaces).lowercased() == $0.answer }
    }
}
