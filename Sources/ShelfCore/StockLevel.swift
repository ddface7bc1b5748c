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
    public func available(spikeMultiplier: Int = 1) -> Int {
        max(0, onHand - committed - reserved - unavailable - safetyStock * spikeMultiplier)
    }

    /// Field-wise sum, for SKU totals across locations.
    public static func + (a: StockLevel, b: StockLevel) -> StockLevel {
        StockLevel(
            onHand: a.onHand + b.onHand, committed: a.committed + b.committed, reserved: a.reserved + b.reserved,
            unavailable: a.unavailable + b.unavailable, safetyStock: a.safetyStock + b.safetyStock, incoming: a.incoming + b.incoming,
            oversold: a.oversold + b.oversold
        )
    }
}
