import Foundation

/// Stock of one SKU at one location.
public struct LocationStock: Codable, Hashable, Sendable {
    public var location: String
    public var level: StockLevel

    public init(location: String, level: StockLevel) {
        self.location = location
        self.level = level
    }
}

/// Everything Shelf knows about one SKU right now: catalog data, stock per location, holds, listings per channel.
///
/// Compact, because the snapshot holds one per SKU: the catalog item shares its product text, listings are packed records
/// (channel and currency as `Atoms` ids, references as one string), holds take no memory when there are none. `listings` and
/// `spikeMultiplier` read and write as plain properties.
public struct SKUState: Codable, Hashable, Sendable {
    public var item: CatalogItem
    /// Per location, sorted by location id.
    public var stock: [LocationStock]
    /// Recorded holds (an expired one stops counting at once, before the sweeper removes it).
    public var holds: [Reservation]
    /// Per channel, sorted by channel id.
    private var packedListings: [PackedListing]
    /// Sequence of the last event that changed this SKU.
    public var lastSequence: Int64
    /// When that event was recorded.
    public var updatedAt: Date
    private var spike: Int32

    public init(
        item: CatalogItem, stock: [LocationStock] = [], holds: [Reservation] = [], listings: [Listing] = [], spikeMultiplier: Int = 1,
        lastSequence: Int64 = 0, updatedAt: Date = Date(timeIntervalSince1970: 0)
    ) {
        self.item = item
        self.stock = stock
        self.holds = holds
        packedListings = listings.map(PackedListing.init)
        spike = Self.packSpike(spikeMultiplier)
        self.lastSequence = lastSequence
        self.updatedAt = updatedAt
    }

    /// Per channel, sorted by channel id.
    public var listings: [Listing] {
        get { packedListings.map { $0.listing } }
        set { packedListings = newValue.map(PackedListing.init) }
    }

    /// Safety-stock multiplier while a demand spike is active (1 otherwise); kept within `Int32`.
    public var spikeMultiplier: Int {
        get { Int(spike) }
        set { spike = Self.packSpike(newValue) }
    }

    private static func packSpike(_ value: Int) -> Int32 { Int32(clamping: value) }

    public var sku: String { item.sku }

    /// The level at `location` with `reserved` counting only holds active at `instant`.
    public func level(at location: String, now instant: Date) -> StockLevel {
        guard var level = stock.first(where: { $0.location == location })?.level else { return StockLevel() }
        var expired = 0
        for hold in holds where !hold.isActive(at: instant) {
            for part in hold.parts where part.location == location { expired = Limits.stockSum(expired, max(0, part.qty)) ?? Limits.maxStockFigure }
        }
        level.reserved = max(0, level.reserved - expired)
        return level
    }

    /// Units sellable from `location` at `instant`.
    public func available(at location: String, now instant: Date) -> Int {
        level(at: location, now: instant).available(spikeMultiplier: spikeMultiplier)
    }

    /// Total over all locations at `instant` (reserved = active holds only).
    public func totalLevel(now instant: Date) -> StockLevel {
        stock.reduce(StockLevel()) { $0 + level(at: $1.location, now: instant) }
    }

    /// Units sellable over all locations at `instant`.
    public func available(now instant: Date) -> Int {
        stock.reduce(0) { $0 + available(at: $1.location, now: instant) }
    }

    /// The listing on `channel`, if the SKU is listed there at all.
    public func listing(on channel: String) -> Listing? {
        let atom = Atoms.id(channel)
        return packedListings.first { $0.channel == atom }?.listing
    }

    /// True when the SKU has at least one listing.
    public var isListed: Bool { !packedListings.isEmpty }

    /// Replaces (or adds) the listing on `listing.channel`, keeping the channel order.
    public mutating func upsertListing(_ listing: Listing) {
        let packed = PackedListing(listing)
        if let i = packedListings.firstIndex(where: { $0.channel == packed.channel }) {
            packedListings[i] = packed
        } else {
            let inOrder = packedListings.last.map { Atoms.name($0.channel) < listing.channel } ?? true
            packedListings.append(packed)
            if !inOrder { packedListings.sort { Atoms.name($0.channel) < Atoms.name($1.channel) } }
        }
    }

    mutating func withLevel(_ location: String, _ body: (inout StockLevel) -> Void) {
        if let i = stock.firstIndex(where: { $0.location == location }) {
            body(&stock[i].level)
        } else {
            var level = StockLevel()
            body(&level)
            stock.append(LocationStock(location: location, level: level))
            stock.sort { $0.location < $1.location }
        }
    }

    mutating func withListing(_ channel: String, _ body: (inout Listing) -> Void) {
        var listing = listing(on: channel) ?? Listing(channel: channel, externalId: item.sku)
        body(&listing)
        upsertListing(listing)
    }

    enum CodingKeys: String, CodingKey {
        case item, stock, holds, listings, spikeMultiplier, lastSequence, updatedAt
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            item: try c.decode(CatalogItem.self, forKey: .item), stock: try c.decode([LocationStock].self, forKey: .stock),
            holds: try c.decode([Reservation].self, forKey: .holds), listings: try c.decode([Listing].self, forKey: .listings),
            spikeMultiplier: try c.decode(Int.self, forKey: .spikeMultiplier), lastSequence: try c.decode(Int64.self, forKey: .lastSequence),
            updatedAt: try c.decode(Date.self, forKey: .updatedAt)
        )
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(item, forKey: .item)
        try c.encode(stock, forKey: .stock)
        try c.encode(holds, forKey: .holds)
        try c.encode(listings, forKey: .listings)
        try c.encode(spikeMultiplier, forKey: .spikeMultiplier)
        try c.encode(lastSequence, forKey: .lastSequence)
        try c.encode(updatedAt, forKey: .updatedAt)
    }
}

/// One listing as the snapshot holds it: 56 bytes instead of `Listing`'s 80 plus a dictionary for its references.
struct PackedListing: Hashable, Sendable {
    var externalId: String
    /// The references as `<length>:<key><length>:<value>…` in key order (lengths in UTF-8 bytes, so any text round-trips); empty
    /// when there are none.
    var references: String
    var priceAmount: Int64
    /// Units held back, kept within `Int32` (`Limits.maxBuffer` is far below).
    var buffer: Int32
    var channel: UInt32
    /// `Atoms` id of the price's currency + 1; 0 when the listing has no price of its own.
    var currency: UInt32
    var listed: Bool

    init(_ listing: Listing) {
        externalId = listing.externalId
        references = Self.pack(listing.references)
        priceAmount = listing.price?.amount ?? 0
        buffer = Int32(clamping: listing.buffer)
        channel = Atoms.id(listing.channel)
        currency = listing.price.map { Atoms.id($0.currency) + 1 } ?? 0
        listed = listing.listed
    }

    var listing: Listing {
        Listing(
            channel: Atoms.name(channel), externalId: externalId, listed: listed, buffer: Int(buffer),
            price: currency == 0 ? nil : Money(amount: priceAmount, currency: Atoms.name(currency - 1)),
            references: Self.unpack(references)
        )
    }

    static func pack(_ map: [String: String]) -> String {
        guard !map.isEmpty else { return "" }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(map.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count + 8 })
        for key in map.keys.sorted() {
            for field in [key, map[key]!] {
                bytes += String(field.utf8.count).utf8
                bytes.append(0x3A)
                bytes += field.utf8
            }
        }
        // Built once at its final size: appending to a String leaves spare capacity, held for as long as the SKU is.
        return String(decoding: bytes, as: UTF8.self)
    }

    static func unpack(_ packed: String) -> [String: String] {
        guard !packed.isEmpty else { return [:] }
        let bytes = Array(packed.utf8)
        var out: [String: String] = [:]
        var i = 0
        func field() -> String? {
            var length = 0
            while i < bytes.count, bytes[i] != 0x3A {
                length = length * 10 + Int(bytes[i] &- 0x30)
                i += 1
            }
            i += 1
            guard i + length <= bytes.count else { return nil }
            defer { i += length }
            return String(decoding: bytes[i..<(i + length)], as: UTF8.self)
        }
        while i < bytes.count {
            guard let key = field(), let value = field() else { break }
            out[key] = value
        }
        return out
    }
}
