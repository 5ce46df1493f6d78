/// The full numbers and the owner of a sandbox account, the same every time for the same account.
///
/// Only deposit accounts (checking and savings) have numbers, as with ACH. Routing numbers pass
/// the ABA checksum, and the account number ends in the last four digits the account lists show.
enum SandboxAccountDetails {
    struct Numbers: Sendable {
        let guid: String
        let accountNumber: String
        let routingNumber: String
    }

    struct Owner: Sendable {
        let guid: String
        let firstName: String
        let lastName: String
        let address: String
        let city: String
        let state: String
        let postalCode: String
        let phone: String

        var name: String { "\(firstName) \(lastName)" }
        var email: String { "\(firstName).\(lastName)@example.com".lowercased() }
    }

    static func numbers(of account: SandboxAccount) -> Numbers? {
        guard account.type == "CHECKING" || account.type == "SAVINGS" else { return nil }
        var random = SeededRandom(seed: account.guid + "|numbers")
        let leading = (0..<6).map { _ in String(random.next(below: 10)) }.joined()
        return Numbers(
            guid: SandboxLedger.stableGUID(prefix: "ACN", parts: [account.guid]),
            accountNumber: leading + account.accountNumberLast4,
            routingNumber: routingNumber(random: &random)
        )
    }

    /// One owner per account, the same person for every account of a member.
    static func owner(of account: SandboxAccount) -> Owner {
        var random = SeededRandom(seed: account.member.guid + "|owner")
        let (city, state, postalCode) = places[random.next(below: places.count)]
        return Owner(
            guid: SandboxLedger.stableGUID(prefix: "ACO", parts: [account.guid]),
            firstName: firstNames[random.next(below: firstNames.count)],
            lastName: lastNames[random.next(below: lastNames.count)],
            address: "\(100 + random.next(below: 9_800)) \(streets[random.next(below: streets.count)])",
            city: city,
            state: state,
            postalCode: postalCode,
            phone: "555-01\(10 + random.next(below: 90))"
        )
    }

    /// Whether `number` is nine digits whose weighted sum (3, 7, 1, repeated) is a multiple of ten.
    static func passesABAChecksum(_ number: String) -> Bool {
        let digits = number.compactMap(\.wholeNumberValue)
        guard number.count == 9, digits.count == 9 else { return false }
        let weights = [3, 7, 1, 3, 7, 1, 3, 7, 1]
        return zip(digits, weights).reduce(0) { $0 + $1.0 * $1.1 } % 10 == 0
    }

    /// A routing number of a Federal Reserve district (first two digits 01–12) with its check digit.
    private static func routingNumber(random: inout SeededRandom) -> String {
        let district = 1 + random.next(below: 12)
        var digits = [district / 10, district % 10] + (0..<6).map { _ in random.next(below: 10) }
        let weights = [3, 7, 1, 3, 7, 1, 3, 7]
        let sum = zip(digits, weights).reduce(0) { $0 + $1.0 * $1.1 }
        digits.append((10 - sum % 10) % 10)
        return digits.map(String.init).joined()
    }

    private static let firstNames = ["Avery", "Jordan", "Morgan", "Riley", "Casey", "Quinn", "Taylor", "Rowan"]
    private static let lastNames = ["Sample", "Rivera", "Okafor", "Lindqvist", "Tanaka", "Moreau", "Haddad", "Novak"]
    private static let streets = ["Main Street", "Oak Avenue", "Maple Drive", "Cedar Lane", "Park Road"]
    private static let places = [
        ("Lehi", "UT", "84043"), ("Provo", "UT", "84601"), ("Boise", "ID", "83702"), ("Denver", "CO", "80202"),
    ]
}
