import BrokerCore
import NIOCore
import Synchronization

/// MX reads kept for a short while, per user, within a byte budget.
///
/// An entry expires after `ttl`, and a user's entries are dropped as soon as the broker learns
/// their data changed: a webhook or relay that announced something, here or — through
/// PostgreSQL — in another replica. The least recently used entries go first when the budget
/// is full. A read that was already on its way to MX when the user's data changed is answered
/// but not kept.
final class ReadCache: Sendable {
    /// The answer to a lookup: a fresh entry, or a miss to hand back to ``store(_:mxUserGUID:key:miss:)``.
    enum Lookup {
        case hit(CacheableAnswer)
        case miss(Miss)
    }

    /// When a missed read started, so that a change meanwhile keeps its answer out of the cache,
    /// and when the user's data last changed before it.
    struct Miss: Sendable {
        fileprivate let startedAt: ContinuousClock.Instant
        /// The user's last known change: the read needs an answer from MX read after it.
        let userChangedAt: ContinuousClock.Instant?
    }

    private struct Slot {
        let entry: CacheableAnswer
        var lastUsed: UInt64
    }

    /// Entries by user and by the read's key, both compared by their bytes (``ByteKey``): a
    /// read's key holds the path and query the caller asked for.
    private struct State {
        var users: [ByteKey: [ByteKey: Slot]] = [:]
        var changedAt: [ByteKey: ContinuousClock.Instant] = [:]
        var bytes = 0
        var uses: UInt64 = 0
    }

    let ttl: Duration
    let maxBytes: Int
    private let state = Mutex(State())

    /// A cache keeping entries `ttl` long within `maxBytes`; a zero `ttl` or budget keeps nothing.
    init(ttl: Duration, maxBytes: Int) {
        self.ttl = ttl
        self.maxBytes = maxBytes
    }

    /// A cache as `settings` say.
    convenience init(_ settings: ReadCacheSettings) {
        self.init(ttl: settings.ttl, maxBytes: settings.maxBytes)
    }

    /// Whether anything is kept at all.
    var isEnabled: Bool { ttl > .zero && maxBytes > 0 }

    func lookup(mxUserGUID: String, key: String, now: ContinuousClock.Instant = .now) -> Lookup {
        let (mxUserGUID, key) = (ByteKey(mxUserGUID), ByteKey(key))
        return state.withLock { state in
            let miss = Miss(startedAt: now, userChangedAt: state.changedAt[mxUserGUID])
            guard isEnabled, let slot = state.users[mxUserGUID]?[key] else { return .miss(miss) }
            guard now - slot.entry.madeAt < ttl else {
                Self.remove(key, of: mxUserGUID, from: &state)
                return .miss(miss)
            }
            state.uses += 1
            state.users[mxUserGUID]?[key]?.lastUsed = state.uses
            return .hit(slot.entry)
        }
    }

    /// Keeps MX's answer to a missed read, unless the user's data changed since the read
    /// started; returns the entry either way (for its `ETag`).
    @discardableResult
    func store(_ body: ByteBuffer, mxUserGUID: String, key: String, miss: Miss, now: ContinuousClock.Instant = .now) -> CacheableAnswer {
        let entry = CacheableAnswer(body: body, madeAt: now)
        guard isEnabled, entry.size <= maxBytes / 4 else { return entry }
        let (mxUserGUID, key) = (ByteKey(mxUserGUID), ByteKey(key))
        state.withLock { state in
            if let changed = state.changedAt[mxUserGUID], changed >= miss.startedAt { return }
            Self.remove(key, of: mxUserGUID, from: &state)
            state.uses += 1
            state.users[mxUserGUID, default: [:]][key] = Slot(entry: entry, lastUsed: state.uses)
            state.bytes += entry.size
            if state.bytes > maxBytes { evict(&state, now: now) }
        }
        return entry
    }

    /// Drops every entry of a user whose data changed, and notes when (kept ten minutes, also
    /// when nothing is cached, for ``Miss/userChangedAt``).
    func invalidate(mxUserGUID: String, now: ContinuousClock.Instant = .now) {
        let mxUserGUID = ByteKey(mxUserGUID)
        state.withLock { state in
            if let slots = state.users.removeValue(forKey: mxUserGUID) {
                state.bytes -= slots.values.reduce(0) { $0 + $1.entry.size }
            }
            state.changedAt[mxUserGUID] = now
            if state.changedAt.count > 10_000 {
                state.changedAt = state.changedAt.filter { now - $0.value < .seconds(600) }
            }
        }
    }

    /// Bytes held (bodies and their gzip forms, counted as twice the body).
    var bytes: Int { state.withLock { $0.bytes } }

    /// Evicts expired entries, then the least recently used, down to 90 % of the budget.
    private func evict(_ state: inout State, now: ContinuousClock.Instant) {
        var candidates: [(user: ByteKey, key: ByteKey, lastUsed: UInt64, expired: Bool)] = []
        for (user, slots) in state.users {
            for (key, slot) in slots {
                candidates.append((user, key, slot.lastUsed, now - slot.entry.madeAt >= ttl))
            }
        }
        candidates.sort { ($0.expired ? 0 : 1, $0.lastUsed) < ($1.expired ? 0 : 1, $1.lastUsed) }
        let target = maxBytes / 10 * 9
        for candidate in candidates where state.bytes > target {
            Self.remove(candidate.key, of: candidate.user, from: &state)
        }
    }

    private static func remove(_ key: ByteKey, of user: ByteKey, from state: inout State) {
        guard let slot = state.users[user]?.removeValue(forKey: key) else { return }
        state.bytes -= slot.entry.size
        if state.users[user]?.isEmpty == true { state.users[user] = nil }
    }
}
