/// A quantity a condition compares (§4.3).
public enum RuleMetric: String, Sendable, Codable, Hashable, CaseIterable {
    case stock
    case price
    case unitsSold = "units_sold"
    case orderCount = "order_count"
    case cancelCount = "cancel_count"
    case returnCount = "return_count"
    case velocityRatio = "velocity_ratio"
    case syncLag = "sync_lag"
    case varianceUnits = "variance_units"
    case variancePct = "variance_pct"
    case orderQty = "order_qty"
    case reservationQty = "reservation_qty"
    case receivedQty = "received_qty"
    case priceChangePct = "price_change_pct"
    case absPriceChangePct = "abs_price_change_pct"

    /// Rolling aggregates that need a `window`.
    var needsWindow: Bool { [.unitsSold, .orderCount, .cancelCount, .returnCount].contains(self) }

    /// Metrics whose values count whole units.
    var isCount: Bool {
        [.stock, .unitsSold, .orderCount, .cancelCount, .returnCount, .varianceUnits, .orderQty, .reservationQty, .receivedQty]
            .contains(self)
    }
}
