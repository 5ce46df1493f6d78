import Synchronization

/// Shares one call among identical ones that arrive while it is in flight.
///
/// The MX client keys its reads by the full request URL, which for user data begins with the
/// user's own guid, so only a user's identical reads are ever joined. Keys are compared by their
/// bytes (``ByteKey``): a URL built from a caller's text joins only a call of the same bytes.
public final class InFlightCalls<Value: Sendable>: Sendable {
    private struct Call {
        let task: Task<Value, any Error>
        let startedAt: ContinuousClock.Instant
    }

    private let calls = Mutex<[ByteKey: Call]>([:])

    public init() {}

    /// The answer of the call in flight for `key`, or of `operation` started now.
    ///
    /// A call that started before `notBefore` is not joined: a caller that knows of a change
    /// made at that instant needs an answer read after it. `joined` is told when the answer
    /// comes from a call already in flight.
    public func run(
        key: String,
        notBefore: ContinuousClock.Instant? = nil,
        joined: @Sendable () -> Void = {},
        operation: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        let key = ByteKey(key)
        let (task, started) = calls.withLock { calls in
            if let running = calls[key], notBefore.map({ running.startedAt >= $0 }) ?? true { return (running.task, false) }
            let task = Task { try await operation() }
            calls[key] = Call(task: task, startedAt: .now)
            return (task, true)
        }
        guard started else {
            joined()
            return try await task.value
        }
        let result = await task.result
        calls.withLock { calls in
            if calls[key]?.task == task { calls[key] = nil }
        }
        return try result.get()
    }
}
