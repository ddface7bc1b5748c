/// The quantities of one SKU at one location, in Shopify's terms so Shelf maps onto channels without loss.
public struct StockLevel: Codable, Hashable, Sendable {
    /// Units physically at the location.
    public var onHand: Int
    /// Units ordered but not shipped.
    public var committed: Int
    /// Units held by active reservations (carts, agents).
    public var reserved: Int
    /// Damaged or in quality control.
    public var unavailable: Int
    /// Units the seller never sells from this location.
    public var safetyStock: Int
    /// Units on the way (not counted as available).
    public var incoming: Int
    /// Units sold by channels beyond what was available (facts Shelf could not refuse).
    public var oversold: Int

    public init(
        onHand: Int = 0, committed: Int = 0, reserved: Int = 0, unavailable: Int = 0, safetyStock: Int = 0, incoming: Int = 0,
        oversold: Int = 0
    ) {
        self.onHand = onHand
        self.committed = committed
        self.reserved = reserved
        self.unavailable = unavailable
        self.safetyStock = safetyStock
        self.incoming = incoming
        self.oversold = oversold
    }

    /// `max(0, onHand − committed − reserved − unavailable − safetyStock × spikeMultiplier)` (DESIGN §3).
    /// Every figure is taken within `0…Limits.maxStockFigure` first, so even a damaged stored row cannot make this trap.
    public func available(spikeMultiplier: Int = 1) -> Int {
        func bounded(_ v: Int) -> Int { min(max(0, v), Limits.maxStockFigure) }
        let held = bounded(safetyStock) * min(max(1, spikeMultiplier), Limits.maxSpikeMultiplier)
        return max(0, bounded(onHand) - bounded(committed) - bounded(reserved) - bounded(unavailable) - held)
    }

    /// Field-wise sum, for SKU totals across locations (saturating, so it never traps).
    public static func + (a: StockLevel, b: StockLevel) -> StockLevel {
        func sum(_ x: Int, _ y: Int) -> Int {
            let (s, overflow) = x.addingReportingOverflow(y)
            return overflow ? (y > 0 ? Int.max : Int.min) : s
        }
        return StockLevel(
            onHand: sum(a.onHand, b.onHand), committed: sum(a.committed, b.committed), reserved: sum(a.reserved, b.reserved),
            unavailable: sum(a.unavailable, b.unavailable), safetyStock: sum(a.safetyStock, b.safetyStock),
            incoming: sum(a.incoming, b.incoming), oversold: sum(a.oversold, b.oversold)
        )
    }

    /// True when every figure lies within `0…Limits.maxStockFigure` (a stored row outside it is quarantined at start-up).
    public var isWithinLimits: Bool {
        [onHand, committed, reserved, unavailable, safetyStock, incoming, oversold].allSatisfy { (0...Limits.maxStockFigure).contains($0) }
    }
}
