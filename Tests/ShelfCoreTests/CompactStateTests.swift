import Foundation
import PropertyBased
import ShelfCore
import Testing

/// The compact SKU representation (shared item text, packed listings, out-of-line prices) gives back every field it was given,
/// through its properties, its setters and JSON.
@Suite struct CompactStateTests {
    /// Text that exercises the packed encodings: empty, digits and colons (the reference format's own characters), separators
    /// and multi-byte UTF-8.
    static let texts = ["", "a", "9", "12:", ":", "::3:", "variantId", "\u{1F}\u{1E}", "é—ü", "🧦 socks", "x:y:z", "0", "a\u{0}b",
                        "https://cdn.example/img/a-1.jpg", "A very long product title that does not fit inline at all — no"]

    struct Values {
        var rng: SplitMix64
        mutating func pick<T>(_ from: [T]) -> T { from[Int(rng.next() % UInt64(from.count))] }
        mutating func text() -> String { pick(CompactStateTests.texts) }
        mutating func optionalText() -> String? { rng.next() % 3 == 0 ? nil : text() }
        mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(rng.next() % UInt64(range.upperBound - range.lowerBound + 1)) }
        mutating func money() -> Money { Money(amount: Int64(int(0...1_000_000_000)), currency: pick(["USD", "EUR", "JPY", "KWD", "CLF"])) }
        mutating func list() -> [String] { (0..<int(0...3)).map { _ in text() } }
        mutating func map() -> [String: String] {
            var m: [String: String] = [:]
            for _ in 0..<int(0...3) { m[text()] = text() }
            return m
        }
        mutating func date() -> Date { Date(timeIntervalSince1970: Double(int(0...4_000_000_000))) }

        mutating func item(sku: String) -> CatalogItem {
            CatalogItem(
                sku: sku, productId: text(), title: text(), productTitle: optionalText(), description: text(), brand: optionalText(),
                options: map(), barcode: optionalText(), mediaURLs: list(), url: optionalText(), tags: list(), collections: list(),
                supplier: optionalText(), price: money(), compareAtPrice: rng.next() % 2 == 0 ? money() : nil,
                sale: rng.next() % 3 == 0 ? SalePrice(price: money(), startsAt: rng.next() % 2 == 0 ? date() : nil, endsAt: nil) : nil,
                weightGrams: rng.next() % 2 == 0 ? int(0...100_000) : nil, active: rng.next() % 2 == 0
            )
        }

        mutating func state() -> SKUState {
            let sku = "SKU-\(rng.next() % 1000)"
            let channels = ["amazon", "ebay", "etsy", "shopify", "tiktok", "walmart", "a-channel-with-a-long-id"].filter { _ in rng.next() % 2 == 0 }
            let locations = ["dallas-3pl", "newark", "reno", "soho"].filter { _ in rng.next() % 2 == 0 }
            return SKUState(
                item: item(sku: sku),
                stock: locations.map { LocationStock(location: $0, level: StockLevel(
                    onHand: int(0...Limits.maxStockFigure), committed: int(0...1000), reserved: int(0...1000), unavailable: int(0...5),
                    safetyStock: int(0...10), incoming: int(0...Limits.maxStockFigure), oversold: int(0...3))) },
                holds: (0..<int(0...2)).map { i in
                    Reservation(id: "h\(i)", sku: sku, location: locations.first ?? "reno", qty: int(1...5), expiresAt: date())
                },
                listings: channels.map { channel in
                    Listing(channel: channel, externalId: rng.next() % 2 == 0 ? sku : text(), listed: rng.next() % 2 == 0,
                            buffer: int(0...Limits.maxBuffer), price: rng.next() % 2 == 0 ? money() : nil, references: map())
                },
                spikeMultiplier: int(1...Limits.maxSpikeMultiplier), lastSequence: Int64(int(0...Int(Int32.max))), updatedAt: date()
            )
        }
    }

    @Test func everyFieldRoundTrips() async {
        await propertyCheck(count: 500, input: Gen.int(in: 0...Int.max)) { seed in
            var values = Values(rng: SplitMix64(seed: UInt64(seed)))
            let sku = "SKU-1"
            let (productId, title, productTitle, description, brand) = (values.text(), values.text(), values.text(), values.text(), values.optionalText())
            let (options, barcode, media, url, tags) = (values.map(), values.optionalText(), values.list(), values.optionalText(), values.list())
            let (collections, supplier, price) = (values.list(), values.optionalText(), values.money())
            let compareAt: Money? = seed % 2 == 0 ? values.money() : nil
            let sale: SalePrice? = seed % 3 == 0 ? SalePrice(price: values.money(), startsAt: values.date(), endsAt: values.date()) : nil
            let weight: Int? = seed % 5 == 0 ? nil : values.int(0...1_000_000)
            let item = CatalogItem(
                sku: sku, productId: productId, title: title, productTitle: productTitle, description: description, brand: brand,
                options: options, barcode: barcode, mediaURLs: media, url: url, tags: tags, collections: collections, supplier: supplier,
                price: price, compareAtPrice: compareAt, sale: sale, weightGrams: weight, active: seed % 7 != 0
            )
            #expect(item.sku == sku && item.productId == productId && item.title == title && item.productTitle == productTitle)
            #expect(item.description == description && item.brand == brand && item.options == options && item.barcode == barcode)
            #expect(item.mediaURLs == media && item.url == url && item.tags == tags && item.collections == collections)
            #expect(item.supplier == supplier && item.price == price && item.compareAtPrice == compareAt && item.sale == sale)
            #expect(item.weightGrams == weight && item.active == (seed % 7 != 0))

            let listings = (0..<values.int(0...6)).map { i in
                Listing(channel: "ch\(i)-\(values.text())", externalId: values.text(), listed: values.int(0...1) == 1,
                        buffer: values.int(0...Limits.maxBuffer), price: values.int(0...1) == 1 ? values.money() : nil, references: values.map())
            }.sorted { $0.channel < $1.channel }
            let state = values.state()
            var copy = SKUState(item: item, stock: state.stock, holds: state.holds, listings: listings, spikeMultiplier: state.spikeMultiplier,
                                lastSequence: state.lastSequence, updatedAt: state.updatedAt)
            #expect(copy.item == item && copy.stock == state.stock && copy.holds == state.holds && copy.listings == listings)
            #expect(copy.spikeMultiplier == state.spikeMultiplier && copy.lastSequence == state.lastSequence && copy.updatedAt == state.updatedAt)
            for listing in listings { #expect(copy.listing(on: listing.channel) == listing) }

            // Setters change one field and nothing else.
            let newPrice = values.money()
            copy.item.price = newPrice
            #expect(copy.item.price == newPrice && copy.item.compareAtPrice == compareAt && copy.item.sale == sale)
            #expect(copy.item.description == description && copy.item.productId == productId)
            copy.item.description = "changed"
            #expect(item.description == description && copy.item.description == "changed" && copy.item.tags == tags)
            copy.listings = state.listings
            #expect(copy.listings == state.listings)

            // JSON carries every field.
            let data = try! ShelfJSON.encoder().encode(state)
            #expect(try! ShelfJSON.decoder().decode(SKUState.self, from: data) == state)
        }
    }

    @Test func equalityAndHashFollowTheFieldsNotTheSharing() {
        let a = CatalogItem(sku: "A", productId: "P", title: "A", description: "same text", price: Money(amount: 100, currency: "USD"))
        var b = CatalogItem(sku: "A", productId: "P", title: "A", description: "same text", price: Money(amount: 100, currency: "USD"))
        #expect(a == b && a.hashValue == b.hashValue)
        b.shareText(with: a)
        #expect(a == b && a.hashValue == b.hashValue)
        b.description = "other text"
        #expect(a != b)
        var c = a
        c.compareAtPrice = Money(amount: 90, currency: "EUR")
        #expect(c != a && c.compareAtPrice == Money(amount: 90, currency: "EUR"))
        c.compareAtPrice = nil
        #expect(c == a)
    }

    @Test func extremeFiguresAndARenamedItemRoundTrip() {
        let level = StockLevel(onHand: Int.max, committed: Int.min, reserved: -1, unavailable: 0, safetyStock: 1 << 40, incoming: 127, oversold: 128)
        var state = SKUState(
            item: CatalogItem(sku: "OLD", productId: "P", title: "T", price: Money(amount: Int64.max, currency: "USD")),
            stock: [LocationStock(location: "a", level: level)],
            listings: [Listing(channel: "amazon", externalId: "OLD", buffer: Int.min, price: Money(amount: Int64.min, currency: "XPF"))]
        )
        #expect(state.stock == [LocationStock(location: "a", level: level)])
        #expect(state.listings == [Listing(channel: "amazon", externalId: "OLD", buffer: Int.min, price: Money(amount: Int64.min, currency: "XPF"))])
        state.item.sku = "NEW"
        #expect(state.listings.map(\.externalId) == ["OLD"])
    }

    @Test func listingUpdatesKeepChannelOrder() {
        var state = SKUState(item: CatalogItem(sku: "S", productId: "P", title: "S", price: Money(amount: 1, currency: "USD")))
        for channel in ["walmart", "amazon", "tiktok", "ebay", "amazon"] {
            state.upsertListing(Listing(channel: channel, externalId: "\(channel)-id", references: ["k": channel]))
        }
        #expect(state.listings.map(\.channel) == ["amazon", "ebay", "tiktok", "walmart"])
        #expect(state.listing(on: "tiktok")?.references == ["k": "tiktok"])
        #expect(state.listing(on: "etsy") == nil)
    }
}
