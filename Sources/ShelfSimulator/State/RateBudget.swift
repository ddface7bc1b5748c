import ShelfConnectors

/// Each channel kind's request budget, per connection and endpoint class, modelled on the channel's published limits.
public struct RateBudget: Sendable, Equatable, Codable {
    public var perSecond: Double
    public var burst: Double

    /// The default budget of `kind` for `operation` (`push`, `poll`, `order`), and the bucket it shares: the channel's
    /// published limits as `ChannelRateLimit.published` states them (Shelf paces its pushes with the same figures).
    public static func defaults(for kind: ChannelKind, operation: String) -> (budget: RateBudget, bucket: String) {
        let (limit, bucket) = ChannelRateLimit.published(for: kind, operation: operation)
        return (RateBudget(perSecond: limit.perSecond, burst: limit.burst), bucket)
    }
}
