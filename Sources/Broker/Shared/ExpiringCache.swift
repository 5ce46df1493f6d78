import BrokerCore
import Synchronization

/// A bounded map whose entries hold until a deadline each; when full, expired entries are
/// dropped first, then everything. Keys are compared by their bytes (``ByteKey``): they are
/// tokens and subjects, text the caller chooses.
final class ExpiringCache<Value: Sendable>: Sendable {
    private let entries = Mutex<[ByteKey: (value: Value, until: ContinuousClock.Instant)]>([:])
    private let capacity: Int

    init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    func value(for key: String, now: ContinuousClock.Instant = .now) -> Value? {
        let key = ByteKey(key)
        return entries.withLock { entries in
            guard let entry = entries[key] else { return nil }
            guard entry.until > now else {
                entries[key] = nil
                return nil
            }
            return entry.value
        }
    }

    func set(_ value: Value, for key: String, until: ContinuousClock.Instant, now: ContinuousClock.Instant = .now) {
        let key = ByteKey(key)
        entries.withLock { entries in
            if entries.count >= capacity, entries[key] == nil {
                entries = entries.filter { $0.value.until > now }
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[key] = (value, until)
        }
    }

    func remove(_ key: String) {
        _ = entries.withLock { $0.removeValue(forKey: ByteKey(key)) }
    }
}
