import BrokerCore
import Foundation

/// Runs operations one at a time per key (here: per member), in the order they arrive, while
/// operations on different keys run freely. Keys are compared by their bytes (``ByteKey``).
actor KeyedSerialQueue {
    private var tails: [ByteKey: (id: UUID, task: Task<Void, Never>)] = [:]

    /// Runs `operation` after every earlier operation on `key` has finished.
    func run<T: Sendable>(_ key: String, _ operation: @Sendable @escaping () async throws -> T) async throws -> T {
        let key = ByteKey(key)
        let previous = tails[key]?.task
        let work = Task {
            await previous?.value
            return try await operation()
        }
        let id = UUID()
        tails[key] = (id, Task { _ = try? await work.value })
        defer { forget(key, id) }
        return try await work.value
    }

    private func forget(_ key: ByteKey, _ id: UUID) {
        if tails[key]?.id == id { tails[key] = nil }
    }
}
