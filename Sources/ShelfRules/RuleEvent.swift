/// The event that fires a rule (§7.1), or `schedule` for time-based rules.
public enum RuleEvent: String, Sendable, Codable, Hashable, CaseIterable {
    case stockChanged = "stock.changed"
    case orderConfirmed = "order.confirmed"
    case orderCancelled = "order.cancelled"
    case returnReceived = "return.received"
    case stockReceived = "stock.received"
    case priceChanged = "price.changed"
    case reservationCreated = "reservation.created"
    case reservationExpired = "reservation.expired"
    case demandSpike = "demand.spike"
    case syncFailed = "sync.failed"
    case syncLagging = "sync.lagging"
    case varianceDetected = "variance.detected"
    case schedule

    /// State metrics whose first comparison in the trigger clause is edge-triggered (§4.3, §5.3).
    var stateMetrics: Set<RuleMetric> {
        switch self {
        case .stockChanged: [.stock]
        case .priceChanged: [.price]
        case .orderConfirmed: [.unitsSold, .orderCount]
        case .orderCancelled: [.cancelCount]
        case .returnReceived: [.returnCount]
        case .demandSpike: [.velocityRatio]
        case .syncLagging: [.syncLag]
        case .varianceDetected: [.varianceUnits, .variancePct]
        default: []
        }
    }

    /// Whether the event carries an order that `tag_order` can tag.
    var carriesOrder: Bool { self == .orderConfirmed || self == .orderCancelled || self == .returnReceived }
}
