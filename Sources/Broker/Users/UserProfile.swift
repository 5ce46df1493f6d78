import Crypto
import Foundation

/// What the broker may tell MX about a user besides the opaque `id`, as MX recommends: an email
/// address and first and last names, read from named claims of the caller's token. Only these
/// claims are read, so no other claim (and no secret) can reach MX.
struct UserProfile: Sendable, Equatable {
    var email: String?
    var firstName: String?
    var lastName: String?

    /// The email to send MX: the claim when it looks like an address, else none.
    var mxEmail: String? {
        guard let email, email.utf8.count <= 254, email.wholeMatch(of: /[^@\s]+@[^@\s]+\.[^@\s]+/) != nil else { return nil }
        return email
    }

    /// MX's `metadata`: JSON text with the date the MX user was created and the names.
    func metadata(createdAt: Date) -> String {
        BrokerJSON.text(of: Metadata(createdAt: createdAt.formatted(.iso8601), firstName: firstName, lastName: lastName))
    }

    /// Changes whenever what MX is sent changes (the creation date never does).
    var digest: String {
        let text = [mxEmail ?? "", firstName ?? "", lastName ?? ""].joined(separator: "\u{0}")
        return Hex.string(Array(SHA256.hash(data: Data(text.utf8))))
    }

    private struct Metadata: Encodable {
        let createdAt: String
        let firstName: String?
        let lastName: String?

        enum CodingKeys: String, CodingKey {
            case createdAt = "created_at"
            case firstName = "first_name"
            case lastName = "last_name"
        }
    }
}

/// The names of the token claims a ``UserProfile`` is read from (OpenID Connect's by default).
public struct ProfileClaimNames: Sendable, Equatable {
    /// The claim holding the user's email address.
    public var email: String
    /// The claim holding the user's first name.
    public var firstName: String
    /// The claim holding the user's last name.
    public var lastName: String

    /// Names the three claims; OpenID Connect's standard names unless told otherwise.
    public init(email: String = "email", firstName: String = "given_name", lastName: String = "family_name") {
        self.email = email
        self.firstName = firstName
        self.lastName = lastName
    }

    /// The claims this profile reads.
    var all: [String] { [email, firstName, lastName] }

    /// The profile in `claims` (a token's string claims); empty values count as absent, and
    /// names are cut to 100 characters.
    func profile(from claims: [String: String]) -> UserProfile {
        func value(_ name: String, limit: Int) -> String? {
            guard let text = claims[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else { return nil }
            return String(text.prefix(limit))
        }
        return UserProfile(email: value(email, limit: 254), firstName: value(firstName, limit: 100), lastName: value(lastName, limit: 100))
    }
}
