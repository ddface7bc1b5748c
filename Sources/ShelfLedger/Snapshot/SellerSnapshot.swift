import Foundation
import ShelfCore
import Synchronization

/// The in-memory, read-optimized current state of one seller. Readers take a shard lock only long enough to copy one value;
/// the writer publishes new values after each commit, so a read never waits for the database.
public final class SellerSnapshot: Sendable {
    public let id: String
    static let shardCount = 64
    let shards: [Shard]
    let meta: Mutex<Meta>

    struct Meta {
        var catalog = SellerCatalog()
        /// Counts changes of `catalog` (locations, channels, holidays): answers computed from the catalog are kept with it.
        var catalogVersion: UInt64 = 0
        var lastSequence: Int64 = 0
        var lastRecordedAt: Date?
        var sortedSKUs: [String] = []
        var unsortedAdditions: [String] = []
        var holdIndex: [String: String] = [:]
        /// Product id → its SKUs in ascending order (variants need not sort next to each other).
        var products: [String: [String]] = [:]
        var count = 0
        /// SKUs whose stored rows could not be applied at start-up, with the reason; kept out of the snapshot.
        var quarantined: [String: String] = [:]
        /// (Channel, the channel's own item id) → SKU, kept up to date on every publish (webhooks and polls name items by it).
        /// Only ids that differ from the SKU are kept: many channels list an item under the seller's SKU, and at a million
        /// SKUs those identity entries were millions of strings (`resolve` checks the identity case on the SKU itself).
        var externalIds = ExternalIdIndex()
        /// SKUs whose safety stock is multiplied by a demand spike.
        var spiking: Set<String> = []

        /// Moves the incremental indexes from `old` (nil: a new SKU) to `new`.
        mutating func index(from old: SKUState?, to new: SKUState) {
            let listings = new.listings
            if let old {
                for listing in old.listings where listing.externalId != old.sku
                    && !(old.sku == new.sku && listings.contains { $0.channel == listing.channel && $0.externalId == listing.externalId }) {
                    externalIds.remove(channel: listing.channel, externalId: listing.externalId, sku: old.sku)
                }
            }
            for listing in listings where listing.externalId != new.sku {
                externalIds.insert(channel: listing.channel, externalId: listing.externalId, sku: new.sku)
            }
            if new.spikeMultiplier > 1 { spiking.insert(new.sku) } else { spiking.remove(new.sku) }
        }
    }

    init(id: String) {
        self.id = id
        shards = (0..<Self.shardCount).map { _ in Shard() }
        meta = Mutex(Meta())
    }

    /// One lock-protected slice of the SKU map.
    final class Shard: Sendable {
        let map = Mutex(SKUTable())
        func withLock<R>(_ body: (inout SKUTable) -> R) -> R { map.withLock { body(&$0) } }
    }

    /// The shard a SKU lives in (FNV-1a).
    static func shardIndex(_ sku: String) -> Int {
        var h: UInt32 = 2_166_136_261
        for b in sku.utf8 { h = (h ^ UInt32(b)) &* 16_777_619 }
        return Int(h % UInt32(shardCount))
    }

    private func shard(_ sku: String) -> Shard { shards[Self.shardIndex(sku)] }

    /// The current state of `sku`, or nil when unknown.
    public func sku(_ sku: String) -> SKUState? { shard(sku).withLock { $0[sku] } }

    /// Locations, channels and the seller's business calendar.
    public var catalog: SellerCatalog { meta.withLock { $0.catalog } }

    /// The catalog with its version, which grows on every change of the catalog (a location, a channel, the holidays), so a
    /// reader can keep what it derived from one catalog for as long as the version stays the same.
    public var versionedCatalog: (catalog: SellerCatalog, version: UInt64) { meta.withLock { ($0.catalog, $0.catalogVersion) } }

    /// Replaces the seller's business calendar (seller-wide holidays).
    func setHolidays(_ holidays: [CivilDate]) {
        meta.withLock { m in
            m.catalog.holidays = holidays.sorted()
            m.catalogVersion &+= 1
        }
    }

    /// The sequence of the last event applied.
    public var lastSequence: Int64 { meta.withLock { $0.lastSequence } }

    /// When the last applied event was recorded.
    public var lastRecordedAt: Date? { meta.withLock { $0.lastRecordedAt } }

    /// Number of SKUs (active or not).
    public var count: Int { meta.withLock { $0.count } }

    /// The SKUs of a product (active or not), in ascending order; empty for an unknown product.
    public func skus(ofProduct id: String) -> [String] { meta.withLock { $0.products[id] ?? [] } }

    /// The active variants of a product, in SKU order.
    public func activeVariants(ofProduct id: String) -> [SKUState] {
        skus(ofProduct: id).compactMap { sku($0) }.filter(\.item.active)
    }

    /// SKUs whose stored rows could not be applied at start-up, with the reason (reported by `/readyz` and the admin API).
    public var quarantined: [String: String] { meta.withLock { $0.quarantined } }

    /// Why `sku` is quarantined, or nil when it is not.
    public func quarantineReason(_ sku: String) -> String? { meta.withLock { $0.quarantined[sku] } }

    /// The SKU a channel line refers to: its SKU when given and known, else the SKU listed on `channel` under `externalId`.
    /// An O(1) lookup in an index kept up to date on every publish (never a scan).
    public func resolve(sku: String?, externalId: String?, channel: String) -> String? {
        if let sku, self.sku(sku) != nil { return sku }
        guard let externalId else { return nil }
        func lists(_ state: SKUState) -> Bool { state.listings.contains { $0.channel == channel && $0.externalId == externalId } }
        // The index names candidates by hash; the SKU's own listings confirm one. Should two SKUs list the same item id,
        // the one changed last answers.
        let candidates = meta.withLock { $0.externalIds.candidates(channel: channel, externalId: externalId) }
        var found: SKUState?
        for candidate in candidates {
            guard let state = self.sku(candidate), lists(state) else { continue }
            if found.map({ state.lastSequence > $0.lastSequence }) ?? true { found = state }
        }
        if let found { return found.sku }
        // An item listed under the seller's own SKU is not in the index.
        guard let own = self.sku(externalId), lists(own) else { return nil }
        return externalId
    }

    /// SKUs in a demand spike (safety stock multiplied), in ascending order.
    public var spikingSKUs: [String] { meta.withLock { $0.spiking.sorted() } }

    /// True when at least one SKU is in a demand spike.
    public var hasSpike: Bool { meta.withLock { !$0.spiking.isEmpty } }

    /// Holds not yet expired at `now` (reads only the SKUs that have holds).
    public func activeHoldCount(now: Date) -> Int {
        let skus = meta.withLock { Set($0.holdIndex.values) }
        return skus.reduce(0) { total, sku in total + (self.sku(sku)?.holds.filter { $0.isActive(at: now) }.count ?? 0) }
    }

    /// The SKU a hold belongs to.
    public func skuForReservation(_ id: String) -> String? { meta.withLock { $0.holdIndex[id] } }

    /// SKU ids in ascending order strictly after `cursor`, at most `limit`.
    public func skuIDs(after cursor: String?, limit: Int) -> [String] {
        meta.withLock { m in
            Self.sortPending(&m)
            var start = 0
            if let cursor {
                var lo = 0
                var hi = m.sortedSKUs.count
                while lo < hi {
                    let mid = (lo + hi) / 2
                    if m.sortedSKUs[mid] <= cursor { lo = mid + 1 } else { hi = mid }
                }
                start = lo
            }
            return Array(m.sortedSKUs[start..<min(m.sortedSKUs.count, start + max(0, limit))])
        }
    }

    /// Every SKU id in ascending order (a copy; cheap for the sizes Shelf holds per seller).
    public func allSKUIDs() -> [String] {
        meta.withLock { m in
            Self.sortPending(&m)
            return m.sortedSKUs
        }
    }

    private static func sortPending(_ m: inout Meta) {
        guard !m.unsortedAdditions.isEmpty else { return }
        m.sortedSKUs.append(contentsOf: m.unsortedAdditions)
        m.sortedSKUs.sort()
        m.unsortedAdditions.removeAll()
    }

    /// Publishes committed state: new SKU values, the catalog if it changed, and the sequence reached. Called by the ledger only.
    func publish(states: [SKUState], catalog: SellerCatalog?, events: [LedgerEvent]) {
        var added: [String] = []
        var moved: [(sku: String, from: String?, to: String)] = []
        var changed: [(old: SKUState?, new: SKUState)] = []
        changed.reserveCapacity(states.count)
        for var state in states {
            // Equal product text is held once: take the instance of the SKU's previous state or of a variant of its product.
            if let sibling = self.sku(state.sku) ?? meta.withLock({ $0.products[state.item.productId]?.first }).flatMap({ self.sku($0) }) {
                state.item.shareText(with: sibling.item)
            }
            let old: SKUState? = shard(state.sku).withLock { $0.exchange(state) }
            // The product the SKU belonged to before (nil: a new SKU).
            let previous = old?.item.productId
            if previous == nil { added.append(state.sku) }
            if previous != state.item.productId { moved.append((state.sku, previous, state.item.productId)) }
            changed.append((old, state))
        }
        meta.withLock { m in
            for (old, new) in changed { m.index(from: old, to: new) }
            for (sku, from, to) in moved {
                if let from {
                    m.products[from]?.removeAll { $0 == sku }
                    if m.products[from]?.isEmpty == true { m.products[from] = nil }
                }
                var members = m.products[to] ?? []
                let at = members.firstIndex { $0 > sku } ?? members.count
                members.insert(sku, at: at)
                m.products[to] = members
            }
            if let catalog {
                m.catalog = catalog
                m.catalogVersion &+= 1
            }
            if let last = events.last {
                m.lastSequence = max(m.lastSequence, last.sequence)
                m.lastRecordedAt = last.recordedAt
            }
            m.count += added.count
            m.unsortedAdditions.append(contentsOf: added)
            for e in events {
                guard let hold = e.event.reservation else { continue }
                if e.event.type == .reservationCreated {
                    m.holdIndex[hold.id] = hold.sku
                } else if e.event.type == .reservationReleased || e.event.type == .reservationExpired
                    || e.event.type == .reservationCommitted
                {
                    m.holdIndex[hold.id] = nil
                }
            }
        }
    }

    /// Loads a rebuilt state at start (already split into shards by `shardIndex`).
    func load(
        shards loaded: [SKUTable], catalog: SellerCatalog, lastSequence: Int64, lastRecordedAt: Date?, quarantined: [String: String] = [:]
    ) {
        var ids: [String] = []
        ids.reserveCapacity(loaded.reduce(0) { $0 + $1.count })
        var holds: [String: String] = [:]
        var products: [String: [String]] = [:]
        var indexes = Meta()
        for (i, bucket) in loaded.enumerated() {
            for state in bucket.states {
                let sku = state.sku
                ids.append(sku)
                products[state.item.productId, default: []].append(sku)
                for hold in state.holds { holds[hold.id] = sku }
                indexes.index(from: nil, to: state)
            }
            shards[i].withLock { $0 = bucket }
        }
        ids.sort()
        for key in products.keys { products[key]!.sort() }
        meta.withLock { m in
            let version = m.catalogVersion &+ 1
            m = Meta(catalog: catalog, lastSequence: lastSequence, lastRecordedAt: lastRecordedAt, sortedSKUs: ids, holdIndex: holds,
                     products: products)
            m.catalogVersion = version
            m.externalIds = indexes.externalIds
            m.spiking = indexes.spiking
            m.count = ids.count
            m.quarantined = quarantined
        }
    }

    /// Every SKU state, in SKU order. For comparisons and full feeds.
    public func allStates() -> [SKUState] { allSKUIDs().compactMap { sku($0) } }
}
