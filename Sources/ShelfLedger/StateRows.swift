import Foundation
import GRDB
import ShelfCore

/// Reads and writes the current-state tables (skus, stock, listings, holds, catalog entities): the projection of the event log
/// the snapshot is rebuilt from.
enum StateRows {
    static let unit = "\u{1F}"
    static let record = "\u{1E}"

    static func pack(_ list: [String]) -> String { list.joined(separator: unit) }
    static func pack(_ map: [String: String]) -> String {
        map.keys.sorted().map { "\($0)\(record)\(map[$0]!)" }.joined(separator: unit)
    }
    /// Splits on a one-byte separator by scanning UTF-8 (Foundation's `components(separatedBy:)` is slow on Linux).
    static func split(_ text: Substring.UTF8View, on separator: UInt8) -> [Substring.UTF8View] {
        var out: [Substring.UTF8View] = []
        var start = text.startIndex
        var i = start
        while i < text.endIndex {
            if text[i] == separator {
                out.append(text[start..<i])
                start = text.index(after: i)
            }
            i = text.index(after: i)
        }
        out.append(text[start..<text.endIndex])
        return out
    }

    /// A split hold's parts as `location␞qty` pairs joined by `␟`, in allocation order.
    static func pack(_ allocation: [Allocation]) -> String {
        allocation.map { "\($0.location)\(record)\($0.qty)" }.joined(separator: unit)
    }

    /// The parts packed by `pack(_: [Allocation])`; nil when a pair is malformed.
    static func unpackAllocation(_ text: String) -> [Allocation]? {
        var parts: [Allocation] = []
        for pair in split(Substring(text).utf8, on: 0x1F) {
            let fields = split(pair, on: 0x1E)
            guard fields.count == 2, let qty = Int(String(decoding: fields[1], as: UTF8.self)) else { return nil }
            parts.append(Allocation(location: String(decoding: fields[0], as: UTF8.self), qty: qty))
        }
        return parts
    }

    static func unpack(_ text: String) -> [String] {
        text.isEmpty ? [] : split(Substring(text).utf8, on: 0x1F).map { String(decoding: $0, as: UTF8.self) }
    }

    static func unpackMap(_ text: String) -> [String: String] {
        guard !text.isEmpty else { return [:] }
        var out: [String: String] = [:]
        for pair in split(Substring(text).utf8, on: 0x1F) {
            let parts = split(pair, on: 0x1E)
            if parts.count == 2 { out[String(decoding: parts[0], as: UTF8.self)] = String(decoding: parts[1], as: UTF8.self) }
        }
        return out
    }

    /// A stock row no longer matched what the writer expected, or a promise guard failed in SQL.
    struct ConsistencyError: Error, CustomStringConvertible {
        var description: String
    }

    /// Writes the difference between `old` and `new` for one SKU. Stock rows are compare-and-set on their previous values
    /// (a version check by value) and bump `version`; for promises the same statement also checks that availability stays ≥ 0.
    static func write(_ db: Database, seller: String, old: SKUState?, new: SKUState, promise: Bool) throws {
        let item = new.item
        if old == nil || old!.item != item || old!.spikeMultiplier != new.spikeMultiplier {
            let sql = """
                INSERT INTO skus (seller, sku, productId, title, productTitle, description, brand, options, barcode, media, url, tags,
                    collections, supplier, priceAmount, currency, compareAtAmount, saleAmount, saleStartsAt, saleEndsAt, weightGrams,
                    active, spikeMultiplier)
                VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
                ON CONFLICT (seller, sku) DO UPDATE SET productId=excluded.productId, title=excluded.title,
                    productTitle=excluded.productTitle, description=excluded.description, brand=excluded.brand, options=excluded.options,
                    barcode=excluded.barcode, media=excluded.media, url=excluded.url, tags=excluded.tags, collections=excluded.collections,
                    supplier=excluded.supplier, priceAmount=excluded.priceAmount, currency=excluded.currency,
                    compareAtAmount=excluded.compareAtAmount, saleAmount=excluded.saleAmount, saleStartsAt=excluded.saleStartsAt,
                    saleEndsAt=excluded.saleEndsAt, weightGrams=excluded.weightGrams, active=excluded.active,
                    spikeMultiplier=excluded.spikeMultiplier
                """
            let args: [(any DatabaseValueConvertible)?] = [
                seller, item.sku, item.productId, item.title, item.productTitle, item.description, item.brand, pack(item.options),
                item.barcode, pack(item.mediaURLs), item.url, pack(item.tags), pack(item.collections), item.supplier, item.price.amount,
                item.price.currency, item.compareAtPrice?.amount, item.sale?.price.amount, item.sale?.startsAt?.timeIntervalSince1970,
                item.sale?.endsAt?.timeIntervalSince1970, item.weightGrams, item.active, new.spikeMultiplier,
            ]
            try db.cachedStatement(sql: sql).execute(arguments: StatementArguments(args))
        }
        // The head (last sequence) lives in a narrow table so the per-event update touches few pages.
        try db.cachedStatement(
            sql: """
                INSERT INTO sku_heads (seller, sku, lastSequence, updatedAt) VALUES (?,?,?,?)
                ON CONFLICT (seller, sku) DO UPDATE SET lastSequence = excluded.lastSequence, updatedAt = excluded.updatedAt
                """
        ).execute(arguments: [seller, item.sku, new.lastSequence, new.updatedAt.timeIntervalSince1970])
        let oldStock = old?.stock ?? []  // decoded once, not once per location
        for stock in new.stock {
            let level = stock.level
            let previous = oldStock.first { $0.location == stock.location }?.level
            if let previous {
                guard previous != level else { continue }
                var sql = """
                    UPDATE stock SET onHand = ?, committed = ?, reserved = ?, unavailable = ?, safetyStock = ?, incoming = ?, oversold = ?,
                        version = version + 1
                    WHERE seller = ? AND sku = ? AND location = ? AND onHand = ? AND committed = ? AND reserved = ? AND unavailable = ?
                        AND safetyStock = ? AND incoming = ? AND oversold = ?
                    """
                var args: [any DatabaseValueConvertible] = [
                    level.onHand, level.committed, level.reserved, level.unavailable, level.safetyStock, level.incoming, level.oversold,
                    seller, item.sku, stock.location, previous.onHand, previous.committed, previous.reserved, previous.unavailable,
                    previous.safetyStock, previous.incoming, previous.oversold,
                ]
                if promise {
                    sql += " AND onHand - committed - ? - unavailable - safetyStock * ? >= 0"
                    args += [level.reserved, new.spikeMultiplier]
                }
                try db.cachedStatement(sql: sql).execute(arguments: StatementArguments(args))
                guard db.changesCount == 1 else {
                    throw ConsistencyError(description: "stock row \(seller)/\(item.sku)/\(stock.location) changed under the writer")
                }
            } else {
                try db.cachedStatement(
                    sql: """
                        INSERT INTO stock (seller, sku, location, onHand, committed, reserved, unavailable, safetyStock, incoming,
                            oversold, version) VALUES (?,?,?,?,?,?,?,?,?,?,1)
                        """
                ).execute(arguments: [
                    seller, item.sku, stock.location, level.onHand, level.committed, level.reserved, level.unavailable, level.safetyStock,
                    level.incoming, level.oversold,
                ])
            }
        }
        let oldListings = old?.listings ?? []  // decoded once, not once per channel
        for listing in new.listings where !oldListings.contains(listing) {
            try db.cachedStatement(
                sql: """
                    INSERT OR REPLACE INTO listings (seller, sku, channel, externalId, listed, buffer, priceAmount, priceCurrency, refs)
                    VALUES (?,?,?,?,?,?,?,?,?)
                    """
            ).execute(arguments: [
                seller, item.sku, listing.channel, listing.externalId, listing.listed, listing.buffer, listing.price?.amount,
                listing.price?.currency, pack(listing.references),
            ])
        }
        let oldHolds = Set(old?.holds.map(\.id) ?? [])
        let newHolds = Set(new.holds.map(\.id))
        for hold in new.holds where !oldHolds.contains(hold.id) {
            try db.cachedStatement(sql: "INSERT INTO holds (seller, id, sku, location, qty, expiresAt, allocation) VALUES (?,?,?,?,?,?,?)")
                .execute(arguments: [seller, hold.id, hold.sku, hold.location, hold.qty, hold.expiresAt.timeIntervalSince1970,
                                     hold.allocation.map(pack)])
        }
        for id in oldHolds.subtracting(newHolds) {
            try db.cachedStatement(sql: "DELETE FROM holds WHERE seller = ? AND id = ?").execute(arguments: [seller, id])
        }
    }

    /// Writes the locations and channels that differ.
    static func write(_ db: Database, seller: String, old: SellerCatalog, new: SellerCatalog) throws {
        let encoder = ShelfJSON.encoder()
        for location in new.locations where !old.locations.contains(location) {
            try LocationRecord(seller: seller, id: location.id, body: String(decoding: try encoder.encode(location), as: UTF8.self)).save(db)
        }
        for channel in new.channels where !old.channels.contains(channel) {
            try ChannelRecord(seller: seller, id: channel.id, body: String(decoding: try encoder.encode(channel), as: UTF8.self)).save(db)
        }
    }

    /// Shares equal values read for many SKUs (a product's description, media, tags) so a large catalog holds one copy.
    struct Interner {
        var strings: [String: String] = [:]
        var lists: [String: [String]] = [:]
        var maps: [String: [String: String]] = [:]
        /// The last item read per product: the next variant shares its text when equal.
        var products: [String: CatalogItem] = [:]

        /// The last string returned per call site: a product's variants are read one after another, so most lookups are
        /// answered by one comparison instead of a hash.
        var recent: [String] = Array(repeating: "", count: 8)

        mutating func string(_ s: String) -> String {
            if let found = strings[s] { return found }
            strings[s] = s
            return s
        }

        mutating func string(_ s: String, slot: Int) -> String {
            if recent[slot] == s { return recent[slot] }
            let shared = string(s)
            recent[slot] = shared
            return shared
        }

        /// Gives `item` the shared text of an earlier variant of its product when the text is equal.
        mutating func share(_ item: inout CatalogItem) {
            if let earlier = products[item.productId] { item.shareText(with: earlier) }
            products[item.productId] = item
        }

        var recentLists: [(String, [String])] = Array(repeating: ("", []), count: 4)

        mutating func list(_ packed: String, slot: Int) -> [String] {
            if recentLists[slot].0 == packed { return recentLists[slot].1 }
            let value = list(packed)
            recentLists[slot] = (packed, value)
            return value
        }

        mutating func list(_ packed: String) -> [String] {
            if let found = lists[packed] { return found }
            let value = unpack(packed)
            lists[packed] = value
            return value
        }

        mutating func map(_ packed: String) -> [String: String] {
            if let found = maps[packed] { return found }
            let value = unpackMap(packed)
            maps[packed] = value
            return value
        }
    }

    /// What the state tables hold for one seller: its SKUs, split into the snapshot's shards, and the SKUs that could not be
    /// read or lie outside `Limits` (quarantined with the reason: kept out of the snapshot and refused for writes, so one bad
    /// row never stops start-up or serves wrong figures).
    struct LoadedStates {
        var shards: [SKUTable]
        var quarantined: [String: String] = [:]
    }

    /// A stored integer read strictly: SQLite would turn text or a fraction in an INTEGER column into a number silently
    /// (`sqlite3_column_int64`), so the storage class is checked and anything but an integer is an error.
    struct StoredValueError: Error, CustomStringConvertible {
        var description: String
    }

    /// A stored row that reads but lies outside `Limits` (its reason is the quarantine reason as it is).
    struct OutOfLimits: Error {
        var reason: String
    }

    static func integer(_ row: Row, _ index: Int) throws -> Int64 {
        let value: DatabaseValue = row[index]
        switch value.storage {
        case .int64(let v): return v
        default: throw StoredValueError(description: "column \(index) holds \(value), not an integer")
        }
    }

    static func optionalInteger(_ row: Row, _ index: Int) throws -> Int64? {
        let value: DatabaseValue = row[index]
        return value.isNull ? nil : try integer(row, index)
    }

    static func int(_ row: Row, _ index: Int) throws -> Int {
        let v = try integer(row, index)
        guard let i = Int(exactly: v) else { throw StoredValueError(description: "column \(index) holds \(v), out of range") }
        return i
    }

    /// Reads every SKU of `seller` from the state tables. Never traps on stored data: each row is decoded with checks.
    ///
    /// The SKU, stock and listing rows are read in the same SKU order (their primary keys) and joined as they stream (a merge
    /// join): each SKU is built once, its arrays at their final size, with no lookups and nothing allocated to be thrown away,
    /// which keeps both the time and the heap of a large catalog down.
    static func readStates(_ db: Database, seller: String, progress: RebuildProgress? = nil) throws -> LoadedStates {
        // Read straight into the snapshot's shards, so a large catalog is never held twice.
        let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM skus WHERE seller = ?", arguments: [seller]) ?? 0
        var shards = (0..<SellerSnapshot.shardCount).map { _ in SKUTable(capacity: count / SellerSnapshot.shardCount + 16) }
        var quarantined: [String: String] = [:]
        func quarantine(_ sku: String?, _ reason: String) {
            let sku = sku ?? "(unreadable id)"
            if quarantined[sku] == nil { quarantined[sku] = reason }
        }
        func quarantine(_ row: Row, _ reason: String) { quarantine((try? row.decode(String?.self, atIndex: 0)).flatMap { $0 }, reason) }
        var interner = Interner()
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT sku, productId, title, productTitle, description, brand, options, barcode, media, url, tags, collections, supplier,
                    priceAmount, currency, compareAtAmount, saleAmount, saleStartsAt, saleEndsAt, weightGrams, active, spikeMultiplier,
                    h.lastSequence, h.updatedAt FROM skus JOIN sku_heads h USING (seller, sku) WHERE seller = ? ORDER BY sku
                """,
            arguments: [seller]
        )
        let stock = try MergeCursor(Row.fetchCursor(
            db,
            sql: """
                SELECT sku, location, onHand, committed, reserved, unavailable, safetyStock, incoming, oversold FROM stock
                WHERE seller = ? ORDER BY sku, location
                """,
            arguments: [seller]
        ))
        let listings = try MergeCursor(Row.fetchCursor(
            db,
            sql: """
                SELECT sku, channel, externalId, listed, buffer, priceAmount, priceCurrency, refs FROM listings
                WHERE seller = ? ORDER BY sku, channel
                """,
            arguments: [seller]
        ))
        var levels: [LocationStock] = []
        var listed: [Listing] = []
        // Why the SKU being read cannot be loaded (its first bad row), or nil.
        var rejected: String?
        func readStock(_ row: Row, _ sku: String) throws {
            let level = StockLevel(
                onHand: try int(row, 2), committed: try int(row, 3), reserved: try int(row, 4), unavailable: try int(row, 5),
                safetyStock: try int(row, 6), incoming: try int(row, 7), oversold: try int(row, 8)
            )
            guard level.isWithinLimits else {
                throw OutOfLimits(reason: "stored stock at \(try row.decode(String.self, atIndex: 1)) lies outside 0…\(Limits.maxStockFigure) units")
            }
            levels.append(LocationStock(location: try row.decode(String.self, atIndex: 1), level: level))
        }
        func readListing(_ row: Row, _ sku: String) throws {
            let amount = try optionalInteger(row, 5)
            let currency: String? = try row.decode(atIndex: 6)
            var price: Money?
            if let amount, let currency { price = Money(amount: amount, currency: currency) }
            let channel: String = try row.decode(atIndex: 1)
            let externalId: String = try row.decode(atIndex: 2)
            let buffer = try int(row, 4)
            let refs: String = try row.decode(atIndex: 7)
            guard (0...Limits.maxBuffer).contains(buffer), Limits.price.contains(amount ?? 0) else {
                throw OutOfLimits(reason: "the stored listing on \(channel) lies outside Limits (buffer \(buffer), price \(amount ?? 0))")
            }
            listed.append(Listing(channel: channel, externalId: externalId == sku ? sku : externalId, listed: try row.decode(atIndex: 3),
                                  buffer: buffer, price: price, references: refs.isEmpty ? [:] : unpackMap(refs)))
        }
        /// Reads `cursor`'s rows of `sku` (and quarantines, as before, unreadable rows of SKUs that are not in `skus`).
        func gather(_ cursor: MergeCursor, _ sku: String?, what: String, _ read: (Row, String) throws -> Void) throws {
            while let (rowSKU, row) = try cursor.peek() {
                guard let rowSKU else {
                    quarantine(nil, "a stored \(what) row cannot be read: its SKU is unreadable")
                    try cursor.advance()
                    continue
                }
                if let sku, !MergeCursor.precedes(rowSKU, sku) && !MergeCursor.same(rowSKU, sku) { return }
                let mine = sku.map { MergeCursor.same(rowSKU, $0) } ?? false
                do {
                    if mine {
                        if rejected == nil { try read(row, rowSKU) }
                    } else if quarantined[rowSKU] == nil {
                        // A row of no SKU: decoded only to report a damaged one, as a read by SKU would.
                        let keep = (levels, listed)
                        try read(row, rowSKU)
                        (levels, listed) = keep
                    }
                } catch let error as OutOfLimits {
                    if mine { rejected = rejected ?? error.reason } else { quarantine(rowSKU, error.reason) }
                } catch {
                    let reason = "a stored \(what) row cannot be read: \(error)"
                    if mine { rejected = rejected ?? reason } else { quarantine(rowSKU, reason) }
                }
                try cursor.advance()
            }
        }
        var read = 0
        while let row = try rows.next() {
            read += 1
            if read & 4095 == 0, let progress {
                progress.advance(by: 4096)
                if progress.isStopped { throw RebuildStopped() }
            }
            let sku: String? = try? row.decode(String.self, atIndex: 0)
            levels.removeAll(keepingCapacity: true)
            listed.removeAll(keepingCapacity: true)
            rejected = nil
            var state: SKUState?
            do {
                let currency = interner.string(try row.decode(String.self, atIndex: 14), slot: 0)
                let price = try integer(row, 13)
                let compareAt = try optionalInteger(row, 15)
                let saleAmount = try optionalInteger(row, 16)
                let saleStarts: Double? = try row.decode(atIndex: 17)
                let saleEnds: Double? = try row.decode(atIndex: 18)
                let sale = saleAmount.map {
                    SalePrice(price: Money(amount: $0, currency: currency), startsAt: saleStarts.map(Date.init(timeIntervalSince1970:)),
                              endsAt: saleEnds.map(Date.init(timeIntervalSince1970:)))
                }
                let brand: String? = try row.decode(atIndex: 5)
                let supplier: String? = try row.decode(atIndex: 12)
                var item = CatalogItem(
                    sku: try row.decode(atIndex: 0), productId: interner.string(try row.decode(String.self, atIndex: 1), slot: 1),
                    title: try row.decode(atIndex: 2), productTitle: interner.string(try row.decode(String.self, atIndex: 3), slot: 2),
                    description: interner.string(try row.decode(String.self, atIndex: 4), slot: 3), brand: brand.map { interner.string($0, slot: 4) },
                    options: interner.map(try row.decode(String.self, atIndex: 6)), barcode: try row.decode(atIndex: 7),
                    mediaURLs: interner.list(try row.decode(String.self, atIndex: 8), slot: 0), url: try row.decode(atIndex: 9),
                    tags: interner.list(try row.decode(String.self, atIndex: 10), slot: 1),
                    collections: interner.list(try row.decode(String.self, atIndex: 11), slot: 2), supplier: supplier.map { interner.string($0, slot: 5) },
                    price: Money(amount: price, currency: currency), compareAtPrice: compareAt.map { Money(amount: $0, currency: currency) },
                    sale: sale, weightGrams: try row.decode(atIndex: 19), active: try row.decode(atIndex: 20)
                )
                interner.share(&item)
                let spikeMultiplier = try int(row, 21)
                if ![price, compareAt ?? 0, saleAmount ?? 0].allSatisfy(Limits.price.contains) {
                    rejected = "a stored price lies outside 0…\(Limits.maxPriceMinorUnits) minor units"
                } else if !(1...Limits.maxSpikeMultiplier).contains(spikeMultiplier) {
                    rejected = "the stored spike multiplier \(spikeMultiplier) lies outside 1…\(Limits.maxSpikeMultiplier)"
                } else {
                    state = SKUState(item: item, spikeMultiplier: spikeMultiplier, lastSequence: try row.decode(atIndex: 22),
                                     updatedAt: Date(timeIntervalSince1970: try row.decode(atIndex: 23)))
                }
            } catch {
                rejected = "the stored SKU row cannot be read: \(error)"
            }
            try gather(stock, sku, what: "stock", readStock)
            try gather(listings, sku, what: "listing", readListing)
            if let reason = rejected {
                quarantine(sku, reason)
            } else if var state, let sku {
                state.stock = levels
                state.listings = listed
                shards[SellerSnapshot.shardIndex(sku)][sku] = state
            }
        }
        progress?.advance(by: read & 4095)
        try gather(stock, nil, what: "stock", readStock)
        try gather(listings, nil, what: "listing", readListing)
        func drop(_ row: Row, _ reason: String) {
            quarantine(row, reason)
            if let sku = try? row.decode(String.self, atIndex: 0) { shards[SellerSnapshot.shardIndex(sku)][sku] = nil }
        }
        let holds = try Row.fetchCursor(
            db, sql: "SELECT sku, id, location, qty, expiresAt, allocation FROM holds WHERE seller = ? ORDER BY sku, id", arguments: [seller]
        )
        while let row = try holds.next() {
            read += 1
            if read & 4095 == 0, progress?.isStopped == true { throw RebuildStopped() }
            do {
                let sku: String = try row.decode(atIndex: 0)
                guard quarantined[sku] == nil else { continue }
                let packed: String? = try row.decode(atIndex: 5)
                var allocation: [Allocation]?
                if let packed {
                    guard let parts = unpackAllocation(packed) else {
                        drop(row, "the stored allocation of hold \(try row.decode(String.self, atIndex: 1)) cannot be read")
                        continue
                    }
                    allocation = parts
                }
                let hold = Reservation(
                    id: try row.decode(atIndex: 1), sku: sku, location: try row.decode(atIndex: 2), qty: try int(row, 3),
                    expiresAt: Date(timeIntervalSince1970: try row.decode(atIndex: 4)), allocation: allocation
                )
                guard Limits.count.contains(hold.qty), hold.parts.allSatisfy({ Limits.count.contains($0.qty) }),
                      hold.parts.reduce(0, { $0 + $1.qty }) == hold.qty
                else {
                    drop(row, "the stored hold \(hold.id) of \(hold.qty) units lies outside 0…\(Limits.maxQuantity) or its parts do not add up")
                    continue
                }
                shards[SellerSnapshot.shardIndex(hold.sku)][hold.sku]?.holds.append(hold)
            } catch {
                drop(row, "a stored hold row cannot be read: \(error)")
            }
        }
        return LoadedStates(shards: shards, quarantined: quarantined)
    }

    /// Reads the seller's locations and channels.
    static func readCatalog(_ db: Database, seller: String) throws -> SellerCatalog {
        let decoder = ShelfJSON.decoder()
        var catalog = SellerCatalog()
        for record in try LocationRecord.filter(LocationRecord.Columns.seller == seller).fetchAll(db) {
            let location = try decoder.decode(Location.self, from: Data(record.body.utf8))
            catalog.apply(ShelfEvent(type: .locationUpserted, locationInfo: location, occurredAt: .now))
        }
        for record in try ChannelRecord.filter(ChannelRecord.Columns.seller == seller).fetchAll(db) {
            let channel = try decoder.decode(Channel.self, from: Data(record.body.utf8))
            catalog.apply(ShelfEvent(type: .channelUpserted, channelInfo: channel, occurredAt: .now))
        }
        return catalog
    }
}

/// A row cursor that can look at its current row before it is consumed, for joining tables read in the same SKU order.
final class MergeCursor {
    private let rows: RowCursor
    private var current: Row?
    private var currentSKU: String?
    private var started = false

    init(_ rows: RowCursor) { self.rows = rows }

    /// The current row and its SKU (nil SKU: unreadable), without consuming it; nil at the end.
    func peek() throws -> (String?, Row)? {
        if !started {
            started = true
            try advance()
        }
        return current.map { (currentSKU, $0) }
    }

    /// Consumes the current row.
    func advance() throws {
        current = try rows.next()
        currentSKU = current.flatMap { try? $0.decode(String.self, atIndex: 0) }
    }

    /// SQLite's order of TEXT keys (BINARY collation: bytes), which is not Swift's `String` order.
    static func precedes(_ a: String, _ b: String) -> Bool { compare(a, b) < 0 }
    static func same(_ a: String, _ b: String) -> Bool { compare(a, b) == 0 }

    /// memcmp order of the UTF-8 bytes (strings read from SQLite are native and contiguous; others take the generic path).
    static func compare(_ a: String, _ b: String) -> Int {
        let fast = a.utf8.withContiguousStorageIfAvailable { x in
            b.utf8.withContiguousStorageIfAvailable { y -> Int in
                let n = min(x.count, y.count)
                if n > 0, let p = x.baseAddress, let q = y.baseAddress {
                    let c = memcmp(p, q, n)
                    if c != 0 { return c < 0 ? -1 : 1 }
                }
                return x.count == y.count ? 0 : (x.count < y.count ? -1 : 1)
            }
        }
        if let fast, let result = fast { return result }
        if a.utf8.elementsEqual(b.utf8) { return 0 }
        return a.utf8.lexicographicallyPrecedes(b.utf8) ? -1 : 1
    }
}
