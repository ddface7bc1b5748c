import Foundation

/// A fact a channel reported by webhook, normalized.
public struct ChannelWebhookEvent: Sendable, Equatable {
    /// What happened.
    public enum Kind: Sendable, Equatable {
        case orderPlaced, orderCancelled, inventoryLevel
    }

    /// One item of an order (quantity sold) or one level (absolute quantity for `inventoryLevel`).
    public struct Line: Sendable, Equatable, Hashable, Codable {
        public var sku: String?
        public var externalId: String?
        public var quantity: Int

        public init(sku: String?, externalId: String?, quantity: Int) {
            self.sku = sku
            self.externalId = externalId
            self.quantity = quantity
        }
    }

    public var kind: Kind
    /// The channel's dedupe id for this delivery (retries of one delivery share it).
    public var eventId: String
    public var orderId: String?
    public var lines: [Line]
    public var occurredAt: Date?
    /// `true` when the channel's webhook carries only an order reference (eBay, Etsy, TikTok): fetch the lines
    /// with `orderDetailRequest` / `parseOrderDetail` before applying.
    public var needsOrderDetail: Bool
    /// The channel location an `inventoryLevel` belongs to (Shopify `location_id`), when the channel says.
    public var channelLocationId: String?

    public init(
        kind: Kind,
        eventId: String,
        orderId: String? = nil,
        lines: [Line] = [],
        occurredAt: Date? = nil,
        needsOrderDetail: Bool = false,
        channelLocationId: String? = nil
    ) {
        self.kind = kind
        self.eventId = eventId
        self.orderId = orderId
        self.lines = lines
        self.occurredAt = occurredAt
        self.needsOrderDetail = needsOrderDetail
        self.channelLocationId = channelLocationId
    }
}
