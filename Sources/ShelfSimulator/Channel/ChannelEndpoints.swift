import ShelfConnectors
import ShelfCore

/// The server side of one channel kind's wire format, as the simulator speaks it.
protocol ChannelEndpoints: Sendable {
    /// Which endpoint class `call` hits, or nil when the channel has no such endpoint.
    func operation(for call: ChannelCall) -> ChannelOperation?
    /// Serves the call (state changes, recorded pushes).
    func handle(_ call: ChannelCall, state: SimulatorState) async throws(ChannelReply) -> ChannelReply
    /// The channel's own answer when the budget is spent (status 429 plus body and headers).
    func throttled(retryAfter: Int, budget: RateBudget) -> ChannelReply
    /// Whether polls are GETs that may carry `If-None-Match` (POST-based polls never get ETags).
    var etagPolls: Bool { get }
}

extension ChannelEndpoints {
    var etagPolls: Bool { true }

    func throttled(retryAfter: Int, budget: RateBudget) -> ChannelReply {
        .json(429, .object(["error": .string("rate limit exceeded")]), headers: ["Retry-After": String(retryAfter)])
    }
}

/// The endpoints of each kind.
enum ChannelEndpointsDirectory {
    static func endpoints(for kind: ChannelKind) -> any ChannelEndpoints {
        switch kind {
        case .shopify: return ShopifyEndpoints()
        case .amazon: return AmazonEndpoints()
        case .ebay: return EbayEndpoints()
        case .walmart: return WalmartEndpoints()
        case .etsy: return EtsyEndpoints()
        case .tiktok: return TikTokShopEndpoints()
        case .woocommerce: return WooCommerceEndpoints()
        case .generic: return GenericEndpoints()
        }
    }
}
