import Foundation
import Synchronization

/// What an answer was computed from: the SKU's state (its last sequence), the seller's catalog (its version) and the clock
/// (the answer holds from `computedAt` until just before `validUntil`). An answer is reused only while all three still match.
struct AnswerStamp: Equatable, Sendable {
    /// `SKUState.lastSequence` of the state the answer was computed from (0 for answers that read no SKU).
    var skuSequence: Int64
    /// `SellerSnapshot.versionedCatalog.version` when the answer was computed.
    var catalogVersion: UInt64
    var computedAt: Date
    /// The first instant the clock alone changes the answer; never later than the UTC midnight after `computedAt`, so an
    /// answer never outlives its calendar day.
    var validUntil: Date

    init(skuSequence: Int64, catalogVersion: UInt64, computedAt: Date, validUntil: Date) {
        self.skuSequence = skuSequence
        self.catalogVersion = catalogVersion
        self.computedAt = computedAt
        let day = (computedAt.timeIntervalSince1970 / 86_400).rounded(.down)
        self.validUntil = min(validUntil, Date(timeIntervalSince1970: (day + 1) * 86_400))
    }

    /// True when an answer with this stamp is the answer for `skuSequence` and `catalogVersion` at `now`.
    func holds(skuSequence: Int64, catalogVersion: UInt64, now: Date) -> Bool {
        self.skuSequence == skuSequence && self.catalogVersion == catalogVersion && computedAt <= now && now < validUntil
    }
}

/// A bounded map from a question to the answer computed for it, kept until what it was computed from changes (see
/// `AnswerStamp`). Memory is bounded by `budget` bytes (as the caller measures each value, plus a fixed overhead per entry):
/// beyond it the oldest entries go first. Split into shards, each behind its own lock, so readers on different event loops
/// rarely meet.
final class AnswerCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    /// Bytes counted per entry on top of the value's own (key, stamp, table slot).
    static var entryOverhead: Int { 128 }
    static var shardCount: Int { 16 }

    private let shards: [Shard]
    /// Most bytes the cache holds, over all shards.
    let budget: Int
    private let hitCount = Atomic<Int>(0)
    private let missCount = Atomic<Int>(0)

    init(budget: Int) {
        self.budget = max(0, budget)
        let perShard = self.budget / Self.shardCount
        shards = (0..<Self.shardCount).map { _ in Shard(budget: perShard) }
    }

    /// One lock over a slice of the keys (a class, because a `Mutex` cannot live in an array).
    final class Shard: Sendable {
        let state: Mutex<ShardState>
        init(budget: Int) { state = Mutex(ShardState(budget: budget)) }
    }

    struct Entry {
        var value: Value
        var stamp: AnswerStamp
        var bytes: Int
        /// Which insertion of the key this is (older slots in `order` name older insertions and are skipped).
        var generation: UInt64
    }

    struct ShardState {
        let budget: Int
        var entries: [Key: Entry] = [:]
        var bytes = 0
        /// Insertions oldest first, from `head` on; slots whose generation no longer matches are stale.
        var order: [(key: Key, generation: UInt64)] = []
        var head = 0
        var nextGeneration: UInt64 = 0

        init(budget: Int) { self.budget = budget }

        mutating func insert(_ key: Key, _ value: Value, stamp: AnswerStamp, bytes size: Int) {
            let size = size + AnswerCache.entryOverhead
            guard size <= budget else { return }
            if let old = entries.removeValue(forKey: key) { bytes -= old.bytes }
            while bytes + size > budget, head < order.count {
                let (oldest, generation) = order[head]
                head += 1
                if let entry = entries[oldest], entry.generation == generation {
                    entries[oldest] = nil
                    bytes -= entry.bytes
                }
            }
            nextGeneration &+= 1
            entries[key] = Entry(value: value, stamp: stamp, bytes: size, generation: nextGeneration)
            bytes += size
            order.append((key, nextGeneration))
            // Drop consumed and stale slots once they outnumber the live ones.
            if order.count - head > 2 * entries.count + 64 || head > 4096 {
                order = order[head...].filter { entries[$0.key]?.generation == $0.generation }
                head = 0
            }
        }
    }

    private func shard(_ key: Key) -> Shard { shards[Int(UInt(bitPattern: key.hashValue) % UInt(Self.shardCount))] }

    /// The answer kept for `key` if it still holds for `skuSequence` and `catalogVersion` at `now`.
    func value(_ key: Key, skuSequence: Int64, catalogVersion: UInt64, now: Date) -> Value? {
        let found = shard(key).state.withLock { state -> Value? in
            guard let entry = state.entries[key], entry.stamp.holds(skuSequence: skuSequence, catalogVersion: catalogVersion, now: now)
            else { return nil }
            return entry.value
        }
        if found == nil {
            missCount.add(1, ordering: .relaxed)
        } else {
            hitCount.add(1, ordering: .relaxed)
        }
        return found
    }

    /// Keeps `value` for `key`, replacing what was there; `bytes` is the value's size in memory.
    func store(_ key: Key, _ value: Value, stamp: AnswerStamp, bytes: Int) {
        shard(key).state.withLock { $0.insert(key, value, stamp: stamp, bytes: bytes) }
    }

    /// Entries held now.
    var count: Int { shards.reduce(0) { total, shard in total + shard.state.withLock { $0.entries.count } } }

    /// Bytes held now (never more than `budget`).
    var bytes: Int { shards.reduce(0) { total, shard in total + shard.state.withLock { $0.bytes } } }

    /// Lookups answered from the cache, and lookups that had to compute.
    var hits: Int { hitCount.load(ordering: .relaxed) }
    var misses: Int { missCount.load(ordering: .relaxed) }
}
