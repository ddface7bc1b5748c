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
public struct SKUState: Codable, Hashable, Sendable {
    public var item: CatalogItem
    /// Per location, sorted by location id.
    public var stock: [LocationStock]
    /// Recorded holds (an expired one stops counting at once, before the sweeper removes it).
    public var holds: [Reservation]
    /// Per channel, sorted by channel id.
    public var listings: [Listing]
    /// Safety-stock multiplier while a demand spike is active (1 otherwise).
    public var spikeMultiplier: Int
    /// Sequence of the last event that changed this SKU.
    public var lastSequence: Int64
    /// When that event was recorded.
    public var updatedAt: Date

    public init(
        item: CatalogItem, stock: [LocationStock] = [], holds: [Reservation] = [], listings: [Listing] = [], spikeMultiplier: Int = 1,
        lastSequence: Int64 = 0, updatedAt: Date = Date(timeIntervalSince1970: 0)
    ) {
        self.item = item
        self.stock = stock
        self.holds = holds
        self.listings = listings
        self.spikeMultiplier = spikeMultiplier
        self.lastSequence = lastSequence
        self.updatedAt = updatedAt
    }

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
    public func listing(on channel: String) -> Listing? { listings.first { $0.channel == channel } }

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
        if let i = listings.firstIndex(where: { $0.channel == channel }) {
            body(&listings[i])
        } else {
            var listing = Listing(channel: channel, externalId: item.sku)
            body(&listing)
            listings.append(listing)
            listings.sort { $0.channel < $1.channel }
        }
    }
}
