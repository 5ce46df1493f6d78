import Foundation

/// MX's JSON shapes for the sandbox's records, in the requested API version.
struct SandboxRendering: Sendable {
    let version: SandboxAPIVersion
    let now: Date
    let delay: TimeInterval

    func member(_ member: SandboxMember, user: SandboxUser?) -> SandboxJSON {
        let status = SandboxMemberStatus(member: member, now: now, delay: delay)
        let institution = SandboxInstitution.named(member.institutionCode)
        return .object([
            ("aggregated_at", .string(SandboxClock.isoText(status.aggregatedAt))),
            ("background_aggregation_is_disabled", .bool(false)),
            ("connection_status", .string(status.connectionStatus)),
            ("connection_status_message", .string(Self.statusMessage(status.connectionStatus))),
            ("guid", .string(member.guid)), ("id", .string(member.id)),
            ("institution_code", .string(member.institutionCode)), ("institution_guid", .string(institution?.guid)),
            ("is_being_aggregated", .bool(status.isBeingAggregated)), ("is_managed_by_user", .bool(true)),
            ("is_manual", .bool(false)), ("is_oauth", .bool(institution?.isOAuth ?? false)), ("metadata", .string(member.metadata)),
            ("most_recent_job_detail_code", .null), ("most_recent_job_detail_text", .null),
            (
                "most_recent_job_guid",
                .string(SandboxLedger.stableGUID(prefix: "JOB", parts: [member.guid, SandboxClock.isoText(member.aggregationStartedAt)]))
            ),
            ("name", .string(institution?.name)), ("needs_updated_credentials", .bool(false)), ("oauth_window_uri", .null),
            ("successfully_aggregated_at", .string(status.successfullyAggregatedAt.map(SandboxClock.isoText))),
            ("use_cases", .array([.string("PFM")])), ("user_guid", .string(member.userGUID)), ("user_id", .string(user?.id)),
        ])
    }

    func memberStatus(_ member: SandboxMember) -> SandboxJSON {
        let status = SandboxMemberStatus(member: member, now: now, delay: delay)
        return .object([
            ("aggregated_at", .string(SandboxClock.isoText(status.aggregatedAt))),
            ("challenges", .array(status.isChallenged ? SandboxInstitution.challenges.map(\.json) : [])),
            ("connection_status", .string(status.connectionStatus)), ("guid", .string(member.guid)),
            ("has_processed_account_numbers", .bool(status.hasData)), ("has_processed_accounts", .bool(status.hasData)),
            ("has_processed_transactions", .bool(status.hasData)), ("is_authenticated", .bool(status.connectionStatus == "CONNECTED")),
            ("is_being_aggregated", .bool(status.isBeingAggregated)),
            ("successfully_aggregated_at", .string(status.successfullyAggregatedAt.map(SandboxClock.isoText))),
        ])
    }

    func account(_ account: SandboxAccount, user: SandboxUser?) -> SandboxJSON {
        let created = SandboxClock.isoText(account.member.createdAt)
        var fields: [(String, SandboxJSON)] = [
            ("account_number", .string("XXXXXX" + account.accountNumberLast4)), ("account_ownership", .string("INDIVIDUAL")),
            ("apr", account.apr.map { .money(cents: $0) } ?? .null), ("apy", .null),
            ("available_balance", account.availableBalanceCents.map { .money(cents: $0) } ?? .null),
            ("available_credit", account.creditLimitCents.map { .money(cents: $0 - account.balanceCents) } ?? .null),
            ("balance", .money(cents: account.balanceCents)), ("cash_balance", .null), ("created_at", .string(created)),
            ("credit_limit", account.creditLimitCents.map { .money(cents: $0) } ?? .null), ("currency_code", .string("USD")),
            ("day_payment_is_due", .null), ("guid", .string(account.guid)), ("id", .null), ("imported_at", .null),
            ("institution_code", .string(account.member.institutionCode)),
        ]
        if version == .v20111101 {
            fields.append(("institution_guid", .string(SandboxInstitution.named(account.member.institutionCode)?.guid)))
        }
        fields += [
            ("is_closed", .bool(false)), ("is_hidden", .bool(false)), ("is_manual", .bool(false)),
            ("member_guid", .string(account.member.guid)), ("member_id", .string(account.member.id)),
            ("member_is_managed_by_user", .bool(true)), ("metadata", .null), ("minimum_balance", .null),
            ("minimum_payment", .null), ("name", .string(account.name)), ("nickname", .null), ("original_balance", .null),
            ("payment_due_at", .null), ("subtype", .string(account.subtype)), ("type", .string(account.type)),
            ("updated_at", .string(created)), ("user_guid", .string(account.member.userGUID)), ("user_id", .string(user?.id)),
        ]
        return .object(fields)
    }

    /// MX's `TransactionResponse`, with the enhancements `includes` names (`classifications`,
    /// `geolocations`, `merchants`, `repeating_transactions`) as `TransactionIncludesResponse`.
    func transaction(_ transaction: SandboxTransaction, user: SandboxUser?, includes: Set<String> = []) -> SandboxJSON {
        let at = SandboxClock.isoText(Date(timeIntervalSince1970: Double(transaction.timestamp)))
        let created = SandboxClock.isoText(transaction.account.member.createdAt)
        let updated = SandboxClock.isoText(transaction.updatedAt)
        let isIncome = transaction.topLevelCategory == "Income"
        let fields: [(String, SandboxJSON)] = [
            ("account_guid", .string(transaction.account.guid)), ("account_id", .null),
            ("amount", .money(cents: transaction.amountCents)), ("category", .string(transaction.category)),
            ("category_guid", .string(SandboxLedger.stableGUID(prefix: "CAT", parts: [transaction.category]))),
            ("check_number_string", .null), ("created_at", .string(created)), ("currency_code", .string("USD")),
            ("date", .string(SandboxClock.dateText(day: transaction.day))), ("description", .string(transaction.description)),
            ("extended_transaction_type", .null), ("guid", .string(transaction.guid)), ("id", .null),
            ("is_bill_pay", .bool(transaction.category == "Utilities")), ("is_direct_deposit", .bool(transaction.category == "Paycheck")),
            ("is_expense", .bool(!transaction.isCredit)), ("is_fee", .bool(false)), ("is_income", .bool(isIncome)),
            ("is_international", .bool(false)), ("is_overdraft_fee", .bool(false)), ("is_payroll_advance", .bool(false)),
            ("is_recurring", .null), ("is_subscription", .bool(transaction.description == "Netflix")),
            ("latitude", .null), ("localized_description", .null), ("localized_memo", .null), ("longitude", .null),
            ("member_guid", .string(transaction.account.member.guid)), ("member_is_managed_by_user", .bool(true)),
            ("memo", .null), ("merchant_category_code", .null), ("merchant_guid", .null), ("merchant_location_guid", .null),
            ("metadata", .null), ("original_description", .string(transaction.description.uppercased())),
            ("posted_at", transaction.isPending ? .null : .string(at)),
            ("status", .string(transaction.isPending ? "PENDING" : "POSTED")),
            ("top_level_category", .string(transaction.topLevelCategory)), ("transacted_at", .string(at)),
            ("type", .string(transaction.isCredit ? "CREDIT" : "DEBIT")), ("updated_at", .string(updated)),
            ("user_guid", .string(transaction.account.member.userGUID)), ("user_id", .string(user?.id)),
        ]
        return .object(fields + enhancements(of: transaction, includes: includes))
    }

    private func enhancements(of transaction: SandboxTransaction, includes: Set<String>) -> [(String, SandboxJSON)] {
        let merchant = transaction.description
        var fields: [(String, SandboxJSON)] = []
        if includes.contains("classifications") {
            let parent = transaction.isCredit ? (transaction.category == "Paycheck" ? "Payroll" : "Income") : "Spend"
            fields.append(
                (
                    "classification",
                    .object([("parent_class", .string(parent)), ("guid", .string(SandboxLedger.stableGUID(prefix: "CLS", parts: [parent])))])
                )
            )
        }
        if includes.contains("geolocations") {
            fields.append(
                (
                    "geolocation",
                    .object([("country", .string("US")), ("state", .string("UT")), ("city", .string("Lehi")), ("postal code", .string("84043"))])
                )
            )
        }
        if includes.contains("merchants") {
            let slug = merchant.lowercased().filter { $0.isLetter || $0.isNumber }
            fields.append(
                (
                    "merchant",
                    .object([
                        ("name", .string(merchant)), ("guid", .string(SandboxLedger.stableGUID(prefix: "MCH", parts: [merchant]))),
                        ("logo_url", .string("https://content.mx.com/logos/merchants/\(slug).png")),
                        ("website_url", .string("https://\(slug).example")),
                    ])
                )
            )
        }
        if includes.contains("repeating_transactions") {
            let type: String? =
                switch transaction.category {
                case "Paycheck", "Interest Income": "INCOME"
                case "Utilities", "Mortgage & Rent": "BILL"
                case "Television": "SUBSCRIPTION"
                default: nil
                }
            fields.append(
                (
                    "repeating_transaction",
                    type.map { type in
                        .object([
                            ("repeating_transaction_type", .string(type)), ("recurrence_type", .string("EVERY_OTHER_WEEK")),
                            ("guid", .string(SandboxLedger.stableGUID(prefix: "RPT", parts: [transaction.account.guid, merchant]))),
                        ])
                    } ?? .null
                )
            )
        }
        return fields
    }

    /// MX's `AccountNumberResponse` (the same in both versions).
    func accountNumbers(_ numbers: SandboxAccountDetails.Numbers, of account: SandboxAccount) -> SandboxJSON {
        .object([
            ("account_guid", .string(account.guid)), ("account_number", .string(numbers.accountNumber)), ("guid", .string(numbers.guid)),
            ("institution_number", .null), ("loan_guarantor", .null), ("loan_reference_number", .null),
            ("member_guid", .string(account.member.guid)), ("passed_validation", .bool(true)),
            ("routing_number", .string(numbers.routingNumber)), ("sequence_number", .null), ("transit_number", .null),
            ("user_guid", .string(account.member.userGUID)),
        ])
    }

    /// MX's `AccountOwnerResponse` (the same in both versions).
    func accountOwner(_ owner: SandboxAccountDetails.Owner, of account: SandboxAccount) -> SandboxJSON {
        .object([
            ("account_guid", .string(account.guid)), ("address", .string(owner.address)), ("city", .string(owner.city)),
            ("country", .string("US")), ("email", .string(owner.email)), ("first_name", .string(owner.firstName)),
            ("guid", .string(owner.guid)), ("last_name", .string(owner.lastName)), ("member_guid", .string(account.member.guid)),
            ("owner_name", .string(owner.name)), ("phone", .string(owner.phone)), ("postal_code", .string(owner.postalCode)),
            ("state", .string(owner.state)), ("user_guid", .string(account.member.userGUID)),
        ])
    }

    /// MX's microdeposit (`MicrodepositElements` and `MicrodepositResponse`, the same in both versions).
    func microdeposit(_ microdeposit: SandboxMicrodeposit) -> SandboxJSON {
        let (status, since) = microdeposit.state(now: now, delay: delay)
        let institution = SandboxInstitution.named(SandboxMicrodeposit.institutionCode)
        return .object([
            ("account_name", .string(microdeposit.accountName)), ("account_number", .string(microdeposit.accountNumber)),
            ("account_type", .string(microdeposit.accountType)), ("email", .string(microdeposit.email)), ("error_message", .null),
            ("first_name", .string(microdeposit.firstName)), ("guid", .string(microdeposit.guid)),
            ("institution_code", .string(institution?.code)), ("institution_name", .string(institution?.name)),
            ("last_name", .string(microdeposit.lastName)), ("routing_number", .string(microdeposit.routingNumber)),
            ("status", .string(status.rawValue)), ("updated_at", .string(SandboxClock.isoText(since))),
            ("verified_at", status == .verified ? .string(SandboxClock.isoText(since)) : .null),
        ])
    }

    static func statusMessage(_ status: String) -> String? {
        switch status {
        case "CONNECTED": "Connected to institution."
        case "CREATED": "Connecting to institution..."
        case "CHALLENGED": "To authenticate your connection, please answer the following challenge(s)."
        case "RESUMED": "Verifying your answers..."
        case "REJECTED": "The answer or answers provided were incorrect. Please try again."
        case "DENIED": "The credentials entered do not match your credentials at this institution. Please re-enter your credentials to continue."
        default: nil
        }
    }
}

/// MX's paging of a list: `page` and `records_per_page` in, a `pagination` object out.
struct SandboxPage {
    let page: Int
    let perPage: Int

    /// Reads the query; a size outside `1...maximum` falls back to 25, as MX does.
    init(page: String?, recordsPerPage: String?, maximum: Int) {
        self.page = page.flatMap(Int.init).flatMap { $0 >= 1 ? $0 : nil } ?? 1
        let requested = recordsPerPage.flatMap(Int.init) ?? 25
        self.perPage = (1...maximum).contains(requested) ? requested : 25
    }

    /// One page of `items`, and MX's `pagination` object; a page past the end (however far) is empty.
    func slice<T>(_ items: [T]) -> (items: ArraySlice<T>, pagination: SandboxJSON) {
        let totalPages = items.isEmpty ? 1 : (items.count + perPage - 1) / perPage
        let (skipped, overflowed) = (page - 1).multipliedReportingOverflow(by: perPage)
        let start = overflowed ? items.count : min(skipped, items.count)
        let end = min(start + perPage, items.count)
        return (
            items[start..<end],
            .object([
                ("current_page", .int(Int64(page))), ("per_page", .int(Int64(perPage))),
                ("total_entries", .int(Int64(items.count))), ("total_pages", .int(Int64(totalPages))),
            ])
        )
    }
}

/// The API version a sandbox caller asked for, or an integration is set up with.
public enum SandboxAPIVersion: String, Sendable, CaseIterable {
    case v20111101
    case v20250224

    var contentType: String {
        self == .v20111101 ? "application/vnd.mx.api.v1+json" : "application/json"
    }

    /// v20250224 addresses users and members by guid or by the partner's own id.
    var acceptsPartnerIDs: Bool { self == .v20250224 }
}
