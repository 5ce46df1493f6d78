import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOFoundationCompat
import Testing

@testable import MXSandbox

@Suite("Sandbox: balances, extended history, statements and holdings")
struct SandboxDataProductTests {
    private func accounts(_ client: any TestClientProtocol, user: String, member: String) async throws -> [[String: Any]] {
        try #require(try await client.mx(.get, "/users/\(user)/members/\(member)/accounts").json["accounts"] as? [[String: Any]])
    }

    /// Every page of the member's transactions matching `query`.
    private func transactions(
        _ client: any TestClientProtocol,
        user: String,
        member: String,
        query: String,
        version: String = "v20111101"
    ) async throws -> [[String: Any]] {
        var all: [[String: Any]] = []
        for page in 1...20 {
            let path = "/users/\(user)/members/\(member)/transactions?records_per_page=1000&page=\(page)&\(query)"
            let batch = try #require(try await client.mx(.get, path, version: version).json["transactions"] as? [[String: Any]])
            if batch.isEmpty { break }
            all += batch
        }
        return all
    }

    @Test("a balance check answers 202 and, once done, has moved the balances; the same job running is 202, another is 409")
    func balanceCheck() async throws {
        try await withSandbox(connectDelay: .seconds(1)) { client async throws in
            let (user, member) = try await client.connectedMember()
            let before = try await accounts(client, user: user, member: member).map { $0["balance"] as? Double }
            #expect(try await client.mx(.post, "/users/\(user)/members/\(member)/check_balance").status == .accepted)
            #expect(try await client.mx(.post, "/users/\(user)/members/\(member)/check_balance").status == .accepted)
            #expect(try await client.mx(.post, "/users/\(user)/members/\(member)/extend_history").status == .conflict)
            try await client.waitUntilIdle(user: user, member: member)
            let after = try await accounts(client, user: user, member: member).map { $0["balance"] as? Double }
            #expect(after.count == before.count)
            #expect(after != before, "a completed balance check moves the balances")
        }
    }

    @Test("extending history adds up to 24 months of transactions, stamped with when they were added so from_updated_at finds just them")
    func extendedHistory() async throws {
        try await withSandbox { client async throws in
            let (user, member) = try await client.connectedMember()
            let everything = "from_date=2000-01-01&to_date=2100-01-01"
            let before = try await transactions(client, user: user, member: member, query: everything)
            // MX's update filters count whole seconds: start in a second after the first aggregation's.
            try await Task.sleep(for: .milliseconds(1001 - Int(Date().timeIntervalSince1970 * 1000) % 1000))
            let started = Int64(Date().timeIntervalSince1970)
            #expect(try await client.mx(.post, "/users/\(user)/members/\(member)/extend_history", version: "v20111101").status == .accepted)
            try await client.waitUntilIdle(user: user, member: member)
            let after = try await transactions(client, user: user, member: member, query: everything)
            #expect(after.count > before.count * 5, "two years of history instead of 120 days")
            let days = Set(after.compactMap { $0["date"] as? String }).sorted()
            let first = try #require(days.first.flatMap(SandboxClock.day(parsing:)))
            let last = try #require(days.last.flatMap(SandboxClock.day(parsing:)))
            #expect(last - first >= SandboxLedger.extendedHistoryDays - 7, "about 730 days from the first to the last")
            #expect(Set(before.compactMap { $0["guid"] as? String }).isSubset(of: Set(after.compactMap { $0["guid"] as? String })))
            let added = try await transactions(
                client,
                user: user,
                member: member,
                query: "from_date=0&to_date=4102444800&from_updated_at=\(started)",
                version: "v20250224"
            )
            #expect(added.count == after.count - before.count, "from_updated_at finds only what the extension added")
            let defaultWindow = try await transactions(client, user: user, member: member, query: "")
            #expect(defaultWindow.count < after.count, "the default window is still MX's 120 days")
        }
    }

    @Test("at MX Bank (MFA) extending history asks the MFA questions again")
    func multiFactorHistory() async throws {
        try await withSandbox { client async throws in
            let user = try await client.createUser(id: "mfa-history")
            let member = try await client.createMember(user: user, institution: "mxbank_mfa")
            #expect(try await client.answerChallenges(user: user, member: member).status == .accepted)
            try await client.waitUntilIdle(user: user, member: member)
            #expect(try await client.mx(.post, "/users/\(user)/members/\(member)/extend_history").status == .accepted)
            #expect(try await client.settledStatus(user: user, member: member, leaving: ["CONNECTED"]) == "CHALLENGED")
            #expect(try await client.answerChallenges(user: user, member: member).status == .accepted)
            try await client.waitUntilIdle(user: user, member: member)
        }
    }

    @Test("fetching statements lists twelve months per account, readable as JSON and as a PDF whose hash is the content_hash")
    func statements() async throws {
        try await withSandbox { client async throws in
            let (user, member) = try await client.connectedMember()
            let listPath = "/users/\(user)/members/\(member)/statements?records_per_page=1000"
            #expect((try await client.mx(.get, listPath).json["statements"] as? [Any])?.isEmpty == true, "none before a fetch")
            #expect(try await client.mx(.post, "/users/\(user)/members/\(member)/fetch_statements").status == .accepted)
            try await client.waitUntilIdle(user: user, member: member)
            let accountCount = try await accounts(client, user: user, member: member).count
            let list = try #require(try await client.mx(.get, listPath).json["statements"] as? [[String: Any]])
            #expect(list.count == accountCount * SandboxStatements.months)
            let statement = try #require(list.first)
            let guid = try #require(statement["guid"] as? String)
            #expect(guid.hasPrefix("STA-"))
            let read = try await client.mx(.get, "/users/\(user)/members/\(member)/statements/\(guid)", version: "v20111101")
            #expect((try read.json["statement"] as? [String: Any])?["guid"] as? String == guid)

            var headers = mxHeaders("v20111101")
            headers[.accept] = "application/vnd.mx.api.v1+pdf"
            let pdf = try await client.execute(uri: "/users/\(user)/members/\(member)/statements/\(guid).pdf", method: .get, headers: headers) { $0 }
            #expect(pdf.status == .ok)
            #expect(pdf.headers[.contentType] == "application/vnd.mx.api.v1+pdf")
            let bytes = Data(buffer: pdf.body)
            #expect(bytes.starts(with: Data("%PDF-1.4".utf8)))
            #expect(SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined() == statement["content_hash"] as? String)
            let objects = try PDFStructure.objectCount(bytes).get()
            #expect(objects >= 6, "catalog, pages, font, information, and a page with its content")
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(text.contains("(Statement period "))
            #expect(text.contains(/\(Closing balance -?\$[0-9]+\.[0-9]{2}\)/))
            #expect(try await client.mx(.get, "/users/\(user)/members/\(member)/statements/STA-missing.pdf").status == .notFound)
        }
    }

    @Test("investment accounts hold positions whose market values add up to the account's balance; other accounts hold none")
    func holdings() async throws {
        try await withSandbox { client async throws in
            let (user, member) = try await client.connectedMember()
            let all = try #require(
                try await client.mx(.get, "/users/\(user)/investment_holdings?records_per_page=1000").json["investment_holdings"] as? [[String: Any]]
            )
            #expect(!all.isEmpty)
            for account in try await accounts(client, user: user, member: member) {
                let guid = try #require(account["guid"] as? String)
                let held = try #require(
                    try await client.mx(.get, "/users/\(user)/accounts/\(guid)/investment_holdings", version: "v20111101").json["investment_holdings"]
                        as? [[String: Any]]
                )
                guard account["type"] as? String == "INVESTMENT" else {
                    #expect(held.isEmpty)
                    continue
                }
                let total = held.reduce(Decimal(0)) { $0 + Decimal(string: "\($1["market_value"] ?? 0)")! }
                #expect(total == Decimal(string: "\(account["balance"] ?? 0)")!, "positions add up to the balance")
                for position in held {
                    let quantity = try #require(Double(position["quantity"] as? String ?? ""))
                    let price = try #require(position["current_price"] as? Double)
                    let value = try #require(position["market_value"] as? Double)
                    #expect(abs(quantity * price - value) < 0.02)
                    #expect((position["symbol"] as? String)?.isEmpty == false)
                }
            }
            let one = try #require(all.first?["guid"] as? String)
            #expect(
                ((try await client.mx(.get, "/users/\(user)/investment_holdings/\(one)").json["investment_holding"]) as? [String: Any])?["guid"]
                    as? String == one
            )
            let byMember = try await client.mx(.get, "/users/\(user)/members/\(member)/investment_holdings?records_per_page=1000").json
            #expect((byMember["investment_holdings"] as? [Any])?.count == all.count)
        }
    }

    @Test("a bank without these products answers MX's 400 to each job and holds no positions")
    func unsupported() async throws {
        try await withSandbox { client async throws in
            let (user, member) = try await client.connectedMember(institution: "mx_credit_union")
            for job in ["check_balance", "extend_history", "fetch_statements"] {
                #expect(try await client.mx(.post, "/users/\(user)/members/\(member)/\(job)").status == .badRequest, "\(job)")
            }
            #expect((try await client.mx(.get, "/users/\(user)/investment_holdings").json["investment_holdings"] as? [Any])?.isEmpty == true)
        }
    }

    @Test("includes adds the enhancements it names to each transaction")
    func includes() async throws {
        try await withSandbox { client async throws in
            let (user, member) = try await client.connectedMember()
            let plain = try await transactions(client, user: user, member: member, query: "")
            #expect(plain.allSatisfy { $0["merchant"] == nil })
            let enhanced = try await transactions(client, user: user, member: member, query: "includes=merchants,classifications")
            #expect(enhanced.allSatisfy { ($0["merchant"] as? [String: Any])?["name"] as? String == $0["description"] as? String })
            #expect(enhanced.allSatisfy { $0["classification"] is [String: Any] && $0["geolocation"] == nil })
        }
    }
}

/// What a PDF reader needs of a file before it shows a page: the header, `startxref` naming
/// the cross-reference table, and every in-use entry of that table pointing at its object.
/// (The browser test opens a statement with `pdftotext` too.)
enum PDFStructure {
    /// The objects the file's table lists, or a description of what is wrong.
    static func objectCount(_ pdf: Data) -> Result<Int, PDFProblem> {
        let text = String(decoding: pdf, as: UTF8.self)
        guard text.hasPrefix("%PDF-1."), text.hasSuffix("%%EOF\n") else { return .failure(PDFProblem("no header or end marker")) }
        guard let start = text.ranges(of: "startxref\n").last,
            let offset = Int(text[start.upperBound...].prefix { $0.isNumber }),
            offset < pdf.count, pdf[offset...].starts(with: Data("xref\n0 ".utf8))
        else { return .failure(PDFProblem("startxref does not name the table")) }
        let table = text.utf8.dropFirst(offset).split(separator: UInt8(ascii: "\n")).map { String(decoding: $0, as: UTF8.self) }
        guard table.count > 2, let count = Int(table[1].split(separator: " ").last ?? "") else { return .failure(PDFProblem("no table size")) }
        for number in 1..<count {
            let entry = table[2 + number]
            guard entry.hasSuffix(" 00000 n "), let at = Int(entry.prefix(10)), at < pdf.count,
                pdf[at...].starts(with: Data("\(number) 0 obj".utf8))
            else { return .failure(PDFProblem("object \(number) is not where the table says")) }
        }
        return .success(count - 1)
    }
}

struct PDFProblem: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
