import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// A fault the sandbox injects into the API calls it matches, as configured in
/// `SANDBOX_FAULTS` or through `PUT {mount}/_faults`.
///
/// JSON: `{"method": "GET", "path": "/users/*/accounts", "kind": "status", "status": 503,
/// "retry_after": 2, "latency_ms": 0, "rate": 1, "times": 3}`. `path` is relative to the
/// sandbox's mount: `*` matches one segment, a final `**` any rest. `method` (any when left
/// out), `rate` (share of matching calls hit, default 1) and `times` (how many calls to hit,
/// unlimited when left out) choose the calls.
public struct SandboxFaultRule: Sendable, Codable, Equatable {
    /// What happens to a hit call.
    public enum Kind: String, Sendable, Codable {
        /// Only the latency: the call is then served normally.
        case latency
        /// An MX-style error answer with `status` (and `Retry-After` when `retry_after` is set).
        case status
        /// The connection is dropped without a complete answer.
        case reset
        /// A 200 whose body is not valid JSON.
        case malformedJSON = "malformed_json"
    }

    public var method: String?
    public var path: String
    public var kind: Kind
    public var status: Int?
    public var retryAfter: Int?
    public var latencyMilliseconds: Int?
    public var rate: Double?
    public var times: Int?

    enum CodingKeys: String, CodingKey {
        case method, path, kind, status, rate, times
        case retryAfter = "retry_after"
        case latencyMilliseconds = "latency_ms"
    }

    public init(
        method: String? = nil,
        path: String,
        kind: Kind,
        status: Int? = nil,
        retryAfter: Int? = nil,
        latencyMilliseconds: Int? = nil,
        rate: Double? = nil,
        times: Int? = nil
    ) {
        self.method = method
        self.path = path
        self.kind = kind
        self.status = status
        self.retryAfter = retryAfter
        self.latencyMilliseconds = latencyMilliseconds
        self.rate = rate
        self.times = times
    }

    private struct List: Codable {
        let faults: [SandboxFaultRule]
    }

    /// Reads `{"faults": [...]}`, checking every rule; throws a message naming what is wrong.
    public static func list(fromJSON data: Data) throws(SandboxFaultError) -> [SandboxFaultRule] {
        guard let list = try? JSONDecoder().decode(List.self, from: data) else {
            throw SandboxFaultError(
                "Faults must be JSON like {\"faults\": [{\"path\": \"/users/*/accounts\", \"kind\": \"status\", \"status\": 503}]}."
            )
        }
        for rule in list.faults {
            guard rule.path.hasPrefix("/") else { throw SandboxFaultError("A fault's path must start with '/'.") }
            if rule.kind == .status, !(400...599).contains(rule.status ?? 0) {
                throw SandboxFaultError("A status fault needs a status from 400 to 599.")
            }
            if let rate = rule.rate, !(0...1).contains(rate) { throw SandboxFaultError("A fault's rate must be from 0 to 1.") }
            if let times = rule.times, times < 0 { throw SandboxFaultError("A fault's times must not be negative.") }
            if let latency = rule.latencyMilliseconds, !(0...600_000).contains(latency) {
                throw SandboxFaultError("A fault's latency_ms must be from 0 to 600000.")
            }
        }
        return list.faults
    }

    func matches(method: HTTPRequest.Method, path: [Substring]) -> Bool {
        if let wanted = self.method, wanted.uppercased() != method.rawValue { return false }
        let pattern = self.path.split(separator: "/")
        for (index, part) in pattern.enumerated() {
            if part == "**", index == pattern.count - 1 { return true }
            guard index < path.count, part == "*" || part == path[index] else { return false }
        }
        return pattern.count == path.count
    }
}

/// A fault list that cannot be used; the message says why.
public struct SandboxFaultError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// The faults in force, with what each has done so far.
actor SandboxFaults {
    private struct Entry {
        let id: Int
        var rule: SandboxFaultRule
        var matched = 0
        var injected = 0
        var inFlight = 0
        var maxInFlight = 0
    }

    /// What to do to one call.
    struct Decision: Sendable {
        let entryID: Int
        let latency: Duration
        /// `nil`: serve the call normally after the latency.
        let fault: SandboxFaultRule.Kind?
        let rule: SandboxFaultRule
    }

    private var entries: [Entry] = []
    private var nextID = 0

    init(rules: [SandboxFaultRule]) {
        entries = rules.enumerated().map { Entry(id: $0.offset + 1, rule: $0.element) }
        nextID = rules.count
    }

    func replace(with rules: [SandboxFaultRule]) {
        entries = rules.map { rule in
            nextID += 1
            return Entry(id: nextID, rule: rule)
        }
    }

    /// The first rule matching the call decides; calls no rule matches get `nil`.
    func begin(method: HTTPRequest.Method, path: [Substring]) -> Decision? {
        guard let index = entries.firstIndex(where: { $0.rule.matches(method: method, path: path) }) else { return nil }
        entries[index].matched += 1
        entries[index].inFlight += 1
        entries[index].maxInFlight = max(entries[index].maxInFlight, entries[index].inFlight)
        let rule = entries[index].rule
        let exhausted = rule.times.map { entries[index].injected >= $0 } ?? false
        let hit = !exhausted && Double.random(in: 0..<1) < (rule.rate ?? 1)
        if hit { entries[index].injected += 1 }
        return Decision(
            entryID: entries[index].id,
            latency: hit ? .milliseconds(rule.latencyMilliseconds ?? 0) : .zero,
            fault: hit && rule.kind != .latency ? rule.kind : nil,
            rule: rule
        )
    }

    func end(_ decision: Decision) {
        guard let index = entries.firstIndex(where: { $0.id == decision.entryID }) else { return }
        entries[index].inFlight -= 1
    }

    /// The rules with their counters: `matched` calls, `injected` faults, `max_in_flight` calls at once.
    var report: SandboxJSON {
        .object([
            (
                "faults",
                .array(
                    entries.map { entry in
                        .object([
                            ("method", .string(entry.rule.method)),
                            ("path", .string(entry.rule.path)),
                            ("kind", .string(entry.rule.kind.rawValue)),
                            ("matched", .int(Int64(entry.matched))),
                            ("injected", .int(Int64(entry.injected))),
                            ("max_in_flight", .int(Int64(entry.maxInFlight))),
                        ])
                    }
                )
            )
        ])
    }
}

/// Applies ``SandboxFaults`` to the simulated API's routes.
struct SandboxFaultMiddleware<Context: RequestContext>: RouterMiddleware {
    let faults: SandboxFaults
    let mountPath: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let relative = request.uri.path.dropFirst(mountPath.count).split(separator: "/")
        guard let decision = await faults.begin(method: request.method, path: relative) else {
            return try await next(request, context)
        }
        do {
            let response = try await respond(decision, request: request, context: context, next: next)
            await faults.end(decision)
            return response
        } catch {
            await faults.end(decision)
            throw error
        }
    }

    private func respond(
        _ decision: SandboxFaults.Decision,
        request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        if decision.latency > .zero { try await Task.sleep(for: decision.latency) }
        switch decision.fault {
        case nil:
            return try await next(request, context)
        case .latency?:
            return try await next(request, context)
        case .status?:
            let status = decision.rule.status ?? 500
            var response = MXSandbox.json(
                .object([("error", .object([("message", .string("Injected fault: \(status).")), ("status", .int(Int64(status)))]))]),
                status: status,
                contentType: "application/json"
            )
            if let retryAfter = decision.rule.retryAfter { response.headers[.retryAfter] = String(retryAfter) }
            return response
        case .reset?:
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init { _ in throw InjectedReset() })
        case .malformedJSON?:
            return Response(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: "{\"users\": [{\"guid\": "))
            )
        }
    }

    private struct InjectedReset: Error {}
}
