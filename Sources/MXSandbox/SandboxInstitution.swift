/// A simulated financial institution.
struct SandboxInstitution: Sendable {
    /// How a connection to this institution turns out.
    enum Outcome: Sendable { case connectsWithValidCredentials, alwaysDenied }

    let code: String
    let guid: String
    let name: String
    let url: String
    let outcome: Outcome

    /// The credential fields MX asks the user for, in display order.
    var credentials: [SandboxCredentialField] {
        [
            SandboxCredentialField(guid: "CRD-\(code)-username", fieldName: "username", label: "Username", type: "LOGIN", displayOrder: 1),
            SandboxCredentialField(guid: "CRD-\(code)-password", fieldName: "password", label: "Password", type: "PASSWORD", displayOrder: 2),
        ]
    }

    /// Whether `username` / `password` log in at this institution.
    func accepts(username: String, password: String) -> Bool {
        outcome == .connectsWithValidCredentials && username == Self.validUsername && password == Self.validPassword
    }

    /// The username every sandbox institution that connects accepts.
    static let validUsername = "mxuser"
    /// The password every sandbox institution that connects accepts.
    static let validPassword = "password"

    static let all: [SandboxInstitution] = [
        SandboxInstitution(
            code: "mxbank",
            guid: "INS-1572a04c-912b-59bf-5841-332c7dfafaef",
            name: "MX Bank",
            url: "https://www.mx.com",
            outcome: .connectsWithValidCredentials
        ),
        SandboxInstitution(
            code: "mx_credit_union",
            guid: "INS-4f0b1cd4-6e40-4c2a-9d77-2b2f0a1c3e51",
            name: "MX Credit Union",
            url: "https://www.mx.com/credit-union",
            outcome: .connectsWithValidCredentials
        ),
        SandboxInstitution(
            code: "denied_bank",
            guid: "INS-8d3c6a52-0f7e-4b1d-a7c9-5e2f4d6b8a10",
            name: "Denied Bank",
            url: "https://denied.example",
            outcome: .alwaysDenied
        ),
    ]

    static func named(_ code: String) -> SandboxInstitution? {
        all.first { $0.code == code }
    }

    var json: SandboxJSON {
        .object([
            ("code", .string(code)), ("guid", .string(guid)), ("medium_logo_url", .null), ("name", .string(name)),
            ("small_logo_url", .null), ("supports_account_identification", .bool(true)),
            ("supports_account_statement", .bool(false)), ("supports_account_verification", .bool(true)),
            ("supports_oauth", .bool(false)), ("supports_transaction_history", .bool(true)), ("url", .string(url)),
        ])
    }
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
