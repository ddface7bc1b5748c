import Foundation
import ShelfCore

/// One catalog entry on the wire.
public struct CatalogEntryView: Codable, Hashable, Sendable {
    public var sku: String
    public var productId: String
    public var title: String
    public var productTitle: String
    public var options: [String: String]
    public var barcode: String?
    public var tags: [String]
    public var collections: [String]
    public var price: Money
    public var available: Int
    public var active: Bool

    init(_ s: SKUState, now: Date) {
        sku = s.sku
        productId = s.item.productId
        title = s.item.title
        productTitle = s.item.productTitle
        options = s.item.options
        barcode = s.item.barcode
        tags = s.item.tags
        collections = s.item.collections
        price = s.item.effectivePrice(at: now)
        available = s.available(now: now)
        active = s.item.active
    }
}

/// A page of the catalog.
public struct CatalogPageView: Codable, Hashable, Sendable {
    public var items: [CatalogEntryView]
    public var nextCursor: String?
}

/// Stock of a SKU at one location.
public struct LocationStockView: Codable, Hashable, Sendable {
    public var location: String
    public var available: Int
    public var onHand: Int
    public var committed: Int
    public var reserved: Int
    public var unavailable: Int
    public var safetyStock: Int
    public var incoming: Int
    public var oversold: Int
}

/// A SKU's listing on one channel, with what Shelf publishes there and when it last heard from / pushed to it.
public struct ChannelStockView: Codable, Hashable, Sendable {
    public var channel: String
    public var connection: String?
    public var externalId: String
    public var listed: Bool
    public var buffer: Int
    public var publishedQuantity: Int
    public var lastPushedAt: Date?
    public var lastHeardAt: Date?
    public var lagMs: Int64?
}

/// `GET /v1/stock/{sku}`.
public struct StockDetailView: Codable, Hashable, Sendable {
    public var sku: String
    public var asOf: Date
    public var sequence: Int64
    public var spikeMultiplier: Int
    public var total: StockView
    public var locations: [LocationStockView]
    public var channels: [ChannelStockView]
}

/// A channel's price of a SKU.
public struct ChannelPriceView: Codable, Hashable, Sendable {
    public var channel: String
    public var price: Money
    /// `override` when the channel has its own price, else `canonical`.
    public var source: String
}

/// Sale price with its window.
public struct SaleView: Codable, Hashable, Sendable {
    public var price: Money
    public var startsAt: Date?
    public var endsAt: Date?
    public var active: Bool
}

/// `GET /v1/prices/{sku}`.
public struct PriceDetailView: Codable, Hashable, Sendable {
    public var sku: String
    public var price: Money
    public var compareAtPrice: Money?
    public var sale: SaleView?
    public var effectivePrice: Money
    public var channels: [ChannelPriceView]
    /// True when every channel shows the effective price.
    public var consistent: Bool
    /// Channels whose price differs from the effective price.
    public var differingChannels: [String]
}

/// `GET /v1/delivery/{sku}`.
public struct DeliveryDetailView: Codable, Hashable, Sendable {
    public var sku: String
    public var qty: Int
    public var country: String
    public var postalCode: String?
    public var options: [DeliveryOptionView]
}

/// `POST /v1/offers:batch` answer.
public struct OfferBatchView: Codable, Hashable, Sendable {
    public var offers: [OfferView]
    public var notFound: [String]
}
