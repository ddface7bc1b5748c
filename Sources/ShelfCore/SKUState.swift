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
/// Compact, because the snapshot holds one per SKU: the catalog item shares its product text, and stock and listings are each
/// one small byte string (varints; location, channel and currency as `Atoms` ids; an external id equal to the SKU not stored)
/// instead of arrays of wide structs and a dictionary per listing. Holds take no memory when there are none. `stock`,
/// `listings` and `spikeMultiplier` read and write as plain properties.
public struct SKUState: Codable, Hashable, Sendable {
    public var item: CatalogItem {
        // Listings listed under the SKU itself store no id: a new SKU keeps them naming the old one, as they did.
        didSet {
            guard isListed, !oldValue.sku.utf8.elementsEqual(item.sku.utf8) else { return }
            listingBytes = PackedSKU.encode(listings: PackedSKU.decodeListings(listingBytes, sku: oldValue.sku), sku: item.sku)
        }
    }
    /// Recorded holds (an expired one stops counting at once, before the sweeper removes it).
    public var holds: [Reservation]
    /// `stock`, encoded by `PackedSKU.encode(stock:)`.
    private var stockBytes: [UInt8]
    /// `listings`, encoded by `PackedSKU.encode(listings:sku:)`.
    private var listingBytes: [UInt8]
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
        self.holds = holds
        stockBytes = PackedSKU.encode(stock: stock)
        listingBytes = PackedSKU.encode(listings: listings, sku: item.sku)
        spike = Int32(clamping: spikeMultiplier)
        self.lastSequence = lastSequence
        self.updatedAt = updatedAt
    }

    /// Per location, sorted by location id.
    public var stock: [LocationStock] {
        get { PackedSKU.decodeStock(stockBytes) }
        set { stockBytes = PackedSKU.encode(stock: newValue) }
    }

    /// Per channel, sorted by channel id.
    public var listings: [Listing] {
        get { PackedSKU.decodeListings(listingBytes, sku: item.sku) }
        set { listingBytes = PackedSKU.encode(listings: newValue, sku: item.sku) }
    }

    /// Safety-stock multiplier while a demand spike is active (1 otherwise); kept within `Int32`.
    public var spikeMultiplier: Int {
        get { Int(spike) }
        set { spike = Int32(clamping: newValue) }
    }

    public var sku: String { item.sku }

    /// The level at `location` with `reserved` counting only holds active at `instant`.
    public func level(at location: String, now instant: Date) -> StockLevel {
        guard let stock = stock.first(where: { $0.location == location }) else { return StockLevel() }
        return active(stock, now: instant)
    }

    /// `stock.level` (one of `stock`, decoded once by the caller) with `reserved` counting only holds active at `instant`.
    public func active(_ stock: LocationStock, now instant: Date) -> StockLevel {
        var level = stock.level
        var expired = 0
        for hold in holds where !hold.isActive(at: instant) {
            for part in hold.parts where part.location == stock.location {
                expired = Limits.stockSum(expired, max(0, part.qty)) ?? Limits.maxStockFigure
            }
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
        stock.reduce(StockLevel()) { $0 + active($1, now: instant) }
    }

    /// Units sellable over all locations at `instant`.
    public func available(now instant: Date) -> Int {
        stock.reduce(0) { $0 + active($1, now: instant).available(spikeMultiplier: spikeMultiplier) }
    }

    /// The listing on `channel`, if the SKU is listed there at all.
    public func listing(on channel: String) -> Listing? { listings.first { $0.channel == channel } }

    /// True when the SKU has at least one listing.
    public var isListed: Bool { !listingBytes.isEmpty }

    /// Replaces (or adds) the listing on `listing.channel`, keeping the channel order.
    public mutating func upsertListing(_ listing: Listing) {
        var all = listings
        if let i = all.firstIndex(where: { $0.channel == listing.channel }) {
            all[i] = listing
        } else {
            let inOrder = all.last.map { $0.channel < listing.channel } ?? true
            all.append(listing)
            if !inOrder { all.sort { $0.channel < $1.channel } }
        }
        listings = all
    }

    mutating func withLevel(_ location: String, _ body: (inout StockLevel) -> Void) {
        var all = stock
        if let i = all.firstIndex(where: { $0.location == location }) {
            body(&all[i].level)
        } else {
            var level = StockLevel()
            body(&level)
            all.append(LocationStock(location: location, level: level))
            all.sort { $0.location < $1.location }
        }
        stock = all
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

/// The byte encodings of a SKU's stock and listings. Integers are base-128 varints (zigzag for signed ones, so any `Int`
/// round-trips); strings are a varint byte length and their UTF-8; location, channel and currency ids are `Atoms` ids.
/// Canonical: equal values give equal bytes (references in key order), so comparing bytes compares values.
enum PackedSKU {
    struct Writer {
        var bytes: [UInt8] = []
        mutating func uint(_ value: UInt64) {
            var v = value
            while v >= 0x80 {
                bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
                v >>= 7
            }
            bytes.append(UInt8(v))
        }
        mutating func int(_ value: Int) { uint(UInt64(bitPattern: Int64((value << 1) ^ (value >> 63)))) }
        mutating func text(_ value: String) {
            uint(UInt64(value.utf8.count))
            bytes += value.utf8
        }
        /// The bytes at their final size (an array grown by appending keeps spare capacity for as long as the SKU lives).
        var result: [UInt8] { bytes.isEmpty ? [] : Array(unsafeUninitializedCapacity: bytes.count) { buffer, count in
            _ = buffer.initialize(from: bytes)
            count = bytes.count
        } }
    }

    struct Reader {
        let bytes: [UInt8]
        var i = 0
        var atEnd: Bool { i >= bytes.count }
        mutating func uint() -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while i < bytes.count {
                let b = bytes[i]
                i += 1
                if shift < 64 { value |= UInt64(b & 0x7F) << shift }
                if b < 0x80 { break }
                shift += 7
            }
            return value
        }
        mutating func int() -> Int {
            let z = uint()
            return Int(Int64(bitPattern: (z >> 1) ^ (0 &- (z & 1))))
        }
        mutating func text() -> String {
            let n = Int(uint())
            let end = min(bytes.count, i + n)
            defer { i = end }
            return String(decoding: bytes[i..<end], as: UTF8.self)
        }
    }

    static func encode(stock: [LocationStock]) -> [UInt8] {
        guard !stock.isEmpty else { return [] }
        var w = Writer()
        for s in stock {
            w.uint(UInt64(Atoms.id(s.location)))
            let l = s.level
            for v in [l.onHand, l.committed, l.reserved, l.unavailable, l.safetyStock, l.incoming, l.oversold] { w.int(v) }
        }
        return w.result
    }

    static func decodeStock(_ bytes: [UInt8]) -> [LocationStock] {
        guard !bytes.isEmpty else { return [] }
        var r = Reader(bytes: bytes)
        var out: [LocationStock] = []
        out.reserveCapacity(4)
        while !r.atEnd {
            let location = Atoms.name(UInt32(truncatingIfNeeded: r.uint()))
            let level = StockLevel(onHand: r.int(), committed: r.int(), reserved: r.int(), unavailable: r.int(), safetyStock: r.int(),
                                   incoming: r.int(), oversold: r.int())
            out.append(LocationStock(location: location, level: level))
        }
        return out
    }

    /// Flags of a listing record.
    static let listedFlag: UInt64 = 1, sameIdFlag: UInt64 = 2, priceFlag: UInt64 = 4

    static func encode(listings: [Listing], sku: String) -> [UInt8] {
        guard !listings.isEmpty else { return [] }
        var w = Writer()
        for l in listings {
            w.uint(UInt64(Atoms.id(l.channel)))
            let sameId = l.externalId.utf8.count == sku.utf8.count && l.externalId == sku && l.externalId.utf8.elementsEqual(sku.utf8)
            w.uint((l.listed ? listedFlag : 0) | (sameId ? sameIdFlag : 0) | (l.price != nil ? priceFlag : 0))
            w.int(l.buffer)
            if let price = l.price {
                w.uint(UInt64(Atoms.id(price.currency)))
                w.int(Int(price.amount))
            }
            if !sameId { w.text(l.externalId) }
            w.uint(UInt64(l.references.count))
            for key in l.references.keys.sorted() {
                w.text(key)
                w.text(l.references[key]!)
            }
        }
        return w.result
    }

    static func decodeListings(_ bytes: [UInt8], sku: String) -> [Listing] {
        guard !bytes.isEmpty else { return [] }
        var r = Reader(bytes: bytes)
        var out: [Listing] = []
        out.reserveCapacity(8)
        while !r.atEnd {
            let channel = Atoms.name(UInt32(truncatingIfNeeded: r.uint()))
            let flags = r.uint()
            let buffer = r.int()
            var price: Money?
            if flags & priceFlag != 0 {
                let currency = Atoms.name(UInt32(truncatingIfNeeded: r.uint()))
                price = Money(amount: Int64(r.int()), currency: currency)
            }
            let externalId = flags & sameIdFlag != 0 ? sku : r.text()
            var references: [String: String] = [:]
            let count = Int(r.uint())
            if count > 0 {
                references.reserveCapacity(count)
                for _ in 0..<count {
                    let key = r.text()
                    references[key] = r.text()
                }
            }
            out.append(Listing(channel: channel, externalId: externalId, listed: flags & listedFlag != 0, buffer: buffer, price: price,
                               references: references))
        }
        return out
    }
}
