import Foundation
import ShelfConnectors
import ShelfCore

/// One item as a channel displays it.
public struct SimItem: Sendable, Codable, Equatable {
    public var connection: String
    public var externalId: String
    public var sku: String
    /// The quantity the channel's storefront shows (what a buyer can order).
    public var quantity: Int
    public var price: Money?
    /// Channel ids beyond `externalId` (Shopify `variantId`/`productId`, eBay `offerId`, TikTok `skuId`).
    public var references: [String: String]?
    /// RFC 3339 (ms) time of the last change.
    public var updatedAt: String
    /// Bumped on every change.
    public var version: Int
}
