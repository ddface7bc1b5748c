import Foundation
import ShelfCore
import ShelfLedger

/// What a watch watches and when it fires, as stored (the `spec` column) and as shown on the wire.
struct WatchSpec: Codable, Hashable, Sendable {
    /// The SKUs watched (empty when a product or a catalog query is watched).
    var skus: [String]
    /// A product: every variant of it is watched, including variants added later.
    var productId: String?
    /// A catalog query: every SKU that satisfies it is watched, including SKUs added later.
    var query: WatchQuery?
    /// Units the agent wants: the quantity of the offer in each delivery.
    var qty: Int
    var conditions: [WatchCondition]
    /// Where the agent would ship to: the offer's delivery options, and `delivery_window_changed`, are for this destination.
    var destination: WatchDestination?
}

/// A catalog query of a watch: the filters of catalog search (`GET /v1/catalog`'s `q`, and the `search_catalog` tool's tags,
/// collection, stock and price band), every one given having to hold.
struct WatchQuery: Codable, Hashable, Sendable {
    /// Words that must each start a word of the SKU, title, tags, collections or option values.
    var q: String?
    var tags: [String]?
    var collection: String?
    var inStockOnly: Bool?
    /// The effective price band in minor units.
    var minPrice: Int64?
    var maxPrice: Int64?

    var filter: CatalogFilter {
        CatalogFilter(query: q, tags: tags ?? [], collection: collection, inStockOnly: inStockOnly ?? false, minPrice: minPrice, maxPrice: maxPrice)
    }
}

/// A destination named by a watch.
struct WatchDestination: Codable, Hashable, Sendable {
    var country: String
    var postalCode: String?
}

/// One condition of a watch. Every condition but `any_change` is edge-triggered: it fires on the transition into its state
/// (between two states Shelf observed), not again while the state lasts.
struct WatchCondition: Codable, Hashable, Sendable {
    /// The kinds of condition.
    enum Kind: String, Codable, Hashable, Sendable, CaseIterable {
        /// Available rises from below `qty` to `qty` or more.
        case backInStock = "back_in_stock"
        /// Available falls from `qty` or more to below `qty`.
        case stockBelow = "stock_below"
        /// The price (same currency) falls from above `price` to `price` or less.
        case priceAtOrBelow = "price_at_or_below"
        /// The first delivery option to the watch's destination (carrier, service, dates) changes.
        case deliveryWindowChanged = "delivery_window_changed"
        /// Level-triggered: any change of available, price or delivery window.
        case anyChange = "any_change"
    }

    var type: Kind
    var qty: Int?
    var price: Money?
}

/// The event types of deliveries, named as in the ACP proposal for product webhooks.
enum WatchEventType: String, Sendable {
    case availability = "product_availability_updated"
    case price = "product_price_updated"
    case inventory = "product_inventory_updated"
}

extension WatchSpec {
    /// What the conditions can tell apart of an observation, the rest left out (kept and compared in this form, so a change
    /// none of the conditions can see is no change and is not written): available capped at the highest stock threshold,
    /// clamped at 0, the price as at-or-below the limit or not, the delivery window only for `delivery_window_changed`. `any_change`
    /// sees everything.
    func projected(_ o: WatchObservation) -> WatchObservation {
        if conditions.contains(where: { $0.type == .anyChange }) { return o }
        var out = WatchObservation(available: 0, price: Money(amount: 0, currency: ""), deliveryWindow: nil)
        var cap: Int?
        for c in conditions {
            switch c.type {
            case .backInStock, .stockBelow:
                cap = max(cap ?? 0, c.qty ?? 1)
            case .priceAtOrBelow:
                guard let limit = c.price else { continue }
                let atOrBelow = o.price.currency == limit.currency && o.price.amount <= limit.amount
                out.price = Money(amount: atOrBelow ? limit.amount : limit.amount + 1, currency: limit.currency)
            case .deliveryWindowChanged:
                out.deliveryWindow = o.deliveryWindow
            case .anyChange:
                break
            }
        }
        // Thresholds are at least 1: every count below 0 compares as 0 does.
        if let cap { out.available = max(0, min(o.available, cap)) }
        return out
    }

    /// The event a move from `previous` to `current` fires, nil when none of the conditions fires.
    func fires(from previous: WatchObservation, to current: WatchObservation) -> WatchEventType? {
        guard previous != current else { return nil }
        var fired: [WatchEventType] = []
        for condition in conditions {
            switch condition.type {
            case .backInStock:
                let n = condition.qty ?? 1
                if previous.available < n && current.available >= n { fired.append(.availability) }
            case .stockBelow:
                let n = condition.qty ?? 1
                if previous.available >= n && current.available < n { fired.append(.inventory) }
            case .priceAtOrBelow:
                guard let limit = condition.price else { continue }
                func atOrBelow(_ m: Money) -> Bool { m.currency == limit.currency && m.amount <= limit.amount }
                if !atOrBelow(previous.price) && atOrBelow(current.price) { fired.append(.price) }
            case .deliveryWindowChanged:
                if previous.deliveryWindow != current.deliveryWindow { fired.append(.availability) }
            case .anyChange:
                if previous.price != current.price {
                    fired.append(.price)
                } else if (previous.available > 0) != (current.available > 0) || previous.deliveryWindow != current.deliveryWindow {
                    fired.append(.availability)
                } else {
                    fired.append(.inventory)
                }
            }
        }
        // One delivery per transition: a price event first, then availability, then inventory.
        for type in [WatchEventType.price, .availability, .inventory] where fired.contains(type) { return type }
        return nil
    }
}
