import Synchronization

/// Joins writes that arrive while one is being committed into the next single transaction, so a
/// burst costs one commit (and one sync to disk) instead of one each. Each caller still returns
/// only once its own write is committed, with its own result or the transaction's error.
final class WriteBatcher<Item: Sendable, Outcome: Sendable>: Sendable {
    /// Commits `items` in one transaction and returns one outcome per item, in order.
    typealias Commit = @Sendable ([Item]) async throws -> [Outcome]

    private struct Waiting: Sendable {
        let item: Item
        let continuation: CheckedContinuation<Outcome, any Error>
    }

    private struct State: ~Copyable {
        var waiting: [Waiting] = []
        var committing = false
    }

    private let state = Mutex(State())
    private let maximumBatch: Int
    private let commit: Commit

    init(maximumBatch: Int, commit: @escaping Commit) {
        self.maximumBatch = maximumBatch
        self.commit = commit
    }

    /// Writes `item` with whatever else is waiting, and returns its outcome once committed.
    func write(_ item: Item) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            let startsCommitting = state.withLock { state in
                state.waiting.append(Waiting(item: item, continuation: continuation))
                guard !state.committing else { return false }
                state.committing = true
                return true
            }
            if startsCommitting {
                Task { await self.commitUntilDrained() }
            }
        }
    }

    private func commitUntilDrained() async {
        while true {
            let batch = state.withLock { state in
                let batch = Array(state.waiting.prefix(maximumBatch))
                state.waiting.removeFirst(batch.count)
                if batch.isEmpty { state.committing = false }
                return batch
            }
            guard !batch.isEmpty else { return }
            do {
                let outcomes = try await commit(batch.map(\.item))
                for (waiting, outcome) in zip(batch, outcomes) {
                    waiting.continuation.resume(returning: outcome)
                }
            } catch {
                for waiting in batch {
                    waiting.continuation.resume(throwing: error)
                }
            }
        }
    }
}
