/// The kind of an action (§4.4).
public enum RuleActionType: String, Sendable, Codable, Hashable, CaseIterable {
    case notify
    case pauseListing = "pause_listing"
    case resumeListing = "resume_listing"
    case setSafetyStock = "set_safety_stock"
    case setSafetyStockMultiplier = "set_safety_stock_multiplier"
    case setChannelBuffer = "set_channel_buffer"
    case setPrice = "set_price"
    case adjustPrice = "adjust_price"
    case reorder
    case rerouteOrders = "reroute_orders"
    case tagOrder = "tag_order"
    case reconcileChannels = "reconcile_channels"
    case prioritizeSync = "prioritize_sync"

    /// Actions that act on the rule's items, so the rule needs some (§5.12).
    var actsOnItems: Bool {
        switch self {
        case .pauseListing, .resumeListing, .setSafetyStock, .setSafetyStockMultiplier, .setChannelBuffer, .setPrice,
            .adjustPrice, .reorder, .prioritizeSync:
            true
        default: false
        }
    }
}
