import Synchronization
import Testing

@testable import BrokerStore

@Suite("Write batcher")
struct WriteBatcherTests {
    /// Counts commits and the items each carried.
    private final class CommitLog: Sendable {
        private let batches = Mutex<[[Int]]>([])
        var all: [[Int]] { batches.withLock { $0 } }
        func record(_ batch: [Int]) { batches.withLock { $0.append(batch) } }
    }

    @Test("writes that arrive during a commit share the next one, and each caller gets its own outcome")
    func batches() async throws {
        let log = CommitLog()
        let batcher = WriteBatcher<Int, Int>(maximumBatch: 64) { items in
            log.record(items)
            try await Task.sleep(for: .milliseconds(50))
            return items.map { $0 * 10 }
        }
        let outcomes = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for item in 0..<200 {
                group.addTask { (item, try await batcher.write(item)) }
            }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        #expect(outcomes.count == 200 && outcomes.allSatisfy { $0.value == $0.key * 10 })
        #expect(log.all.flatMap { $0 }.sorted() == Array(0..<200), "every item committed exactly once")
        #expect(log.all.count < 20, "\(log.all.count) commits for 200 writes")
        #expect(log.all.allSatisfy { $0.count <= 64 })
    }

    @Test("a failed commit fails every write it carried, and later writes still commit")
    func failure() async throws {
        struct DiskFull: Error {}
        let failing = Mutex(true)
        let batcher = WriteBatcher<Int, Int>(maximumBatch: 64) { items in
            if failing.withLock({ $0 }) { throw DiskFull() }
            return items
        }
        await #expect(throws: DiskFull.self) { try await batcher.write(1) }
        failing.withLock { $0 = false }
        #expect(try await batcher.write(2) == 2)
    }
}
