import Crypto
import Foundation

/// A monthly statement of one account, as a fetch of statements finds it.
struct SandboxStatement: Sendable {
    let guid: String
    let account: SandboxAccount
    /// The first and last day (since 1970, UTC) of the statement's month.
    let firstDay: Int
    let lastDay: Int
    let fetchedAt: Date

    /// The statement as its bank would print it: the period, balances and every transaction.
    var pdf: Data {
        let transactions = SandboxLedger.transactions(of: account.withFullHistory)
        let inPeriod = transactions.filter { (firstDay...lastDay).contains($0.day) }.sorted { ($0.day, $0.guid) < ($1.day, $1.guid) }
        let afterPeriod = transactions.filter { $0.day > lastDay }
        let closing = account.balanceCents - afterPeriod.reduce(0) { $0 + account.change(by: $1) }
        let opening = closing - inPeriod.reduce(0) { $0 + account.change(by: $1) }
        var lines = [
            account.name,
            "Statement period \(SandboxClock.dateText(day: firstDay)) to \(SandboxClock.dateText(day: lastDay))",
            "Account ending in \(account.accountNumberLast4)",
            "",
            "Opening balance \(Self.dollars(opening))",
            "Closing balance \(Self.dollars(closing))",
            "",
        ]
        lines += inPeriod.map { "\(SandboxClock.dateText(day: $0.day))  \($0.description)  \($0.isCredit ? "" : "-")\(Self.dollars($0.amountCents))" }
        return SandboxPDF(title: "\(account.name) statement \(SandboxClock.dateText(day: firstDay).prefix(7))", lines: lines).data
    }

    /// The SHA-256 of the PDF, hex, as MX's `content_hash`.
    var contentHash: String {
        SHA256.hash(data: pdf).map { String(format: "%02x", $0) }.joined()
    }

    private static func dollars(_ cents: Int64) -> String {
        let sign = cents < 0 ? "-" : ""
        return "\(sign)$\(abs(cents) / 100).\(String(format: "%02lld", abs(cents) % 100))"
    }
}

/// The statements a fetch finds: one for each of the last twelve full months before the
/// member was created, for every account.
enum SandboxStatements {
    static let months = 12

    static func statements(of accounts: [SandboxAccount], fetchedAt: Date) -> [SandboxStatement] {
        accounts.flatMap { account in
            let created = Date(timeIntervalSince1970: Double(account.member.createdDay) * 86_400)
            let monthStart = SandboxClock.utc.dateInterval(of: .month, for: created)!.start
            return (1...months).map { back in
                let start = SandboxClock.utc.date(byAdding: .month, value: -back, to: monthStart)!
                let end = SandboxClock.utc.date(byAdding: .month, value: 1, to: start)!
                let firstDay = SandboxClock.day(of: start)
                return SandboxStatement(
                    guid: SandboxLedger.stableGUID(prefix: "STA", parts: [account.guid, String(firstDay)]),
                    account: account,
                    firstDay: firstDay,
                    lastDay: SandboxClock.day(of: end) - 1,
                    fetchedAt: fetchedAt
                )
            }
        }
    }
}
