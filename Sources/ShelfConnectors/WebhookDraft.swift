import Foundation

/// What the simulator (or a test) wants a channel webhook to say, before it is rendered in the channel's format.
public struct WebhookDraft: Sendable, Equatable {
    public var topic: WebhookTopic
    /// The delivery's dedupe id (placed where the channel puts it: header or body).
    public var eventId: String
    public var orderId: String?
    public var lines: [ChannelWebhookEvent.Line]
    public var occurredAt: Date
    /// The account the event belongs to: Shopify shop domain, Amazon seller id, Etsy/TikTok shop id, Woo store URL.
    public var accountId: String
    /// The channel location an inventory webhook reports (Shopify `location_id`).
    public var channelLocationId: String?

    public init(
        topic: WebhookTopic,
        eventId: String,
        orderId: String? = nil,
        lines: [ChannelWebhookEvent.Line],
        occurredAt: Date,
        accountId: String = "shelf-sim",
        channelLocationId: String? = nil
    ) {
        self.channelLocationId = channelLocationId
        self.topic = topic
        self.eventId = eventId
        self.orderId = orderId
        self.lines = lines
        self.occurredAt = occurredAt
        self.accountId = accountId
    }
}
