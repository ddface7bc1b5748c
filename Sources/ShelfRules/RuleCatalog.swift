/// The seller catalog the parser resolves names against.
public struct RuleCatalog: Sendable, Codable, Hashable {
    public var channels: [RuleCatalogEntry]
    public var locations: [RuleCatalogEntry]
    public var suppliers: [RuleCatalogEntry]
    public var notifyTargets: [RuleCatalogEntry]
    public var collections: [RuleCatalogEntry]
    /// Known SKUs (upper-case). When nil, SKU recognition needs `SKU-…` or an upper-case hyphenated token (§10.5).
    public var skus: Set<String>?
    /// The store currency (ISO 4217), the only currency money literals may use.
    public var currency: String

    public init(
        channels: [RuleCatalogEntry],
        locations: [RuleCatalogEntry],
        suppliers: [RuleCatalogEntry],
        notifyTargets: [RuleCatalogEntry],
        collections: [RuleCatalogEntry],
        skus: Set<String>? = nil,
        currency: String = "USD"
    ) {
        self.channels = channels
        self.locations = locations
        self.suppliers = suppliers
        self.notifyTargets = notifyTargets
        self.collections = collections
        self.skus = skus
        self.currency = currency
    }

    /// The demo seller's catalog, exactly as in §8 of rules-grammar.md.
    public static let demo = RuleCatalog(
        channels: [
            RuleCatalogEntry(id: "amazon", aliases: ["Amazon", "AMZ"]),
            RuleCatalogEntry(id: "ebay", aliases: ["eBay"]),
            RuleCatalogEntry(id: "shopify", aliases: ["Shopify", "web store"]),
            RuleCatalogEntry(id: "walmart", aliases: ["Walmart"]),
            RuleCatalogEntry(id: "etsy", aliases: ["Etsy"]),
            RuleCatalogEntry(id: "tiktok", aliases: ["TikTok Shop", "TikTok"]),
        ],
        locations: [
            RuleCatalogEntry(id: "reno", aliases: ["Reno", "Reno warehouse", "Reno DC"]),
            RuleCatalogEntry(id: "dallas-3pl", aliases: ["Dallas", "Dallas 3PL"]),
            RuleCatalogEntry(id: "newark", aliases: ["Newark", "Newark DC", "Newark warehouse"]),
            RuleCatalogEntry(id: "shipbob", aliases: ["ShipBob"]),
            RuleCatalogEntry(id: "soho", aliases: ["SoHo store", "SoHo"]),
        ],
        suppliers: [
            RuleCatalogEntry(id: "acme", aliases: ["Acme", "Acme Supply"]),
            RuleCatalogEntry(id: "northwind", aliases: ["Northwind", "Northwind Traders"]),
            RuleCatalogEntry(id: "globex", aliases: ["Globex"]),
            RuleCatalogEntry(id: "sunrise", aliases: ["Sunrise", "Sunrise Textiles"]),
        ],
        notifyTargets: [
            RuleCatalogEntry(id: "ops", aliases: ["ops", "ops team", "operations"]),
            RuleCatalogEntry(id: "purchasing", aliases: ["purchasing", "purchasing team"]),
            RuleCatalogEntry(id: "warehouse", aliases: ["warehouse team"]),
            RuleCatalogEntry(id: "on-call", aliases: ["on-call"]),
            RuleCatalogEntry(id: "me", aliases: ["me"]),
            RuleCatalogEntry(id: "dana", aliases: ["Dana"]),
        ],
        collections: [
            RuleCatalogEntry(id: "Summer Sale", aliases: ["Summer Sale"]),
            RuleCatalogEntry(id: "Holiday Gifts", aliases: ["Holiday Gifts"]),
            RuleCatalogEntry(id: "Best Sellers", aliases: ["Best Sellers"]),
            RuleCatalogEntry(id: "Core Basics", aliases: ["Core Basics"]),
        ],
        skus: nil,
        currency: "USD"
    )
}
