import BrokerCore
import BrokerStore
import Foundation
import HTTPTypes
import Hummingbird
import MXPlatform
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// Microdeposits, for accounts at banks without instant verification: MX deposits two small
/// amounts into an account the user names by its numbers, and the user confirms them.
///
/// Every call is made under the caller's own MX user. MX's verify route names no user
/// (`PUT /micro_deposits/{guid}/verify`), so the microdeposit is first read under the caller's
/// user, and only one that is the caller's is verified. Answers carry account numbers, so they
/// are shown as the caller may see them, never cached, and audited like account numbers.
struct MicrodepositsController {
    let provisioner: UserProvisioner
    let mx: MXClient
    let audit: AuditTrail
    let products: EnabledProducts
    let frontEndExposure: AccountNumberExposure
    let maxBodyBytes: Int

    func addRoutes(to routes: UserRoutes) {
        let reads = routes.spending(.reads)
        reads.get("micro_deposits", use: list)
        reads.get("micro_deposits/:micro_deposit_guid", use: read)
        reads.delete("micro_deposits/:micro_deposit_guid", use: delete)
        // Creating one moves money and verifying one is a guess at two amounts: both spend the
        // small budget of connection attempts.
        let attempts = routes.spending(.connectionAttempts)
        attempts.post("micro_deposits", use: create)
        attempts.put("micro_deposits/:micro_deposit_guid/verify", use: verify)
    }

    @Sendable func create(_ request: Request, context: BrokerRequestContext) async throws -> Response {
        try products.check([.accountVerification])
        let fields = try MicrodepositRequest(body: try await JSONBody.read(request, limit: maxBodyBytes)).fields
        let user = try await provisioner.user(subject: try context.requireSubject(), profile: context.profile)
        let body = try JSONEncoder().encode(JSONValue.object(["micro_deposit": .object(fields)]))
        let answer = try await mx.send(.POST, ["users", user.mxUserGUID, "micro_deposits"], body: ByteBuffer(data: body))
        return try await answered(answer.body, request: request, context: context, guid: nil)
    }

    @Sendable func list(_ request: Request, context: BrokerRequestContext) async throws -> Response {
        try products.check([.accountVerification])
        let query = try ReadQuery(request, dates: false)
        guard let mxUserGUID = try await provisioner.existingMXUserGUID(subject: try context.requireSubject()) else {
            return JSONAnswer.response(["micro_deposits": [String]()], caching: .never)
        }
        let answer = try await mx.get(["users", mxUserGUID, "micro_deposits"], query: query.mxQuery(version: mx.configuration.apiVersion))
        return try await answered(answer.body, request: request, context: context, guid: nil)
    }

    @Sendable func read(_ request: Request, context: BrokerRequestContext) async throws -> Response {
        try products.check([.accountVerification])
        let (mxUserGUID, guid) = try await callerAndMicrodeposit(context)
        let answer = try await mx.get(["users", mxUserGUID, "micro_deposits", guid])
        return try await answered(answer.body, request: request, context: context, guid: guid)
    }

    @Sendable func delete(_ request: Request, context: BrokerRequestContext) async throws -> Response {
        let (mxUserGUID, guid) = try await callerAndMicrodeposit(context)
        _ = try await mx.send(.DELETE, ["users", mxUserGUID, "micro_deposits", guid])
        return Response(status: .noContent)
    }

    @Sendable func verify(_ request: Request, context: BrokerRequestContext) async throws -> Response {
        try products.check([.accountVerification])
        let amounts = try MicrodepositAmounts(body: try await JSONBody.read(request, limit: maxBodyBytes))
        let (mxUserGUID, guid) = try await callerAndMicrodeposit(context)
        _ = try await mx.get(["users", mxUserGUID, "micro_deposits", guid])
        let body = try JSONEncoder().encode(amounts.mxBody)
        let answer = try await mx.send(.PUT, ["micro_deposits", guid, "verify"], body: ByteBuffer(data: body))
        return try await answered(answer.body, request: request, context: context, guid: guid)
    }

    /// The caller's MX user and the route's microdeposit guid; not found when the caller has no
    /// MX user or the guid cannot be one.
    private func callerAndMicrodeposit(_ context: BrokerRequestContext) async throws -> (String, String) {
        let guid = try context.parameters.require("micro_deposit_guid")
        guard Identifier.isValid(guid), let mxUserGUID = try await provisioner.existingMXUserGUID(subject: try context.requireSubject()) else {
            throw BrokerError.notFound("No such microdeposit for this user.")
        }
        return (mxUserGUID, guid)
    }

    /// MX's answer (`{"micro_deposit": {...}}` or a list), audited, with account numbers shown
    /// as the caller may see them. A front end that may see no numbers sees them masked here:
    /// it typed them, and the flow needs its microdeposits.
    private func answered(_ body: ByteBuffer, request: Request, context: BrokerRequestContext, guid: String?) async throws -> Response {
        guard var object = JSONValue.parse(body)?.objectValue else { throw MXError.invalidResponse }
        try await audit.record(data: "micro_deposits", request: request, context: context, memberGUID: nil, accountGUID: nil, microdepositGUID: guid)
        let exposure: AccountNumberExposure = context.backendKeyName != nil ? .full : frontEndExposure == .full ? .full : .masked
        for (key, value) in object {
            switch value {
            case .array(let items): object[key] = .array(items.map(exposure.shown))
            case .object: object[key] = exposure.shown(value)
            default: break
            }
        }
        return JSONAnswer.response(JSONValue.object(object), caching: .never)
    }
}

/// A microdeposit to create, as the caller sends it: `{"micro_deposit": {...}}` with an account's
/// numbers (`account_number`, `routing_number`, `account_type`, optionally `account_name`), or
/// pre-initiated with `email`, `first_name` and `last_name`. Other fields are dropped.
struct MicrodepositRequest {
    private(set) var fields: [String: JSONValue] = [:]

    private static let textFields = ["account_name", "account_number", "account_type", "routing_number", "email", "first_name", "last_name"]

    init(body: JSONValue) throws(BrokerError) {
        guard let requested = body.objectValue?["micro_deposit"]?.objectValue else {
            throw Self.invalid("The body must be {\"micro_deposit\": {...}}.")
        }
        for name in Self.textFields {
            guard let value = requested[name], value != .null else { continue }
            guard let text = value.stringValue, !text.isEmpty, text.utf8.count <= 255 else {
                throw Self.invalid("micro_deposit.\(name) must be a string of 1 to 255 bytes.")
            }
            fields[name] = .string(text)
        }
        if fields["account_number"] != nil || fields["routing_number"] != nil || fields["account_type"] != nil {
            guard let number = fields["account_number"]?.stringValue, (4...17).contains(number.utf8.count), number.utf8.allSatisfy(Self.isDigit)
            else {
                throw Self.invalid("account_number must be 4 to 17 digits.")
            }
            guard let routing = fields["routing_number"]?.stringValue, Self.isRoutingNumber(routing) else {
                throw Self.invalid("routing_number must be a nine-digit ABA routing number.")
            }
            guard ["CHECKING", "SAVINGS"].contains(fields["account_type"]?.stringValue ?? "") else {
                throw Self.invalid("account_type must be CHECKING or SAVINGS.")
            }
        } else {
            guard fields["email"] != nil, fields["first_name"] != nil, fields["last_name"] != nil else {
                throw Self.invalid("Give account_number, routing_number and account_type, or pre-initiate with email, first_name and last_name.")
            }
        }
    }

    /// Nine digits whose weighted sum (3, 7, 1, repeated) is a multiple of ten.
    static func isRoutingNumber(_ text: String) -> Bool {
        let digits = text.utf8.map { Int($0) - 0x30 }
        guard digits.count == 9, digits.allSatisfy({ (0...9).contains($0) }) else { return false }
        return zip(digits, [3, 7, 1, 3, 7, 1, 3, 7, 1]).reduce(0) { $0 + $1.0 * $1.1 } % 10 == 0
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    private static func invalid(_ message: String) -> BrokerError {
        BrokerError.badRequest(.invalidMicrodeposit, message)
    }
}

/// The two amounts a user read on their statement: `{"micro_deposit": {"deposit_amount_1",
/// "deposit_amount_2"}}`, each a dollar amount from 0.01 to 0.99 in whole cents.
struct MicrodepositAmounts {
    let cents: (Int, Int)

    init(body: JSONValue) throws(BrokerError) {
        let amounts = body.objectValue?["micro_deposit"]?.objectValue
        var cents: [Int] = []
        for name in ["deposit_amount_1", "deposit_amount_2"] {
            guard let value = amounts?[name], let amount = Self.cents(of: value) else {
                throw BrokerError.badRequest(.invalidMicrodeposit, "micro_deposit.\(name) must be an amount from 0.01 to 0.99, in whole cents.")
            }
            cents.append(amount)
        }
        self.cents = (cents[0], cents[1])
    }

    /// MX's verify body, the amounts written as dollars.
    var mxBody: JSONValue {
        .object([
            "micro_deposit": .object([
                "deposit_amount_1": .number(Double(cents.0) / 100), "deposit_amount_2": .number(Double(cents.1) / 100),
            ])
        ])
    }

    private static func cents(of value: JSONValue) -> Int? {
        guard case .number(let amount) = value, amount.isFinite, amount >= 0.01, amount <= 0.99 else { return nil }
        let cents = (amount * 100).rounded()
        guard abs(cents - amount * 100) < 1e-6 else { return nil }
        return Int(cents)
    }
}
