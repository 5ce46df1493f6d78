import Foundation

/// A simulated account.
struct SandboxAccount: Sendable {
    let guid: String
    let member: SandboxMember
    let name: String
    let type: String
    let subtype: String?
    let balanceCents: Int64
    let availableBalanceCents: Int64?
    let creditLimitCents: Int64?
    let accountNumberLast4: String
    let apr: Int64?
    /// How many days of transactions the account has, ending on the member's creation day.
    let historyDays: Int
    /// When the transactions beyond the first aggregation's window were added, if they were.
    let historyExtendedAt: Date?

    /// Whether the account holds securities (a brokerage or retirement account).
    var isInvestment: Bool { type == "INVESTMENT" }

    /// Whether a credit adds to the balance (an asset), rather than paying a debt down.
    var isAsset: Bool { type != "CREDIT_CARD" && type != "MORTGAGE" }

    /// What `transaction` did to the balance.
    func change(by transaction: SandboxTransaction) -> Int64 {
        transaction.isCredit == isAsset ? transaction.amountCents : -transaction.amountCents
    }

    /// The account with all the history its bank keeps, as its statements show it.
    var withFullHistory: SandboxAccount {
        SandboxAccount(
            guid: guid,
            member: member,
            name: name,
            type: type,
            subtype: subtype,
            balanceCents: balanceCents,
            availableBalanceCents: availableBalanceCents,
            creditLimitCents: creditLimitCents,
            accountNumberLast4: accountNumberLast4,
            apr: apr,
            historyDays: SandboxLedger.extendedHistoryDays,
            historyExtendedAt: historyExtendedAt
        )
    }
}

/// A simulated transaction.
struct SandboxTransaction: Sendable {
    let guid: String
    let account: SandboxAccount
    /// Days since 1970-01-01 (UTC).
    let day: Int
    let amountCents: Int64
    let isCredit: Bool
    let isPending: Bool
    let description: String
    let category: String
    let topLevelCategory: String
    /// When MX last changed the transaction: the first aggregation, or the history extension
    /// that added it.
    let updatedAt: Date

    /// Whether the transaction lies beyond the first aggregation's window, so only an extended
    /// history has it.
    var isFromExtendedHistory: Bool { day <= account.member.createdDay - SandboxLedger.historyDays }

    /// Noon UTC of the transaction's day, as a unix timestamp.
    var timestamp: Int64 { Int64(day) * 86_400 + 43_200 }
}

/// Generates each member's accounts and transactions, the same every time for the same member.
///
/// Data is seeded by the member guid and anchored at the day the member was created: accounts of
/// several types and 120 days of transactions ending on that day (the last two still pending),
/// 730 once the history is extended. Each balance check moves the balances a little.
enum SandboxLedger {
    static let historyDays = 120
    static let extendedHistoryDays = 730

    /// What the member's completed jobs have done to its data.
    struct View: Sendable {
        var balanceChecks = 0
        var historyDays = SandboxLedger.historyDays
        var historyExtendedAt: Date? = nil
    }

    static func accounts(of member: SandboxMember, view: View = View()) -> [SandboxAccount] {
        var random = SeededRandom(seed: member.guid)
        var templates: [(String, String, String?)] = [
            ("Checking", "CHECKING", nil),
            ("Savings", "SAVINGS", nil),
            ("Credit Card", "CREDIT_CARD", nil),
        ]
        if random.next(below: 2) == 0 {
            templates.append(("Home Mortgage", "MORTGAGE", nil))
        }
        if random.next(below: 2) == 0 {
            templates.append(("Retirement", "INVESTMENT", "PLAN_401_K"))
        }
        if member.institution?.products.contains(.investments) == true {
            templates.append(("Brokerage", "INVESTMENT", "BROKERAGE"))
        }
        return templates.enumerated().map { index, template in
            let (name, type, subtype) = template
            let guid = stableGUID(prefix: "ACT", parts: [member.guid, String(index)])
            let openingBalance: Int64 =
                switch type {
                case "CHECKING": 150_000 + Int64(random.next(below: 600_000))
                case "SAVINGS": 500_000 + Int64(random.next(below: 3_000_000))
                case "CREDIT_CARD": 20_000 + Int64(random.next(below: 300_000))
                case "MORTGAGE": 18_000_000 + Int64(random.next(below: 20_000_000))
                default: 4_000_000 + Int64(random.next(below: 9_000_000))
                }
            let balance = openingBalance + balanceMovement(accountGUID: guid, checks: view.balanceChecks)
            let creditLimit: Int64? = type == "CREDIT_CARD" ? 1_000_000 : nil
            return SandboxAccount(
                guid: guid,
                member: member,
                name: "\(institutionName(member)) \(name)",
                type: type,
                subtype: subtype,
                balanceCents: balance,
                availableBalanceCents: type == "CHECKING" || type == "SAVINGS" ? balance : creditLimit.map { $0 - balance },
                creditLimitCents: creditLimit,
                accountNumberLast4: String(1000 + random.next(below: 9000)),
                apr: type == "CREDIT_CARD" ? 2199 : nil,
                historyDays: view.historyDays,
                historyExtendedAt: view.historyExtendedAt
            )
        }
    }

    /// How far `checks` balance checks have moved an account's balance: up to $50 either way
    /// each, the same every time.
    private static func balanceMovement(accountGUID: String, checks: Int) -> Int64 {
        (0..<checks).reduce(0) { total, check in
            var random = SeededRandom(seed: "\(accountGUID)|balance|\(check)")
            return total + Int64(random.next(below: 10_001)) - 5_000
        }
    }

    static func transactions(of account: SandboxAccount) -> [SandboxTransaction] {
        var random = SeededRandom(seed: account.guid)
        let lastDay = account.member.createdDay
        var result: [SandboxTransaction] = []
        for offset in 0..<account.historyDays {
            let day = lastDay - offset
            for (index, entry) in entries(for: account.type, day: day, random: &random).enumerated() {
                result.append(
                    SandboxTransaction(
                        guid: stableGUID(prefix: "TRN", parts: [account.guid, String(day), String(index)]),
                        account: account,
                        day: day,
                        amountCents: entry.cents,
                        isCredit: entry.isCredit,
                        isPending: offset < 2,
                        description: entry.merchant.name,
                        category: entry.merchant.category,
                        topLevelCategory: entry.merchant.topLevelCategory,
                        updatedAt: offset < historyDays ? account.member.createdAt : account.historyExtendedAt ?? account.member.createdAt
                    )
                )
            }
        }
        return result
    }

    private struct Merchant {
        let name: String
        let category: String
        let topLevelCategory: String
    }

    private static let everydayMerchants = [
        Merchant(name: "Whole Foods Market", category: "Groceries", topLevelCategory: "Food & Dining"),
        Merchant(name: "Starbucks", category: "Coffee Shops", topLevelCategory: "Food & Dining"),
        Merchant(name: "Shell", category: "Gas", topLevelCategory: "Auto & Transport"),
        Merchant(name: "Amazon", category: "Shopping", topLevelCategory: "Shopping"),
        Merchant(name: "Uber", category: "Ride Share", topLevelCategory: "Auto & Transport"),
        Merchant(name: "Chipotle", category: "Fast Food", topLevelCategory: "Food & Dining"),
        Merchant(name: "Target", category: "Shopping", topLevelCategory: "Shopping"),
        Merchant(name: "Netflix", category: "Television", topLevelCategory: "Entertainment"),
    ]
    private static let payroll = Merchant(name: "Acme Corp Payroll", category: "Paycheck", topLevelCategory: "Income")
    private static let utility = Merchant(name: "City Power & Light", category: "Utilities", topLevelCategory: "Bills & Utilities")
    private static let interest = Merchant(name: "Interest Paid", category: "Interest Income", topLevelCategory: "Income")
    private static let mortgage = Merchant(name: "Mortgage Payment", category: "Mortgage & Rent", topLevelCategory: "Home")
    private static let contribution = Merchant(name: "401(k) Contribution", category: "Investments", topLevelCategory: "Investments")

    private static func entries(for type: String, day: Int, random: inout SeededRandom) -> [(merchant: Merchant, cents: Int64, isCredit: Bool)] {
        let dayOfMonth = dayOfMonth(day)
        switch type {
        case "CHECKING":
            var entries: [(Merchant, Int64, Bool)] = []
            if dayOfMonth == 1 || dayOfMonth == 15 { entries.append((payroll, 245_000, true)) }
            if dayOfMonth == 20 { entries.append((utility, 8_000 + Int64(random.next(below: 6_000)), false)) }
            for _ in 0..<random.next(below: 3) {
                entries.append((everydayMerchants[random.next(below: everydayMerchants.count)], 300 + Int64(random.next(below: 12_000)), false))
            }
            return entries
        case "SAVINGS":
            return dayOfMonth == 28 ? [(interest, 200 + Int64(random.next(below: 1_500)), true)] : []
        case "CREDIT_CARD":
            return (0..<random.next(below: 3)).map { _ in
                (everydayMerchants[random.next(below: everydayMerchants.count)], 500 + Int64(random.next(below: 9_000)), false)
            }
        case "MORTGAGE":
            return dayOfMonth == 1 ? [(mortgage, 185_000, true)] : []
        default:
            return dayOfMonth == 15 ? [(contribution, 50_000, true)] : []
        }
    }

    private static func institutionName(_ member: SandboxMember) -> String {
        SandboxInstitution.named(member.institutionCode)?.name ?? "Sandbox"
    }

    private static func dayOfMonth(_ day: Int) -> Int {
        SandboxClock.utc.component(.day, from: Date(timeIntervalSince1970: Double(day) * 86_400))
    }

    /// A guid with MX's prefix whose body is a hash of `parts`: stable across runs.
    static func stableGUID(prefix: String, parts: [String]) -> String {
        var random = SeededRandom(seed: parts.joined(separator: "|"))
        let hex = (0..<2).map { _ in String(format: "%016llx", random.nextRaw()) }.joined()
        let chars = Array(hex)
        let body = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(chars[$0]) }.joined(separator: "-")
        return "\(prefix)-\(body)"
    }
}

/// A small, fast deterministic generator (SplitMix64) seeded by text.
struct SeededRandom {
    private var state: UInt64

    init(seed: String) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in seed.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        state = hash
    }

    mutating func nextRaw() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    mutating func next(below bound: Int) -> Int {
        Int(nextRaw() % UInt64(bound))
    }
}

/// Time helpers shared by the sandbox.
enum SandboxClock {
    static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    /// Days since 1970-01-01 (UTC) of `date`.
    static func day(of date: Date) -> Int {
        Int((date.timeIntervalSince1970 / 86_400).rounded(.down))
    }

    /// `YYYY-MM-DD` of a day number.
    static func dateText(day: Int) -> String {
        let parts = utc.dateComponents([.year, .month, .day], from: Date(timeIntervalSince1970: Double(day) * 86_400))
        return String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!)
    }

    /// The day number of `YYYY-MM-DD`, or `nil` when the text is not such a date.
    static func day(parsing text: String) -> Int? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard text.count == 10, parts.count == 3, let year = Int(parts[0]), let month = Int(parts[1]), let dayOfMonth = Int(parts[2]),
            let date = utc.date(from: DateComponents(year: year, month: month, day: dayOfMonth)),
            utc.component(.day, from: date) == dayOfMonth
        else { return nil }
        return day(of: date)
    }

    /// ISO 8601 with seconds, UTC (`2025-01-31T12:00:00Z`), as MX writes `_at` fields.
    static func isoText(_ date: Date) -> String {
        let parts = utc.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", parts.year!, parts.month!, parts.day!, parts.hour!, parts.minute!, parts.second!)
    }
}
