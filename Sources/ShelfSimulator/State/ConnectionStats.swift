/// Counters for one connection, for tests and benchmarks (`GET /_sim/stats`).
public struct ConnectionStats: Sendable, Codable, Equatable {
    /// Storefront sales that succeeded (`POST …/sell`).
    public var sold = 0
    public var soldUnits = 0
    /// Storefront sales refused because the displayed quantity did not cover them (would-be oversells).
    public var refused = 0
    public var refusedUnits = 0
    /// Item updates applied from pushes.
    public var pushes = 0
    /// Push items refused (unknown item, stale compare-and-set).
    public var pushesRejected = 0
    public var polls = 0
    public var orderReads = 0
    /// Requests answered 429 because the budget was spent.
    public var rateLimited = 0
    public var faultsInjected = 0
    public var webhooksSent = 0
    public var webhooksFailed = 0

    public init() {}
}
