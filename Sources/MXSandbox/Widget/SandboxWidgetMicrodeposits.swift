import Foundation
import HTTPTypes
import Hummingbird

/// The widget's microdeposit flow, for a verification at a bank that cannot verify instantly:
/// the user types the account's numbers, and comes back (with `current_microdeposit_guid`) to
/// confirm the two amounts once they have landed.
extension MXSandbox {
    func addWidgetMicrodepositRoutes<Context: RequestContext>(to group: RouterGroup<Context>) {
        group.post("widget/sessions/:session/micro_deposits") { request, context in
            try await widgetCall(request, context) { session, grant, body in
                // A pre-initiated microdeposit the widget was opened on is completed, as MX does.
                var preinitiated: SandboxMicrodeposit?
                if let guid = grant.currentMicrodepositGUID, let found = await state.microdeposit(guid, ofUser: grant.userGUID),
                    found.initiatedAt == nil
                {
                    preinitiated = found
                }
                let fields = MicrodepositBody.Fields(
                    account_name: nil,
                    account_number: body["account_number"] as? String,
                    account_type: body["account_type"] as? String ?? "CHECKING",
                    routing_number: body["routing_number"] as? String,
                    email: preinitiated?.email,
                    first_name: preinitiated?.firstName,
                    last_name: preinitiated?.lastName
                )
                let microdeposit = try Self.microdeposit(from: fields, userGUID: grant.userGUID, now: Date(), guid: preinitiated?.guid)
                await add(microdeposit)
                let events = WidgetEventFactory(grant: grant, session: session)
                return [
                    ("micro_deposit", rendering(.v20250224).microdeposit(microdeposit)),
                    ("events", .array([events.stepChange(from: "microdeposits", to: "microdepositsSubmitted")])),
                ]
            }
        }
        group.get("widget/sessions/:session/micro_deposits/:micro_deposit") { request, context in
            try await widgetCall(request, context) { _, grant, _ in
                [("micro_deposit", rendering(.v20250224).microdeposit(try await sessionMicrodeposit(context, grant: grant)))]
            }
        }
        group.post("widget/sessions/:session/micro_deposits/:micro_deposit/verify") { request, context in
            try await widgetCall(request, context) { session, grant, body in
                let found = try await sessionMicrodeposit(context, grant: grant)
                let amounts = ["deposit_amount_1", "deposit_amount_2"].map { Double(body[$0] as? String ?? "") ?? -1 }
                let confirmed = try await confirm(found.guid, amounts: amounts)
                let events = WidgetEventFactory(grant: grant, session: session)
                return [
                    ("micro_deposit", rendering(.v20250224).microdeposit(confirmed)),
                    ("events", .array([events.stepChange(from: "microdeposits", to: "microdepositsVerified")])),
                ]
            }
        }
    }

    private func sessionMicrodeposit<Context: RequestContext>(_ context: Context, grant: WidgetGrant) async throws -> SandboxMicrodeposit {
        guard let found = await state.microdeposit(try context.parameters.require("micro_deposit"), ofUser: grant.userGUID) else {
            throw SandboxFailure(404, "Microdeposit not found.")
        }
        return found
    }
}
