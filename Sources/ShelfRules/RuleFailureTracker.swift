/// Remembers the furthest token position any alternative reached and what was expected there (§7.4).
struct RuleFailureTracker: Sendable {
    private(set) var position = -1
    private(set) var expected: [RuleExpectation] = []
    private(set) var slots: [RuleSlot] = []
    private var seen: Set<RuleExpectation> = []

    init() {
        expected.reserveCapacity(32)
        slots.reserveCapacity(32)
    }

    /// Whether a failure at `position` would be kept (so callers can skip building the expectation).
    @inline(__always)
    func wants(_ position: Int) -> Bool { position >= self.position }

    mutating func record(_ expectation: RuleExpectation, at position: Int, slot: RuleSlot) {
        if position > self.position {
            self.position = position
            expected.removeAll(keepingCapacity: true)
            slots.removeAll(keepingCapacity: true)
            seen.removeAll(keepingCapacity: true)
        }
        guard position == self.position else { return }
        if seen.insert(expectation).inserted { expected.append(expectation) }
        if !slots.contains(slot) { slots.append(slot) }
    }
}
