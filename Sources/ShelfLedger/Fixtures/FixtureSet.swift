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
    /// The seller's business calendar: days no location ships (besides weekends and each location's own holidays).
    public var holidays: [CivilDate]

    public init(
        id: String, name: String, currency: String, timeZone: String, suppliers: [NamedEntity] = [], notifyTargets: [NamedEntity] = [],
        collections: [String] = [], holidays: [CivilDate] = []
    ) {
        self.id = id
        self.name = name
        self.currency = currency
        self.timeZone = timeZone
        self.suppliers = suppliers
        self.notifyTargets = notifyTargets
        self.collections = collections
        self.holidays = holidays
    }

    enum CodingKeys: String, CodingKey { case id, name, currency, timeZone, suppliers, notifyTargets, collections, holidays }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        name = try c.decode(String.self, forKey: .name)
        currency = try c.decode(String.self, forKey: .currency)
        timeZone = try c.decode(String.self, forKey: .timeZone)
        suppliers = try c.decodeIfPresent([NamedEntity].self, forKey: .suppliers) ?? []
        notifyTargets = try c.decodeIfPresent([NamedEntity].self, forKey: .notifyTargets) ?? []
        collections = try c.decodeIfPresent([String].self, forKey: .collections) ?? []
        holidays = try c.decodeIfPresent([CivilDate].self, forKey: .holidays) ?? []
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

extension SellerFixture {
    /// Most holidays, suppliers, notification targets or collections one seller may list.
    public static let maxListEntries = 1000

    /// True for a seller id: 1–64 characters from `a–z`, `0–9`, `-` and `_`, starting with a letter or digit (ids appear in
    /// URLs, logs and database keys of every table, so they stay plain).
    public static func isSellerID(_ id: String) -> Bool {
        guard let first = id.utf8.first, id.utf8.count <= 64 else { return false }
        func plain(_ b: UInt8) -> Bool { (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) }
        return plain(first) && id.utf8.allSatisfy { plain($0) || $0 == 0x2D || $0 == 0x5F }
    }

    /// The first field that cannot be stored, with the reason (nil when the seller is valid): the one check the API, the CLI
    /// and fixtures share.
    public var problem: (field: String, reason: String)? {
        guard Self.isSellerID(id) else { return ("id", "must be 1–64 characters of a–z, 0–9, '-' or '_', starting with a letter or digit") }
        if name.isEmpty || name.count > 200 { return ("name", "must be 1–200 characters") }
        if let reason = TextPolicy.problem(name) { return ("name", reason) }
        guard ISO4217.isActive(currency) else { return ("currency", "must be an active ISO 4217 code such as USD or EUR, not \(currency)") }
        guard TimeZone(identifier: timeZone) != nil else { return ("timeZone", "must be an IANA time zone such as Europe/Berlin, not \(timeZone)") }
        for (field, count) in [("holidays", holidays.count), ("suppliers", suppliers.count), ("notifyTargets", notifyTargets.count),
                               ("collections", collections.count)] where count > Self.maxListEntries {
            return (field, "lists at most \(Self.maxListEntries) entries")
        }
        for (i, c) in collections.enumerated() {
            if c.isEmpty || c.count > 200 { return ("collections[\(i)]", "must be 1–200 characters") }
            if let reason = TextPolicy.problem(c) { return ("collections[\(i)]", reason) }
        }
        for (list, entries) in [("suppliers", suppliers), ("notifyTargets", notifyTargets)] {
            for (i, e) in entries.enumerated() {
                for (key, value) in [("id", e.id), ("name", e.name), ("address", e.address ?? "")] + e.aliases.enumerated().map({ ("aliases[\($0)]", $1) }) {
                    if value.count > 200 { return ("\(list)[\(i)].\(key)", "is at most 200 characters") }
                    if let reason = TextPolicy.problem(value) { return ("\(list)[\(i)].\(key)", reason) }
                }
                if e.id.isEmpty || e.name.isEmpty { return ("\(list)[\(i)]", "needs an id and a name") }
            }
        }
        return nil
    }
}
