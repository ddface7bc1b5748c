import Foundation
import ShelfCore
import ShelfLedger

/// How a SKU can be obtained, in the vocabulary every feed maps from (ACP and UCP use these strings as they are).
enum AvailabilityStatus: String, Sendable {
    case inStock = "in_stock", limitedStock = "limited_stock", backorder, outOfStock = "out_of_stock", discontinued

    /// Fewer available units than this (but some) is `limited_stock`.
    static let limitedBelow = 5

    init(available: Int, incoming: Int, active: Bool) {
        if !active {
            self = .discontinued
        } else if available <= 0 {
            self = incoming > 0 ? .backorder : .outOfStock
        } else {
            self = available < Self.limitedBelow ? .limitedStock : .inStock
        }
    }

    var isAvailable: Bool { self == .inStock || self == .limitedStock }

    /// schema.org `ItemAvailability`.
    var schemaOrg: String {
        switch self {
        case .inStock: "https://schema.org/InStock"
        case .limitedStock: "https://schema.org/LimitedAvailability"
        case .backorder: "https://schema.org/BackOrder"
        case .outOfStock: "https://schema.org/OutOfStock"
        case .discontinued: "https://schema.org/Discontinued"
        }
    }

    /// Google Merchant Center `availability`.
    var google: String {
        switch self {
        case .inStock, .limitedStock: "in_stock"
        case .backorder: "backorder"
        case .outOfStock, .discontinued: "out_of_stock"
        }
    }
}

/// What every product format says about one SKU at one instant: stock status, prices, confidence and freshness.
struct ProductFacts: Sendable {
    var state: SKUState
    var available: Int
    var status: AvailabilityStatus
    /// The price a buyer pays now (an active sale's price, else the list price).
    var price: Money
    /// The struck-through price, when the buyer pays less than it.
    var listPrice: Money?
    /// The sale in force now, if any.
    var sale: SalePrice?
    var confidence: Double
    var freshness: FreshnessView

    init(_ state: SKUState, builder: OfferBuilder, velocity: SalesVelocity, seller: String) {
        let now = builder.now
        self.state = state
        let offer = builder.offer(for: state, qty: 1, destination: Destination(), channel: nil,
                                  rates: velocity.rates(seller: seller, sku: state.sku, now: now), delivery: false)
        available = offer.stock.available
        status = AvailabilityStatus(available: available, incoming: offer.stock.incoming, active: state.item.active)
        price = state.item.effectivePrice(at: now)
        let paid = state.item.effectivePrice(at: now)
        let compare = state.item.compareAtPrice ?? (paid != state.item.price ? state.item.price : nil)
        listPrice = compare.flatMap { $0.currency == paid.currency && $0.amount > paid.amount ? $0 : nil }
        sale = state.item.sale.flatMap { $0.isActive(at: now) ? $0 : nil }
        confidence = offer.confidence
        freshness = offer.freshness
    }
}
