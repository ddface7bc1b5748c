import ShelfCore
/// The state Shelf publishes for one listing on one channel.
public struct ListingUpdate: Sendable, Equatable {
    public var sku: String
    /// The channel's own id for the item (see `ChannelKind` docs per connector).
    public var externalId: String
    public var quantity: Int
    public var price: Money?
    /// A paused listing is published with quantity 0 on every channel.
    public var listed: Bool
    /// Extra channel ids some wire formats need: Shopify `variantId` + `productId` (price), eBay `offerId` (price),
    /// TikTok `skuId` (always), WooCommerce `parentId` (variations).
    public var references: [String: String]
    /// The quantity Shelf believes the channel shows now; Shopify sends it as `changeFromQuantity` (compare-and-set).
    public var expectedChannelQuantity: Int?

    public init(
        sku: String,
        externalId: String,
        quantity: Int,
        price: Money? = nil,
        listed: Bool = true,
        references: [String: String] = [:],
        expectedChannelQuantity: Int? = nil
    ) {
        self.sku = sku
        self.externalId = externalId
        self.quantity = quantity
        self.price = price
        self.listed = listed
        self.references = references
        self.expectedChannelQuantity = expectedChannelQuantity
    }

    /// The quantity actually sent: 0 when paused, never negative.
    public var publishedQuantity: Int {
        listed ? max(0, quantity) : 0
    }
}
