/// Channel item id → SKU, for one seller, in one flat open-addressing table: each slot is a 64-bit hash of (channel, item
/// id) and the SKU (a string that shares its storage with the SKU's own). The item ids themselves are not kept — at a
/// million SKUs they were a dictionary of dictionaries of strings, about 260 bytes per SKU; a slot is 24 bytes. A hash only
/// names candidates: `SellerSnapshot.resolve` confirms each against the SKU's listings, so two ids that share a hash can
/// never be confused. Linear probing; removal shifts the following slots back (no tombstones). Each hash has one slot: further
/// SKUs under the same hash (the same item id listed by several SKUs, or a rare collision) go to a side table, so a run of
/// duplicates never lengthens the probes of every other id.
struct ExternalIdIndex {
    struct Slot {
        /// 0 marks an empty slot (a real hash of 0 is stored as 1).
        var hash: UInt64
        var sku: String
    }

    private var slots: [Slot] = []
    /// SKUs beyond the first under a hash that has a slot (usually empty).
    private var shared: [UInt64: [String]] = [:]
    /// Mappings recorded (slots and side table).
    private(set) var count = 0
    /// Slots in use: one per distinct hash.
    private(set) var occupied = 0

    /// The hash of a channel's item id (FNV-1a over the channel, a separator and the id).
    static func hash(channel: String, externalId: String) -> UInt64 {
        var h: UInt64 = 14_695_981_039_346_656_037
        for b in channel.utf8 { h = (h ^ UInt64(b)) &* 1_099_511_628_211 }
        h = (h ^ 0xFF) &* 1_099_511_628_211
        for b in externalId.utf8 { h = (h ^ UInt64(b)) &* 1_099_511_628_211 }
        // Spread the low bits (they pick the slot).
        h ^= h >> 29
        h &*= 0xBF58_476D_1CE4_E5B9
        h ^= h >> 32
        return h == 0 ? 1 : h
    }

    /// Records that `sku` lists `externalId` on `channel` (nothing changes if it already does).
    mutating func insert(channel: String, externalId: String, sku: String) {
        let h = Self.hash(channel: channel, externalId: externalId)
        if (occupied + 1) * 10 > slots.count * 7 { grow() }
        var i = Int(h & UInt64(slots.count - 1))
        while slots[i].hash != 0 {
            if slots[i].hash == h {
                guard slots[i].sku != sku, !(shared[h]?.contains(sku) ?? false) else { return }
                shared[h, default: []].append(sku)
                count += 1
                return
            }
            i = (i + 1) & (slots.count - 1)
        }
        slots[i] = Slot(hash: h, sku: sku)
        count += 1
        occupied += 1
    }

    /// Forgets that `sku` lists `externalId` on `channel`.
    mutating func remove(channel: String, externalId: String, sku: String) {
        guard !slots.isEmpty else { return }
        let h = Self.hash(channel: channel, externalId: externalId)
        let mask = slots.count - 1
        var i = Int(h & UInt64(mask))
        while slots[i].hash != 0 {
            if slots[i].hash == h {
                if slots[i].sku != sku {
                    // Not the slot's SKU: perhaps one of the others under this hash.
                    guard let at = shared[h]?.firstIndex(of: sku) else { return }
                    shared[h]!.remove(at: at)
                    if shared[h]!.isEmpty { shared[h] = nil }
                    count -= 1
                    return
                }
                if var others = shared[h] {
                    // Another SKU under this hash takes the slot.
                    slots[i].sku = others.removeLast()
                    shared[h] = others.isEmpty ? nil : others
                    count -= 1
                    return
                }
                // Backward shift: move each following slot of the run into the hole if its home allows it.
                var hole = i
                var j = (i + 1) & mask
                while slots[j].hash != 0 {
                    let home = Int(slots[j].hash & UInt64(mask))
                    // j may move to `hole` when `home` is not cyclically in (hole, j].
                    let distanceHome = (j - home) & mask
                    let distanceHole = (j - hole) & mask
                    if distanceHome >= distanceHole {
                        slots[hole] = slots[j]
                        hole = j
                    }
                    j = (j + 1) & mask
                }
                slots[hole] = Slot(hash: 0, sku: "")
                count -= 1
                occupied -= 1
                return
            }
            i = (i + 1) & mask
        }
    }

    /// The SKUs recorded under the hash of (channel, item id): the one listing it, and rarely another whose id shares the hash.
    func candidates(channel: String, externalId: String) -> [String] {
        guard !slots.isEmpty else { return [] }
        let h = Self.hash(channel: channel, externalId: externalId)
        let mask = slots.count - 1
        var i = Int(h & UInt64(mask))
        while slots[i].hash != 0 {
            if slots[i].hash == h { return [slots[i].sku] + (shared[h] ?? []) }
            i = (i + 1) & mask
        }
        return []
    }

    private mutating func grow() {
        let old = slots
        slots = Array(repeating: Slot(hash: 0, sku: ""), count: max(16, old.count * 2))
        let mask = slots.count - 1
        for slot in old where slot.hash != 0 {
            var i = Int(slot.hash & UInt64(mask))
            while slots[i].hash != 0 { i = (i + 1) & mask }
            slots[i] = slot
        }
    }
}
