import ShelfConnectors

/// One simulated channel connection (a shop/account on one channel kind).
public struct SimConnection: Sendable, Codable, Equatable {
    public var id: String
    public var kind: ChannelKind
    /// Where the simulator POSTs this connection's webhooks (Shelf's `/v1/webhooks/{id}`).
    public var webhookURL: String?
    public var webhookSecret: String
    /// Overrides the kind's default request budget (requests per second) for every endpoint class.
    public var rateLimitPerSecond: Double?
    /// Overrides the kind's default burst (bucket size).
    public var burst: Double?
    /// Account id placed in webhook payloads (shop id, seller id); defaults to the connection id.
    public var accountId: String?
    /// Location id placed in inventory webhooks (Shopify `location_id`).
    public var channelLocationId: String?

    public init(
        id: String,
        kind: ChannelKind,
        webhookURL: String? = nil,
        webhookSecret: String,
        rateLimitPerSecond: Double? = nil,
        burst: Double? = nil,
        accountId: String? = nil,
        channelLocationId: String? = nil
    ) {
        self.id = id
        self.kind = kind
        self.webhookURL = webhookURL
        self.webhookSecret = webhookSecret
        self.rateLimitPerSecond = rateLimitPerSecond
        self.burst = burst
        self.accountId = accountId
        self.channelLocationId = channelLocationId
    }
}
