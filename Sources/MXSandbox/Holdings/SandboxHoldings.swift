import Foundation

/// One position in an investment account.
struct SandboxHolding: Sendable {
    let guid: String
    let account: SandboxAccount
    let symbol: String
    let name: String
    let holdingType: String
    /// Units held, to four decimal places (ten-thousandths).
    let quantityTenThousandths: Int64
    let priceCents: Int64
    let marketValueCents: Int64
    let costBasisCents: Int64
    let dailyChangeCents: Int64
}

/// The positions of the investment accounts at institutions that offer investments: three to
/// five funds and a money-market sweep that takes what is left, so the market values add up to
/// the account's balance exactly, whatever a balance check moved it to.
enum SandboxHoldings {
    private struct Instrument {
        let symbol: String
        let name: String
        let type: String
        let priceCents: Int64
    }

    private static let instruments = [
        Instrument(symbol: "VTI", name: "Vanguard Total Stock Market ETF", type: "EXCHANGE_TRADED_FUND", priceCents: 28_412),
        Instrument(symbol: "VXUS", name: "Vanguard Total International Stock ETF", type: "EXCHANGE_TRADED_FUND", priceCents: 6_275),
        Instrument(symbol: "BND", name: "Vanguard Total Bond Market ETF", type: "EXCHANGE_TRADED_FUND", priceCents: 7_318),
        Instrument(symbol: "FXAIX", name: "Fidelity 500 Index Fund", type: "MUTUAL_FUND", priceCents: 19_544),
        Instrument(symbol: "AAPL", name: "Apple Inc.", type: "EQUITY", priceCents: 22_871),
        Instrument(symbol: "MSFT", name: "Microsoft Corporation", type: "EQUITY", priceCents: 41_530),
        Instrument(symbol: "SWPPX", name: "Schwab S&P 500 Index Fund", type: "MUTUAL_FUND", priceCents: 9_102),
    ]
    private static let sweep = Instrument(symbol: "SPAXX", name: "Fidelity Government Money Market Fund", type: "MONEY_MARKET", priceCents: 100)

    static func holdings(of account: SandboxAccount) -> [SandboxHolding] {
        guard account.isInvestment, account.member.institution?.products.contains(.investments) == true, account.balanceCents > 0 else { return [] }
        var random = SeededRandom(seed: "\(account.guid)|holdings")
        var pool = instruments
        var chosen: [Instrument] = []
        for _ in 0..<(3 + random.next(below: 3)) {
            chosen.append(pool.remove(at: random.next(below: pool.count)))
        }
        var remaining = account.balanceCents
        var positions: [SandboxHolding] = []
        for (index, instrument) in chosen.enumerated() {
            // Each fund takes 15–30 % of the balance, in whole ten-thousandths of a unit.
            let target = account.balanceCents * Int64(15 + random.next(below: 16)) / 100
            let quantity = target * 10_000 / instrument.priceCents
            let value = quantity * instrument.priceCents / 10_000
            guard value > 0, value <= remaining else { continue }
            remaining -= value
            positions.append(position(account, instrument, index: index, quantity: quantity, value: value, random: &random))
        }
        positions.append(position(account, sweep, index: chosen.count, quantity: remaining * 100, value: remaining, random: &random))
        return positions
    }

    private static func position(
        _ account: SandboxAccount,
        _ instrument: Instrument,
        index: Int,
        quantity: Int64,
        value: Int64,
        random: inout SeededRandom
    ) -> SandboxHolding {
        let isCash = instrument.type == "MONEY_MARKET"
        return SandboxHolding(
            guid: SandboxLedger.stableGUID(prefix: "HOL", parts: [account.guid, instrument.symbol]),
            account: account,
            symbol: instrument.symbol,
            name: instrument.name,
            holdingType: instrument.type,
            quantityTenThousandths: quantity,
            priceCents: instrument.priceCents,
            marketValueCents: value,
            costBasisCents: isCash ? value : value * Int64(80 + random.next(below: 31)) / 100,
            dailyChangeCents: isCash ? 0 : Int64(random.next(below: 401)) - 200
        )
    }
}
