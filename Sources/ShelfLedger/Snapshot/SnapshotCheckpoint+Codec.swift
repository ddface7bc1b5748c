import Foundation
import ShelfCore

/// The byte encoding of a checkpoint's payload. Integers are base-128 varints (zigzag for signed ones), instants the 8 bytes of
/// their `timeIntervalSince1970` (as the state tables keep them, so a checkpointed value equals a rebuilt one bit for bit),
/// and text that many SKUs repeat (product ids and text, currencies, locations, channels, option maps, media, tags) is written
/// once and referred to by number after that — which also makes the loaded SKUs share one copy of it.
struct CheckpointWriter {
    var bytes: [UInt8] = []
    private var strings: [String: UInt64] = [:]
    private var lists: [[String]: UInt64] = [:]
    private var maps: [[String: String]: UInt64] = [:]

    init() { bytes.reserveCapacity(1 << 20) }

    mutating func uint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func int(_ value: Int64) { uint(UInt64(bitPattern: (value << 1) ^ (value >> 63))) }
    mutating func int(_ value: Int) { int(Int64(value)) }
    mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    mutating func fixed(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    mutating func date(_ value: Date) { fixed(value.timeIntervalSince1970.bitPattern) }

    mutating func text(_ value: String) {
        uint(UInt64(value.utf8.count))
        bytes += value.utf8
    }

    mutating func raw(_ value: [UInt8]) {
        uint(UInt64(value.count))
        bytes += value
    }

    /// A repeated string: 0 and the text the first time, its number + 1 after that.
    mutating func shared(_ value: String) {
        if let n = strings[value] { return uint(n + 1) }
        strings[value] = UInt64(strings.count)
        uint(0)
        text(value)
    }

    mutating func shared(_ value: [String]) {
        if let n = lists[value] { return uint(n + 1) }
        lists[value] = UInt64(lists.count)
        uint(0)
        uint(UInt64(value.count))
        for s in value { shared(s) }
    }

    mutating func shared(_ value: [String: String]) {
        if let n = maps[value] { return uint(n + 1) }
        maps[value] = UInt64(maps.count)
        uint(0)
        uint(UInt64(value.count))
        for key in value.keys.sorted() {
            shared(key)
            shared(value[key]!)
        }
    }

    mutating func optional<T>(_ value: T?, _ write: (inout CheckpointWriter, T) -> Void) {
        guard let value else { return bool(false) }
        bool(true)
        write(&self, value)
    }

    mutating func money(_ value: Money) {
        int(value.amount)
        shared(value.currency)
    }

    /// One SKU's whole state.
    mutating func state(_ s: SKUState) {
        let item = s.item
        text(item.sku)
        shared(item.productId)
        text(item.title)
        shared(item.productTitle)
        shared(item.description)
        optional(item.brand) { $0.shared($1) }
        shared(item.options)
        optional(item.barcode) { $0.text($1) }
        shared(item.mediaURLs)
        optional(item.url) { $0.text($1) }
        shared(item.tags)
        shared(item.collections)
        optional(item.supplier) { $0.shared($1) }
        money(item.price)
        optional(item.compareAtPrice) { $0.money($1) }
        optional(item.sale) { w, sale in
            w.money(sale.price)
            w.optional(sale.startsAt) { $0.date($1) }
            w.optional(sale.endsAt) { $0.date($1) }
        }
        optional(item.weightGrams) { $0.int($1) }
        bool(item.active)
        let stock = s.stock
        uint(UInt64(stock.count))
        for entry in stock {
            shared(entry.location)
            let l = entry.level
            for v in [l.onHand, l.committed, l.reserved, l.unavailable, l.safetyStock, l.incoming, l.oversold] { int(v) }
        }
        uint(UInt64(s.holds.count))
        for hold in s.holds {
            text(hold.id)
            text(hold.sku)
            shared(hold.location)
            int(hold.qty)
            date(hold.expiresAt)
            optional(hold.allocation) { w, parts in
                w.uint(UInt64(parts.count))
                for part in parts {
                    w.shared(part.location)
                    w.int(part.qty)
                }
            }
        }
        let listings = s.listings
        uint(UInt64(listings.count))
        for listing in listings {
            shared(listing.channel)
            // An item listed under the SKU itself (the common case) stores no id.
            optional(listing.externalId == item.sku ? nil : listing.externalId) { $0.text($1) }
            bool(listing.listed)
            int(listing.buffer)
            optional(listing.price) { $0.money($1) }
            uint(UInt64(listing.references.count))
            for key in listing.references.keys.sorted() {
                shared(key)
                text(listing.references[key]!)
            }
        }
        int(s.spikeMultiplier)
        int(s.lastSequence)
        date(s.updatedAt)
    }
}

/// Reads what `CheckpointWriter` wrote, checking every length against the bytes left: damaged input throws
/// `SnapshotCheckpointError.malformed`, never traps.
struct CheckpointReader {
    let base: UnsafeRawBufferPointer
    var at: Int
    let end: Int
    private var strings: [String] = []
    private var lists: [[String]] = []
    private var maps: [[String: String]] = []
    /// The last item read per product (by the number of its id in the string table: an integer key hashes cheaply): a variant
    /// takes the shared text of the one before it when equal (as a rebuild does).
    private var products: [Int: CatalogItem] = [:]

    init(_ base: UnsafeRawBufferPointer, from: Int, to: Int) {
        self.base = base
        at = from
        end = to
    }

    var atEnd: Bool { at >= end }

    func malformed(_ what: String) -> SnapshotCheckpointError { .malformed("\(what) at byte \(at)") }

    mutating func byte() throws -> UInt8 {
        guard at < end else { throw malformed("unexpected end") }
        defer { at += 1 }
        return base[at]
    }

    mutating func uint() throws -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            guard shift < 64 else { throw malformed("varint too long") }
            value |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return value }
            shift += 7
        }
    }

    mutating func int64() throws -> Int64 {
        let u = try uint()
        return Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }

    mutating func int() throws -> Int {
        let v = try int64()
        guard let i = Int(exactly: v) else { throw malformed("integer out of range") }
        return i
    }

    /// A count of items of at least `minimum` bytes each, bounded by the bytes left.
    mutating func count(minimum: Int = 1) throws -> Int {
        let n = try uint()
        guard n <= UInt64(max(0, end - at) / max(1, minimum)) else { throw malformed("count \(n) exceeds the bytes left") }
        return Int(n)
    }

    mutating func bool() throws -> Bool {
        switch try byte() {
        case 0: return false
        case 1: return true
        default: throw malformed("not a boolean")
        }
    }

    mutating func fixed() throws -> UInt64 {
        guard end - at >= 8 else { throw malformed("unexpected end") }
        var value: UInt64 = 0
        for i in 0..<8 { value |= UInt64(base[at + i]) << UInt64(8 * i) }
        at += 8
        return value
    }

    mutating func date() throws -> Date { Date(timeIntervalSince1970: Double(bitPattern: try fixed())) }

    mutating func bytes() throws -> [UInt8] {
        let n = try count(minimum: 1)
        defer { at += n }
        return Array(base[at..<(at + n)])
    }

    mutating func text() throws -> String {
        let n = try count(minimum: 1)
        defer { at += n }
        return String(decoding: UnsafeRawBufferPointer(rebasing: base[at..<(at + n)]), as: UTF8.self)
    }

    mutating func sharedText() throws -> String { try numberedText().text }

    /// A repeated string and its number in the table.
    mutating func numberedText() throws -> (text: String, number: Int) {
        let n = try uint()
        if n == 0 {
            let s = try text()
            strings.append(s)
            return (s, strings.count - 1)
        }
        guard n <= UInt64(strings.count) else { throw malformed("unknown string \(n)") }
        return (strings[Int(n - 1)], Int(n - 1))
    }

    mutating func sharedList() throws -> [String] {
        let n = try uint()
        if n == 0 {
            var list: [String] = []
            let c = try count()
            list.reserveCapacity(c)
            for _ in 0..<c { list.append(try sharedText()) }
            lists.append(list)
            return list
        }
        guard n <= UInt64(lists.count) else { throw malformed("unknown list \(n)") }
        return lists[Int(n - 1)]
    }

    mutating func sharedMap() throws -> [String: String] {
        let n = try uint()
        if n == 0 {
            var map: [String: String] = [:]
            let c = try count(minimum: 2)
            map.reserveCapacity(c)
            for _ in 0..<c {
                let key = try sharedText()
                map[key] = try sharedText()
            }
            maps.append(map)
            return map
        }
        guard n <= UInt64(maps.count) else { throw malformed("unknown map \(n)") }
        return maps[Int(n - 1)]
    }

    mutating func optional<T>(_ read: (inout CheckpointReader) throws -> T) throws -> T? {
        try bool() ? try read(&self) : nil
    }

    mutating func money() throws -> Money {
        let amount = try int64()
        return Money(amount: amount, currency: try sharedText())
    }

    mutating func state() throws -> SKUState {
        let sku = try text()
        let (productId, product) = try numberedText()
        let title = try text()
        let productTitle = try sharedText()
        let description = try sharedText()
        let brand = try optional { try $0.sharedText() }
        let options = try sharedMap()
        let barcode = try optional { try $0.text() }
        let media = try sharedList()
        let url = try optional { try $0.text() }
        let tags = try sharedList()
        let collections = try sharedList()
        let supplier = try optional { try $0.sharedText() }
        let price = try money()
        let compareAt = try optional { try $0.money() }
        let sale = try optional { r in
            SalePrice(price: try r.money(), startsAt: try r.optional { try $0.date() }, endsAt: try r.optional { try $0.date() })
        }
        let weight = try optional { try $0.int() }
        var item = CatalogItem(
            sku: sku, productId: productId, title: title, productTitle: productTitle, description: description, brand: brand,
            options: options, barcode: barcode, mediaURLs: media, url: url, tags: tags, collections: collections, supplier: supplier,
            price: price, compareAtPrice: compareAt, sale: sale, weightGrams: weight, active: try bool()
        )
        if let earlier = products[product] { item.shareText(with: earlier) }
        products[product] = item
        var stock: [LocationStock] = []
        let stockCount = try count(minimum: 8)
        stock.reserveCapacity(stockCount)
        for _ in 0..<stockCount {
            let location = try sharedText()
            stock.append(LocationStock(location: location, level: StockLevel(
                onHand: try int(), committed: try int(), reserved: try int(), unavailable: try int(), safetyStock: try int(),
                incoming: try int(), oversold: try int()
            )))
        }
        var holds: [Reservation] = []
        for _ in 0..<(try count(minimum: 13)) {
            let id = try text()
            let holdSKU = try text()
            let location = try sharedText()
            let qty = try int()
            let expiresAt = try date()
            let allocation = try optional { r -> [Allocation] in
                var parts: [Allocation] = []
                for _ in 0..<(try r.count(minimum: 2)) {
                    let location = try r.sharedText()
                    parts.append(Allocation(location: location, qty: try r.int()))
                }
                return parts
            }
            holds.append(Reservation(id: id, sku: holdSKU, location: location, qty: qty, expiresAt: expiresAt, allocation: allocation))
        }
        var listings: [Listing] = []
        let listingCount = try count(minimum: 5)
        listings.reserveCapacity(listingCount)
        for _ in 0..<listingCount {
            let channel = try sharedText()
            let externalId = try optional { try $0.text() } ?? sku
            let listed = try bool()
            let buffer = try int()
            let price = try optional { try $0.money() }
            var references: [String: String] = [:]
            for _ in 0..<(try count(minimum: 2)) {
                let key = try sharedText()
                references[key] = try text()
            }
            listings.append(Listing(channel: channel, externalId: externalId, listed: listed, buffer: buffer, price: price,
                                    references: references))
        }
        let spike = try int()
        let lastSequence = try int64()
        return SKUState(item: item, stock: stock, holds: holds, listings: listings, spikeMultiplier: spike, lastSequence: lastSequence,
                        updatedAt: try date())
    }
}
