import ShelfCore

/// One shard's SKUs: the states in one contiguous array and a dictionary from SKU to position. A dictionary of whole states
/// keeps each 160-byte state in a hash bucket, and a hash table stays between 3/8 and 3/4 full, so about 370 bytes per SKU went
/// to buckets; here a bucket holds a key and a 4-byte position (about 40 bytes per SKU) and the states sit packed.
struct SKUTable: Sendable {
    private var positions: [String: Int32] = [:]
    private(set) var states: ContiguousArray<SKUState> = []

    init(capacity: Int = 0) {
        positions.reserveCapacity(capacity)
        states.reserveCapacity(capacity)
    }

    var count: Int { states.count }

    /// The state of `sku`; setting nil removes it (the last state moves into its place).
    subscript(sku: String) -> SKUState? {
        get { positions[sku].map { states[Int($0)] } }
        set {
            if let newValue {
                if let i = positions[sku] {
                    states[Int(i)] = newValue
                } else {
                    positions[sku] = Int32(states.count)
                    states.append(newValue)
                }
            } else if let i = positions.removeValue(forKey: sku).map(Int.init) {
                let last = states.count - 1
                if i != last {
                    states.swapAt(i, last)
                    positions[states[i].sku] = Int32(i)
                }
                states.removeLast()
            }
        }
    }

    /// Stores `state` under its SKU and answers the state it replaced (nil: a new SKU).
    mutating func exchange(_ state: SKUState) -> SKUState? {
        if let i = positions[state.sku].map(Int.init) {
            let old = states[i]
            states[i] = state
            return old
        }
        positions[state.sku] = Int32(states.count)
        states.append(state)
        return nil
    }
}
