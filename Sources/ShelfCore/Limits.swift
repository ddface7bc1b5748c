/// The one set of bounds on every number Shelf takes in (API, webhooks, polls, imports, reservations, rules) and on every
/// figure it stores. Inputs outside them are refused with the field and the reason; stored figures can never reach them by
/// arithmetic, so nothing downstream can overflow. Documented in the README ("Limits") and the OpenAPI spec.
public enum Limits {
    /// Units in one event, order line, hold, adjustment or stock count: 1…10⁹ (0…10⁹ for counts and safety stock).
    public static let maxQuantity = 1_000_000_000
    /// Any stored stock figure of one SKU at one location (on hand, committed, reserved, oversold, …): at most 10¹².
    /// Orders reported by channels are facts, but one that would take a figure past this bound is refused with a reason.
    public static let maxStockFigure = 1_000_000_000_000
    /// A price in minor units: 0…10¹⁴ (a trillion in a two-decimal currency).
    public static let maxPriceMinorUnits: Int64 = 100_000_000_000_000
    /// A percentage in a rule (price changes, variance): at most 10,000 % (a hundredfold).
    public static let maxPercent: Double = 10_000
    /// A channel buffer: 0…10⁶ units held back.
    public static let maxBuffer = 1_000_000
    /// A demand-spike safety-stock multiplier: 1…100.
    public static let maxSpikeMultiplier = 100

    /// The quantity range of one change (`order.confirmed`, holds, receipts, …).
    public static let quantity = 1...maxQuantity
    /// The range of a count that may be zero (`stock.set`, safety stock, levels in an import).
    public static let count = 0...maxQuantity
    /// The range of a price in minor units.
    public static let price = 0...maxPriceMinorUnits

    /// `a + b` when it stays within 0…`maxStockFigure`; nil otherwise (never traps).
    public static func stockSum(_ a: Int, _ b: Int) -> Int? {
        let (sum, overflow) = a.addingReportingOverflow(b)
        guard !overflow, sum <= maxStockFigure else { return nil }
        return sum
    }
}
