import ShelfConnectors

/// Each channel kind's request budget, per connection and endpoint class, modelled on the channel's published limits.
public struct RateBudget: Sendable, Equatable, Codable {
    public var perSecond: Double
    public var burst: Double

    /// The default budget of `kind` for `operation` (`push`, `poll`, `order`), and the bucket it shares.
    ///
    /// - Shopify: GraphQL Admin, Standard plan: 100 points/s restore into a 1000-point bucket; Shelf's calls cost ≈10
    ///   points → 10 requests/s, burst 100, one bucket for the whole app (REST would be 2/s, bucket 40).
    /// - Amazon: Listings Items PATCH 5/s burst 5; FBA inventory summaries 2/s burst 2 (separate buckets).
    /// - eBay: daily call quotas only (and ≤250 revisions per listing per day): 25/s burst 50.
    /// - Walmart: per-API token buckets (`x-current-token-count`): 10/s burst 10.
    /// - Etsy: 10 requests/s (and 10,000/day): 10/s burst 10.
    /// - TikTok Shop: per-API QPS limits: 20/s burst 20.
    /// - WooCommerce (self-hosted, bound by PHP workers): 25/s burst 50. Generic: 100/s burst 200.
    public static func defaults(for kind: ChannelKind, operation: String) -> (budget: RateBudget, bucket: String) {
        switch kind {
        case .shopify: return (RateBudget(perSecond: 10, burst: 100), "all")
        case .amazon:
            return operation == "push" ? (RateBudget(perSecond: 5, burst: 5), "push") : (RateBudget(perSecond: 2, burst: 2), operation)
        case .ebay: return (RateBudget(perSecond: 25, burst: 50), "all")
        case .walmart: return (RateBudget(perSecond: 10, burst: 10), operation)
        case .etsy: return (RateBudget(perSecond: 10, burst: 10), "all")
        case .tiktok: return (RateBudget(perSecond: 20, burst: 20), operation)
        case .woocommerce: return (RateBudget(perSecond: 25, burst: 50), "all")
        case .generic: return (RateBudget(perSecond: 100, burst: 200), "all")
        }
    }
}
