import Foundation
import ShelfCore

/// A seller as fixtures describe it: identity plus the names rules may refer to.
public struct SellerFixture: Codable, Hashable, Sendable {
    public var id: String
    public var name: String
    public var currency: String
    public var timeZone: String
    public var suppliers: [NamedEntity]
    public var notifyTargets: [NamedEntity]
    public var collections: [String]

    public init(
        id: String, name: String, currency: String, timeZone: String, suppliers: [NamedEntity] = [], notifyTargets: [NamedEntity] = [],
        collections: [String] = []
    ) {
        self.id = id
        self.name = name
        self.currency = currency
        self.timeZone = timeZone
        self.suppliers = suppliers
        self.notifyTargets = notifyTargets
        self.collections = collections
    }
}

/// A supplier or notification target: an id, the names sellers use for it, and where to reach it.
public struct NamedEntity: Codable, Hashable, Sendable {
    public var id: String
    public var name: String
    public var aliases: [String]
    /// An email address, `#slack-channel` or `https://` URL.
    public var address: String?

    public init(id: String, name: String, aliases: [String] = [], address: String? = nil) {
        self.id = id
        self.name = name
        self.aliases = aliases
        self.address = address
    }
}

/// A channel connection as fixtures and the admin API describe it.
public struct ConnectionFixture: Codable, Hashable, Sendable {
    public var id: String
    public var channel: String
    /// Connector kind: shopify, amazon, ebay, walmart, etsy, tiktok, woocommerce, generic.
    public var kind: String
    public var baseURL: String
    public var credentials: [String: String]
    public var webhookSecret: String
    public var pollIntervalSeconds: Int
    public var pushEnabled: Bool
    public var channelLocationId: String?

    public init(
        id: String, channel: String, kind: String, baseURL: String, credentials: [String: String] = [:], webhookSecret: String,
        pollIntervalSeconds: Int = 60, pushEnabled: Bool = true, channelLocationId: String? = nil
    ) {
        self.id = id
        self.channel = channel
        self.kind = kind
        self.baseURL = baseURL
        self.credentials = credentials
        self.webhookSecret = webhookSecret
        self.pollIntervalSeconds = pollIntervalSeconds
        self.pushEnabled = pushEnabled
        self.channelLocationId = channelLocationId
    }
}

/// One line of `catalog.jsonl`: a SKU with its initial stock per location and its channel listings.
public struct CatalogLine: Codable, Hashable, Sendable {
    public var item: CatalogItem
    public var levels: [LocationStock]
    public var listings: [Listing]

    public init(item: CatalogItem, levels: [LocationStock], listings: [Listing]) {
        self.item = item
        self.levels = levels
        self.listings = listings
    }
}

/// The files of a fixtures directory: `seller.json`, `locations.json`, `channels.json`, `connections.json`, `catalog.jsonl`.
public enum FixtureFiles {
    public static let seller = "seller.json"
    public static let locations = "locations.json"
    public static let channels = "channels.json"
    public static let connections = "connections.json"
    public static let catalog = "catalog.jsonl"
}
