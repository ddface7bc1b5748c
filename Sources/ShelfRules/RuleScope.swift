/// What a trigger, condition or action applies to (§7.1); list keys are sorted, unique and non-empty.
public struct RuleScope: Sendable, Codable, Hashable {
    public var skus: [String]?
    public var excludeSkus: [String]?
    public var tags: [String]?
    public var excludeTags: [String]?
    public var channels: [String]?
    public var excludeChannels: [String]?
    public var locations: [String]?
    public var excludeLocations: [String]?
    public var suppliers: [String]?
    public var skuPrefix: String?
    public var skuPattern: String?
    public var collection: String?

    public init(
        skus: [String]? = nil,
        excludeSkus: [String]? = nil,
        tags: [String]? = nil,
        excludeTags: [String]? = nil,
        channels: [String]? = nil,
        excludeChannels: [String]? = nil,
        locations: [String]? = nil,
        excludeLocations: [String]? = nil,
        suppliers: [String]? = nil,
        skuPrefix: String? = nil,
        skuPattern: String? = nil,
        collection: String? = nil
    ) {
        self.skus = skus
        self.excludeSkus = excludeSkus
        self.tags = tags
        self.excludeTags = excludeTags
        self.channels = channels
        self.excludeChannels = excludeChannels
        self.locations = locations
        self.excludeLocations = excludeLocations
        self.suppliers = suppliers
        self.skuPrefix = skuPrefix
        self.skuPattern = skuPattern
        self.collection = collection
    }

    enum CodingKeys: String, CodingKey {
        case skus
        case excludeSkus = "exclude_skus"
        case tags
        case excludeTags = "exclude_tags"
        case channels
        case excludeChannels = "exclude_channels"
        case locations
        case excludeLocations = "exclude_locations"
        case suppliers
        case skuPrefix = "sku_prefix"
        case skuPattern = "sku_pattern"
        case collection
    }

    /// True when no key is set (`{}` means everything).
    public var isEmpty: Bool { self == RuleScope() }

    /// Only the item keys (skus, prefix, pattern, tags, collection), which guards and actions inherit (§5.6).
    var itemKeys: RuleScope {
        RuleScope(skus: skus, tags: tags, skuPrefix: skuPrefix, skuPattern: skuPattern, collection: collection)
    }

    /// Sorts and de-duplicates every list and drops empty lists (§7.2).
    mutating func canonicalize() {
        func clean(_ list: [String]?) -> [String]? {
            guard let list, !list.isEmpty else { return nil }
            return Array(Set(list)).sorted()
        }
        skus = clean(skus)
        excludeSkus = clean(excludeSkus)
        tags = clean(tags)
        excludeTags = clean(excludeTags)
        channels = clean(channels)
        excludeChannels = clean(excludeChannels)
        locations = clean(locations)
        excludeLocations = clean(excludeLocations)
        suppliers = clean(suppliers)
    }
}
