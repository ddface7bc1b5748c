/// A channel's published request budget for one endpoint class: a token bucket refilled at `perSecond` that holds at most
/// `burst` requests. Shelf's push workers pace themselves with it; shelf-sim enforces the same figures.
public struct ChannelRateLimit: Sendable, Hashable, Codable {
    public var perSecond: Double
    public var burst: Double

    public init(perSecond: Double, burst: Double) {
        self.perSecond = perSecond
        self.burst = burst
    }

    /// The budget of `kind` for `operation` (`push`, `poll` or `order`), and the name of the bucket it draws from (endpoint
    /// classes that share one budget share the name), as each channel's documentation states it:
    ///
    /// - Shopify GraphQL Admin API: calculated query cost in a leaky bucket; the Standard plan restores 100 points/s into a
    ///   1,000-point bucket (Advanced 200/2,000, Plus 1,000/10,000). Shelf's `inventorySetQuantities` and
    ///   `productVariantsBulkUpdate` calls cost about 10 points each → 10 requests/s with a burst of 100, one bucket per app
    ///   and shop. (The REST Admin API would be 2 requests/s with a bucket of 40.)
    /// - Amazon SP-API Listings Items API, `patchListingsItem`: rate 5 requests/s, burst 5. FBA Inventory
    ///   `getInventorySummaries` and Orders are 2/s, burst 2, each in its own bucket.
    /// - eBay Inventory API `bulkUpdatePriceQuantity`: daily call quotas only (and at most 250 revisions per listing per day);
    ///   25 requests/s with a burst of 50 keeps a busy seller within the default daily quota.
    /// - Walmart Marketplace: per-API token buckets reported in `x-current-token-count`; inventory and price updates 10/s,
    ///   burst 10.
    /// - Etsy Open API v3: 10 requests/s per app (and 10,000 per day).
    /// - TikTok Shop Partner API: per-endpoint QPS limits; the product stock and price updates allow 20 QPS per shop.
    /// - WooCommerce REST API (self-hosted, bound by the shop's PHP workers): 25 requests/s, burst 50 is what a typical host takes.
    /// - Generic JSON endpoint (the seller's own system): 100 requests/s, burst 200.
    public static func published(for kind: ChannelKind, operation: String) -> (limit: ChannelRateLimit, bucket: String) {
        switch kind {
        case .shopify: return (ChannelRateLimit(perSecond: 10, burst: 100), "all")
        case .amazon:
            return operation == "push"
                ? (ChannelRateLimit(perSecond: 5, burst: 5), "push") : (ChannelRateLimit(perSecond: 2, burst: 2), operation)
        case .ebay: return (ChannelRateLimit(perSecond: 25, burst: 50), "all")
        case .walmart: return (ChannelRateLimit(perSecond: 10, burst: 10), operation)
        case .etsy: return (ChannelRateLimit(perSecond: 10, burst: 10), "all")
        case .tiktok: return (ChannelRateLimit(perSecond: 20, burst: 20), operation)
        case .woocommerce: return (ChannelRateLimit(perSecond: 25, burst: 50), "all")
        case .generic: return (ChannelRateLimit(perSecond: 100, burst: 200), "all")
        }
    }
}
