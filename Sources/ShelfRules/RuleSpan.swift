/// A 0-based, end-exclusive range of Unicode scalars in the original rule text (§7.4).
public struct RuleSpan: Sendable, Codable, Hashable {
    public var start: Int
    public var end: Int

    public init(start: Int, end: Int) {
        self.start = start
        self.end = end
    }

    /// The smallest span covering both spans.
    func union(_ other: RuleSpan) -> RuleSpan {
        RuleSpan(start: min(start, other.start), end: max(end, other.end))
    }
}
