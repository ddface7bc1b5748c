import ShelfConnectors

/// An order the simulated channel knows about (served by its order-detail endpoint).
public struct SimOrder: Sendable, Codable, Equatable {
    /// The id as it appears on the wire (numeric on Shopify, WooCommerce and Etsy).
    public var orderId: String
    public var lines: [ChannelWebhookEvent.Line]
    public var cancelled: Bool
    public var createdAt: String
    public var createdAtEpochSeconds: Int64
}
