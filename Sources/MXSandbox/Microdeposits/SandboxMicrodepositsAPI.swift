import Foundation
import HTTPTypes
import Hummingbird

/// MX's microdeposits: create (or pre-initiate), list, read, delete, and verify the amounts.
/// The verify route, as at MX, is not under the user's path.
extension MXSandbox {
    struct MicrodepositBody: Decodable {
        struct Fields: Decodable {
            let account_name: String?
            let account_number: String?
            let account_type: String?
            let routing_number: String?
            let email: String?
            let first_name: String?
            let last_name: String?
        }
        let micro_deposit: Fields
    }

    struct MicrodepositVerifyBody: Decodable {
        struct Amounts: Decodable {
            let deposit_amount_1: Double
            let deposit_amount_2: Double
        }
        let micro_deposit: Amounts
    }

    func addMicrodepositRoutes<Context: RequestContext>(to group: RouterGroup<Context>) {
        group.post("users/:user/micro_deposits") { request, context in
            try await api(request, context) { version in
                let user = try await user(context, version, byGUIDOnly: true)
                let fields = try await decode(MicrodepositBody.self, from: request, context: context).micro_deposit
                let microdeposit = try Self.microdeposit(from: fields, userGUID: user.guid, now: Date())
                await add(microdeposit)
                return .object([("micro_deposit", rendering(version).microdeposit(microdeposit))])
            }
        }
        group.get("users/:user/micro_deposits") { request, context in
            try await api(request, context) { version in
                let user = try await user(context, version, byGUIDOnly: true)
                let query = request.uri.queryParameters
                let page = SandboxPage(page: query.get("page"), recordsPerPage: query.get("records_per_page"), maximum: 1000)
                    .slice(await state.microdeposits(ofUser: user.guid))
                let render = rendering(version)
                return .object([("micro_deposits", .array(page.items.map(render.microdeposit))), ("pagination", page.pagination)])
            }
        }
        group.get("users/:user/micro_deposits/:micro_deposit") { request, context in
            try await api(request, context) { version in
                .object([("micro_deposit", rendering(version).microdeposit(try await microdeposit(context, version)))])
            }
        }
        group.delete("users/:user/micro_deposits/:micro_deposit") { request, context in
            try await api(request, context) { version in
                await state.deleteMicrodeposit(try await microdeposit(context, version).guid)
                return nil
            }
        }
        group.put("micro_deposits/:micro_deposit/verify") { request, context in
            try await api(request, context) { version in
                let guid = try context.parameters.require("micro_deposit")
                guard await state.microdeposit(guid, ofUser: nil) != nil else { throw SandboxFailure(404, "Microdeposit not found.") }
                let amounts = try await decode(MicrodepositVerifyBody.self, from: request, context: context).micro_deposit
                let confirmed = try await confirm(guid, amounts: [amounts.deposit_amount_1, amounts.deposit_amount_2])
                return .object([("micro_deposit", rendering(version).microdeposit(confirmed))])
            }
        }
    }

    /// Keeps a new (or newly completed) microdeposit and announces its status, then its deposits.
    func add(_ microdeposit: SandboxMicrodeposit) async {
        await state.addMicrodeposit(microdeposit)
        webhooks.watch(microdepositGUID: microdeposit.guid, after: 0, asOf: microdeposit.initiatedAt ?? microdeposit.createdAt)
        if microdeposit.initiatedAt != nil { webhooks.watch(microdepositGUID: microdeposit.guid, after: delay) }
    }

    private func microdeposit<Context: RequestContext>(_ context: Context, _ version: SandboxAPIVersion) async throws -> SandboxMicrodeposit {
        let user = try await user(context, version, byGUIDOnly: true)
        guard let found = await state.microdeposit(try context.parameters.require("micro_deposit"), ofUser: user.guid) else {
            throw SandboxFailure(404, "Microdeposit not found.")
        }
        return found
    }

    /// Records the user's confirmation of `amounts` (dollars) and announces the outcome.
    func confirm(_ guid: String, amounts: [Double]) async throws(SandboxFailure) -> SandboxMicrodeposit {
        let expected = [SandboxMicrodeposit.depositAmounts.0, SandboxMicrodeposit.depositAmounts.1]
        let isRight = amounts.compactMap(Self.cents).sorted() == expected.sorted()
        let confirmed = try await state.confirmMicrodeposit(guid, isRight: isRight, now: Date(), delay: delay)
        webhooks.watch(microdepositGUID: guid, after: 0)
        return confirmed
    }

    /// Whole cents of a dollar amount from 0.01 to 0.99; `nil` for anything else.
    private static func cents(_ amount: Double) -> Int? {
        guard amount.isFinite, amount >= 0.005, amount < 0.995 else { return nil }
        return Int((amount * 100).rounded())
    }

    /// A microdeposit to create: with an account's numbers (`INITIATED`), or pre-initiated with
    /// the user's names and email only (`PREINITIATED`); `guid` to complete a pre-initiated one.
    static func microdeposit(
        from fields: MicrodepositBody.Fields,
        userGUID: String,
        now: Date,
        guid: String? = nil
    ) throws(SandboxFailure) -> SandboxMicrodeposit {
        let numbered = fields.account_number != nil || fields.routing_number != nil || fields.account_type != nil
        if numbered {
            guard let number = fields.account_number, (4...17).contains(number.count), number.allSatisfy(\.isASCIIDigit) else {
                throw SandboxFailure(400, "account_number must be 4 to 17 digits.")
            }
            guard let routing = fields.routing_number, SandboxAccountDetails.passesABAChecksum(routing) else {
                throw SandboxFailure(400, "routing_number must be a nine-digit ABA routing number.")
            }
            guard fields.account_type == "CHECKING" || fields.account_type == "SAVINGS" else {
                throw SandboxFailure(400, "account_type must be CHECKING or SAVINGS: microdeposits go to deposit accounts.")
            }
        } else {
            guard fields.email?.isEmpty == false, fields.first_name?.isEmpty == false, fields.last_name?.isEmpty == false else {
                throw SandboxFailure(
                    400,
                    "Give account_number, routing_number and account_type, or pre-initiate with email, first_name and last_name."
                )
            }
        }
        for text in [fields.account_name, fields.email, fields.first_name, fields.last_name] where (text?.utf8.count ?? 0) > 255 {
            throw SandboxFailure(400, "Names and emails are at most 255 bytes.")
        }
        return SandboxMicrodeposit(
            guid: guid ?? SandboxState.newGUID("MIC"),
            userGUID: userGUID,
            accountName: fields.account_name,
            accountNumber: fields.account_number,
            accountType: fields.account_type,
            routingNumber: fields.routing_number,
            email: fields.email,
            firstName: fields.first_name,
            lastName: fields.last_name,
            initiatedAt: numbered ? now : nil,
            createdAt: now
        )
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
