import Synchronization

/// Shares one call among identical ones that arrive while it is in flight.
///
/// The MX client keys its reads by the full request URL, which for user data begins with the
/// user's own guid, so only a user's identical reads are ever joined.
public final class InFlightCalls<Value: Sendable>: Sendable {
    private let calls = Mutex<[String: Task<Value, any Error>]>([:])

    public init() {}

    /// The answer of the call in flight for `key`, or of `operation` started now.
    ///
    /// `joined` is told when the answer comes from a call already in flight.
    public func run(
        key: String,
        joined: @Sendable () -> Void = {},
        operation: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        let (call, started) = calls.withLock { calls in
            if let running = calls[key] { return (running, false) }
            let call = Task { try await operation() }
            calls[key] = call
            return (call, true)
        }
        guard started else {
            joined()
            return try await call.value
        }
        let result = await call.result
        calls.withLock { calls in
            if calls[key] == call { calls[key] = nil }
        }
        return try result.get()
    }
}
