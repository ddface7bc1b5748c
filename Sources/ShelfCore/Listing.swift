import Foundation

/// A sales channel the seller sells on (Amazon, eBay, …) and the names sellers use for it.
public struct Channel: Codable, Hashable, Sendable {
    public var id: String
    public var name: String
    public var aliases: [String]

    public init(id: String, name: String, aliases: [String] = []) {
        self.id = id
        self.name = name
        self.aliases = aliases
    }
}

/// How one SKU is offered on one channel: listed or paused, units held back, the channel's own id and price.
public struct Listing: Codable, Hashable, Sendable {
    public var channel: String
    /// The channel's own id for the item (Shopify inventory item id, Etsy listing id, or the SKU).
    public var externalId: String
    public var listed: Bool
    /// Units held back from this channel.
    public var buffer: Int
    /// Channel price override; nil means the canonical price.
    public var price: Money?
    /// Extra ids some channels need to address the item (Shopify `variantId`/`productId`, eBay `offerId`, TikTok `skuId`).
    public var references: [String: String]

    public init(
        channel: String, externalId: String, listed: Bool = true, buffer: Int = 0, price: Money? = nil, references: [String: String] = [:]
    ) {
        self.channel = channel
        self.externalId = externalId
        self.listed = listed
        self.buffer = buffer
        self.price = price
        self.references = references
    }

    enum CodingKeys: String, CodingKey {
        case channel, externalId, listed, buffer, price, references
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        channel = try c.decode(String.self, forKey: .channel)
        externalId = try c.decode(String.self, forKey: .externalId)
        listed = try c.decodeIfPresent(Bool.self, forKey: .listed) ?? true
        buffer = try c.decodeIfPresent(Int.self, forKey: .buffer) ?? 0
        price = try c.decodeIfPresent(Money.self, forKey: .price)
        references = try c.decodeIfPresent([String: String].self, forKey: .references) ?? [:]
    }

    /// The quantity this channel should display given the SKU's available units.
    public func publishedQuantity(available: Int) -> Int { listed ? max(0, available - buffer) : 0 }
}
