import Foundation
import HTTPTypes
import Hummingbird

/// A user's investment holdings: all of them, one, a member's or an account's.
extension MXSandbox {
    func addHoldingRoutes<Context: RequestContext>(to group: RouterGroup<Context>) {
        group.get("users/:user/investment_holdings") { request, context in
            try await api(request, context) { version in
                let user = try await user(context, version, byGUIDOnly: true)
                return holdingList(
                    try await accounts(of: user).flatMap(SandboxHoldings.holdings(of:)),
                    user: user,
                    request: request,
                    version: version
                )
            }
        }
        group.get("users/:user/investment_holdings/:holding") { request, context in
            try await api(request, context) { version in
                let user = try await user(context, version, byGUIDOnly: true)
                let guid = try context.parameters.require("holding")
                guard let holding = try await accounts(of: user).flatMap(SandboxHoldings.holdings(of:)).first(where: { $0.guid == guid }) else {
                    throw SandboxFailure(404, "Holding not found.")
                }
                return .object([("investment_holding", rendering(version).holding(holding, user: user))])
            }
        }
        group.get("users/:user/members/:member/investment_holdings") { request, context in
            try await api(request, context) { version in
                let (user, member) = try await member(context, version, byGUIDOnly: true)
                return holdingList(accounts(of: member).flatMap(SandboxHoldings.holdings(of:)), user: user, request: request, version: version)
            }
        }
        group.get("users/:user/accounts/:account/investment_holdings") { request, context in
            try await api(request, context) { version in
                let user = try await user(context, version, byGUIDOnly: true)
                return holdingList(SandboxHoldings.holdings(of: try await account(context, of: user)), user: user, request: request, version: version)
            }
        }
    }

    private func holdingList(_ holdings: [SandboxHolding], user: SandboxUser, request: Request, version: SandboxAPIVersion) -> SandboxJSON {
        let query = request.uri.queryParameters
        let page = SandboxPage(page: query.get("page"), recordsPerPage: query.get("records_per_page"), maximum: 1000).slice(holdings)
        let render = rendering(version)
        return .object([
            ("investment_holdings", .array(page.items.map { render.holding($0, user: user) })), ("pagination", page.pagination),
        ])
    }
}

extension SandboxRendering {
    /// MX's `InvestmentHoldingResponse` (the same in both versions).
    func holding(_ holding: SandboxHolding, user: SandboxUser) -> SandboxJSON {
        let gain = holding.marketValueCents - holding.costBasisCents
        let day = SandboxClock.dateText(day: holding.account.member.createdDay)
        let quantity = "\(holding.quantityTenThousandths / 10_000).\(String(format: "%04lld", holding.quantityTenThousandths % 10_000))"
        func percent(_ part: Int64, of whole: Int64) -> SandboxJSON {
            whole == 0 ? .null : .money(cents: part * 10_000 / whole)
        }
        return .object([
            ("account_guid", .string(holding.account.guid)), ("cost_basis", .money(cents: holding.costBasisCents)),
            ("coupon_yield", .null), ("currency_code", .string("USD")), ("current_price", .money(cents: holding.priceCents)),
            ("daily_change", .money(cents: holding.dailyChangeCents)), ("description", .string(holding.name)), ("expiration", .null),
            ("face_value", .null), ("frequency", .null), ("guid", .string(holding.guid)),
            ("market_value", .money(cents: holding.marketValueCents)), ("maturity_date", .null),
            ("percentage_change", percent(holding.dailyChangeCents, of: holding.priceCents)), ("purchase_price", .null),
            ("quantity", .string(quantity)), ("rate", .null), ("strike_price", .null), ("symbol", .string(holding.symbol)), ("term", .null),
            ("today_ugl_amount", .null), ("today_ugl_percentage", .null), ("total_ugl_amount", .money(cents: gain)),
            ("total_ugl_percentage", percent(gain, of: holding.costBasisCents)), ("unvested_quantity", .null), ("unvested_value", .null),
            ("user_guid", .string(user.guid)), ("vested_quantity", .null), ("vested_value", .null),
            ("created_at", .string(SandboxClock.isoText(holding.account.member.createdAt))), ("current_price_as_of", .string(day)),
            ("issue_date", .null), ("vesting_start_date", .null), ("vesting_end_date", .null), ("put_or_call", .null),
            ("holding_type", .string(holding.holdingType)), ("term_unit", .null),
        ])
    }
}
