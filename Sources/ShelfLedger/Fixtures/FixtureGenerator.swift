import Foundation
import ShelfCore

/// Writes a deterministic fixtures directory: the demo seller's catalog (rules-grammar §8) and `count` SKUs of products with variants.
public struct FixtureGenerator: Sendable {
    public var skuCount: Int
    public var seed: UInt64
    /// Base URL of the channel simulator the demo connections point at.
    public var simulatorURL: String
    /// Base URL of Shelf itself (for the simulator's webhooks).
    public var shelfURL: String

    public init(skuCount: Int, seed: UInt64 = 42, simulatorURL: String = "http://127.0.0.1:9090", shelfURL: String = "http://127.0.0.1:8080") {
        self.skuCount = skuCount
        self.seed = seed
        self.simulatorURL = simulatorURL
        self.shelfURL = shelfURL
    }

    public static let seller = SellerFixture(
        id: "demo", name: "Demo Outfitters", currency: "USD", timeZone: "America/New_York",
        suppliers: [
            NamedEntity(id: "acme", name: "Acme Supply", aliases: ["Acme", "Acme Supply"], address: "orders@acme.example"),
            NamedEntity(id: "northwind", name: "Northwind Traders", aliases: ["Northwind", "Northwind Traders"], address: "po@northwind.example"),
            NamedEntity(id: "globex", name: "Globex", aliases: ["Globex"], address: "supply@globex.example"),
            NamedEntity(id: "sunrise", name: "Sunrise Textiles", aliases: ["Sunrise", "Sunrise Textiles"], address: "sales@sunrise.example"),
        ],
        notifyTargets: [
            NamedEntity(id: "ops", name: "Operations", aliases: ["ops", "ops team", "operations"], address: "ops@demo.example"),
            NamedEntity(id: "purchasing", name: "Purchasing", aliases: ["purchasing", "purchasing team"], address: "purchasing@demo.example"),
            NamedEntity(id: "warehouse", name: "Warehouse team", aliases: ["warehouse team"], address: "warehouse@demo.example"),
            NamedEntity(id: "on-call", name: "On-call", aliases: ["on-call"], address: "oncall@demo.example"),
            NamedEntity(id: "me", name: "The rule owner", aliases: ["me"], address: "owner@demo.example"),
            NamedEntity(id: "dana", name: "Dana", aliases: ["Dana"], address: "dana@demo.example"),
        ],
        collections: ["Summer Sale", "Holiday Gifts", "Best Sellers", "Core Basics"]
    )

    public static let channels = [
        Channel(id: "amazon", name: "Amazon", aliases: ["Amazon", "AMZ"]),
        Channel(id: "ebay", name: "eBay", aliases: ["eBay"]),
        Channel(id: "shopify", name: "Shopify", aliases: ["Shopify", "web store"]),
        Channel(id: "walmart", name: "Walmart", aliases: ["Walmart"]),
        Channel(id: "etsy", name: "Etsy", aliases: ["Etsy"]),
        Channel(id: "tiktok", name: "TikTok Shop", aliases: ["TikTok Shop", "TikTok"]),
    ]

    /// Connection id per demo channel.
    public static let connectionIDs = [
        "amazon": "amazon-us", "ebay": "ebay-us", "shopify": "shopify-main", "walmart": "walmart-us", "etsy": "etsy-shop",
        "tiktok": "tiktok-shop",
    ]

    public static let holidays: [CivilDate] = [
        "2026-01-01", "2026-01-19", "2026-02-16", "2026-05-25", "2026-06-19", "2026-07-03", "2026-09-07", "2026-10-12", "2026-11-11",
        "2026-11-26", "2026-12-25", "2027-01-01", "2027-01-18", "2027-02-15", "2027-05-31", "2027-06-18", "2027-07-05", "2027-09-06",
        "2027-10-11", "2027-11-11", "2027-11-25", "2027-12-24", "2027-12-31",
    ].compactMap(CivilDate.init)

    /// Rough position of each US postal-code zone (first digit), for transit tables.
    static let zonePosition: [Int: (Double, Double)] = [
        0: (9.5, 8), 1: (9, 7), 2: (8.5, 5), 3: (8, 2), 4: (7, 6), 5: (5.5, 8), 6: (5.5, 5), 7: (5, 2), 8: (3, 5), 9: (0, 5),
    ]

    static func services(fromZone origin: Int, ground: Bool = true) -> [CarrierService] {
        var groundTable: [String: TransitDays] = [:]
        var priorityTable: [String: TransitDays] = [:]
        var expressTable: [String: TransitDays] = [:]
        let (ox, oy) = zonePosition[origin]!
        for zone in 0...9 {
            let (x, y) = zonePosition[zone]!
            let distance = ((x - ox) * (x - ox) + (y - oy) * (y - oy)).squareRoot()
            let days = min(5, 1 + Int((distance / 2.5).rounded(.down)))
            groundTable["US:\(zone)"] = TransitDays(min: days, max: min(6, days + 1))
            priorityTable["US:\(zone)"] = TransitDays(min: max(1, days - 1), max: max(2, days))
            expressTable["US:\(zone)"] = TransitDays(min: 1, max: distance > 6 ? 2 : 1)
        }
        groundTable["CA"] = TransitDays(min: 5, max: 8)
        priorityTable["CA"] = TransitDays(min: 3, max: 5)
        var out = [
            CarrierService(carrier: "usps", service: "priority", transit: priorityTable, rate: Money(amount: 995, currency: "USD")),
            CarrierService(carrier: "fedex", service: "2day", transit: expressTable.mapValues { _ in TransitDays(min: 2, max: 2) },
                           rate: Money(amount: 1899, currency: "USD")),
        ]
        if ground {
            out.insert(CarrierService(carrier: "ups", service: "ground", transit: groundTable, rate: Money(amount: 799, currency: "USD")), at: 0)
        }
        return out
    }

    public static let locations: [Location] = [
        Location(
            id: "reno", name: "Reno warehouse", aliases: ["Reno", "Reno warehouse", "Reno DC"], timeZone: "America/Los_Angeles",
            cutoff: "14:00", handlingDays: 1, holidays: holidays, country: "US", postalCode: "89501", priority: 1,
            services: services(fromZone: 8)
        ),
        Location(
            id: "dallas-3pl", name: "Dallas 3PL", aliases: ["Dallas", "Dallas 3PL"], timeZone: "America/Chicago", cutoff: "15:00",
            handlingDays: 1, holidays: holidays, country: "US", postalCode: "75201", priority: 2, services: services(fromZone: 7)
        ),
        Location(
            id: "newark", name: "Newark DC", aliases: ["Newark", "Newark DC", "Newark warehouse"], timeZone: "America/New_York",
            cutoff: "13:00", handlingDays: 1, holidays: holidays, country: "US", postalCode: "07102", priority: 0,
            services: services(fromZone: 0)
        ),
        Location(
            id: "shipbob", name: "ShipBob Chicago", aliases: ["ShipBob"], timeZone: "America/Chicago", cutoff: "16:00", handlingDays: 2,
            holidays: holidays, country: "US", postalCode: "60601", priority: 3, services: services(fromZone: 6)
        ),
        Location(
            id: "soho", name: "SoHo store", aliases: ["SoHo store", "SoHo"], timeZone: "America/New_York", cutoff: "12:00",
            handlingDays: 2, holidays: holidays.filter { $0.month != 11 || $0.day != 11 }, country: "US", postalCode: "10012",
            priority: 4, services: services(fromZone: 1, ground: false)
        ),
    ]

    public func connections() -> [ConnectionFixture] {
        let kinds = ["amazon": "amazon", "ebay": "ebay", "shopify": "shopify", "walmart": "walmart", "etsy": "etsy", "tiktok": "tiktok"]
        return Self.channels.map { channel in
            let id = Self.connectionIDs[channel.id]!
            return ConnectionFixture(
                id: id, channel: channel.id, kind: kinds[channel.id]!, baseURL: "\(simulatorURL)/c/\(id)",
                credentials: [
                    "accessToken": "demo-token-\(id)", "sellerId": "A1DEMOSELLER", "shopId": "31415926", "apiKey": "demo-etsy-key",
                    "appKey": "", "appSecret": "demo-secret-\(id)", "shopCipher": "demo-cipher",
                ],
                webhookSecret: "demo-secret-\(id)", pollIntervalSeconds: 60, pushEnabled: true,
                channelLocationId: channel.id == "shopify" ? "24826418" : nil
            )
        }
    }

    static let productKinds: [(code: String, name: String, basePrice: Int64, sizes: [String], supplier: String, weight: Int)] = [
        ("TEE", "Organic Cotton Tee", 1999, ["S", "M", "L", "XL"], "sunrise", 180),
        ("HOOD", "Fleece Hoodie", 5499, ["S", "M", "L", "XL"], "sunrise", 620),
        ("CAP", "Twill Cap", 2499, ["OS"], "acme", 110),
        ("SOCK", "Merino Socks", 1499, ["S", "M", "L"], "northwind", 60),
        ("TOTE", "Canvas Tote", 2199, ["OS"], "acme", 240),
        ("MUG", "Stoneware Mug", 1699, ["11OZ", "15OZ"], "globex", 400),
        ("BTL", "Steel Bottle", 2899, ["500ML", "750ML"], "globex", 350),
        ("BEAN", "Rib Beanie", 2299, ["OS"], "northwind", 90),
        ("JKT", "Rain Jacket", 11900, ["S", "M", "L", "XL"], "sunrise", 540),
        ("NOTE", "Dot Grid Notebook", 1299, ["A5", "A4"], "acme", 300),
    ]
    static let colors = ["RED", "BLK", "WHT", "NVY", "GRN", "GRY", "OAT", "SKY"]
    static let colorNames = [
        "RED": "Red", "BLK": "Black", "WHT": "White", "NVY": "Navy", "GRN": "Forest Green", "GRY": "Heather Grey", "OAT": "Oatmeal",
        "SKY": "Sky Blue",
    ]
    static let channelPriceBasisPoints = ["amazon": 10_500, "ebay": 10_000, "shopify": 10_000, "walmart": 9_900, "etsy": 10_800, "tiktok": 9_500]

    /// Writes the whole directory. Catalog lines are streamed, so a million SKUs need little memory.
    public func write(to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let encoder = ShelfJSON.encoder()
        encoder.outputFormatting.insert(.prettyPrinted)
        try encoder.encode(Self.seller).write(to: directory.appendingPathComponent(FixtureFiles.seller))
        try encoder.encode(Self.locations).write(to: directory.appendingPathComponent(FixtureFiles.locations))
        try encoder.encode(Self.channels).write(to: directory.appendingPathComponent(FixtureFiles.channels))
        try encoder.encode(connections()).write(to: directory.appendingPathComponent(FixtureFiles.connections))
        try writeSimulatorFixtures(to: directory.appendingPathComponent("sim"))
        let url = directory.appendingPathComponent(FixtureFiles.catalog)
        FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        let lineEncoder = ShelfJSON.encoder()
        var buffer = Data()
        for line in lines() {
            buffer.append(try lineEncoder.encode(line))
            buffer.append(0x0A)
            if buffer.count > 1 << 20 {
                try handle.write(contentsOf: buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        try handle.write(contentsOf: buffer)
    }

    /// The catalog lines, generated lazily and deterministically from the seed.
    public func lines() -> AnySequence<CatalogLine> {
        let count = skuCount
        let seed = self.seed
        return AnySequence { () -> AnyIterator<CatalogLine> in
            var rng = SplitMix64(seed: seed)
            var index = 0
            var pending: [CatalogLine] = []
            var productNumber = 0
            return AnyIterator {
                if pending.isEmpty {
                    guard index < count else { return nil }
                    pending = Self.product(number: productNumber, remaining: count - index, rng: &rng)
                    productNumber += 1
                }
                index += 1
                return pending.removeFirst()
            }
        }
    }

    static func product(number: Int, remaining: Int, rng: inout SplitMix64) -> [CatalogLine] {
        let kind = productKinds[number % productKinds.count]
        let color = colors[(number / productKinds.count) % colors.count]
        let series = number / (productKinds.count * colors.count)
        let code = series == 0 ? "\(kind.code)-\(color)" : "\(kind.code)\(series + 1)-\(color)"
        let productId = "P-\(code)"
        let colorName = colorNames[color]!
        let title = series == 0 ? "\(colorName) \(kind.name)" : "\(colorName) \(kind.name) No. \(series + 1)"
        let collections: [String] = {
            var c: [String] = []
            if ["TEE", "SOCK", "CAP"].contains(kind.code) { c.append("Core Basics") }
            if ["MUG", "BEAN", "HOOD", "NOTE"].contains(kind.code) { c.append("Holiday Gifts") }
            if ["TEE", "TOTE", "BTL", "CAP"].contains(kind.code), number % 3 == 0 { c.append("Summer Sale") }
            if number % 5 == 0 { c.append("Best Sellers") }
            return c
        }()
        var lines: [CatalogLine] = []
        for (i, size) in kind.sizes.prefix(remaining).enumerated() {
            let sku = "\(code)-\(size)"
            let skuIndex = number * 8 + i
            let sizeBump: Int64 = size == "XL" ? 200 : (size == "15OZ" || size == "750ML" || size == "A4" ? 300 : 0)
            let price = Money(amount: kind.basePrice + sizeBump, currency: "USD")
            let item = CatalogItem(
                sku: sku, productId: productId, title: "\(title) — \(size)", productTitle: title,
                description: "\(title) from Demo Outfitters. Made to last; ships from our US warehouses.", brand: "Demo Outfitters",
                options: size == "OS" ? ["color": colorName] : ["color": colorName, "size": size],
                barcode: ean13(base: 400_638_100_000 + Int64(skuIndex)),
                mediaURLs: ["https://cdn.demo.example/img/\(code.lowercased())-1.jpg", "https://cdn.demo.example/img/\(code.lowercased())-2.jpg"],
                url: "https://shop.demo.example/products/\(code.lowercased())?variant=\(sku.lowercased())",
                tags: [kind.code.lowercased(), color.lowercased()] + (number % 7 == 0 ? ["limited"] : []), collections: collections,
                supplier: kind.supplier, price: price, compareAtPrice: number % 3 == 0 ? Money(amount: price.amount + 500, currency: "USD") : nil,
                sale: nil, weightGrams: kind.weight, active: true
            )
            // Stock: most healthy, some low, some out.
            let roll = rng.next() % 100
            let locationsHere: [String] = {
                switch rng.next() % 4 {
                case 0: return ["newark", "reno"]
                case 1: return ["dallas-3pl", "newark", "reno"]
                case 2: return ["reno", "shipbob"]
                default: return ["newark", "soho"]
                }
            }()
            var levels: [LocationStock] = []
            for (n, location) in locationsHere.enumerated() {
                let onHand: Int
                if roll < 8 {
                    onHand = 0
                } else if roll < 20 {
                    onHand = n == 0 ? Int(1 + rng.next() % 6) : 0
                } else {
                    onHand = Int(20 + rng.next() % 180)
                }
                levels.append(
                    LocationStock(
                        location: location,
                        level: StockLevel(onHand: onHand, unavailable: roll % 17 == 0 ? 1 : 0, safetyStock: onHand >= 20 ? 2 : 0,
                                          incoming: roll < 8 ? 24 : 0)
                    )
                )
            }
            let listings = channels.map { channel -> Listing in
                let externalId: String
                switch channel.id {
                case "shopify": externalId = String(44_000_000_000_000 + skuIndex)
                case "etsy": externalId = String(1_500_000_000 + skuIndex)
                case "tiktok": externalId = String(1_729_000_000_000_000_000 + Int64(skuIndex))
                default: externalId = sku
                }
                let bp = Int64(channelPriceBasisPoints[channel.id]!)
                let channelPrice = bp == 10_000 ? nil : Money(amount: (price.amount * bp + 5_000) / 10_000, currency: "USD")
                var references: [String: String] = [:]
                switch channel.id {
                case "shopify": references = ["variantId": String(46_000_000_000_000 + skuIndex), "productId": String(8_000_000_000 + number)]
                case "ebay": references = ["offerId": String(5_000_000 + skuIndex)]
                case "tiktok": references = ["skuId": String(1_729_500_000_000_000_000 + Int64(skuIndex))]
                default: break
                }
                return Listing(channel: channel.id, externalId: externalId, listed: true, buffer: channel.id == "ebay" ? 1 : 0, price: channelPrice,
                               references: references)
            }
            lines.append(CatalogLine(item: item, levels: levels, listings: listings))
        }
        return lines
    }

    /// `sim/connections.json` and `sim/items.json` in shelf-sim's format: the demo connections and every listing with its
    /// displayed quantity and price, so the simulated storefronts start in step with Shelf.
    public func writeSimulatorFixtures(to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        struct SimConnection: Encodable {
            var id, kind, webhookSecret, webhookURL: String
            var accountId: String?
            var channelLocationId: String?
        }
        struct SimItem: Encodable {
            var connection, externalId, sku: String
            var quantity: Int
            var price: Money
            var references: [String: String]?
        }
        let connections = connections()
        let encoder = ShelfJSON.encoder()
        encoder.outputFormatting.insert(.prettyPrinted)
        try encoder.encode(connections.map {
            SimConnection(id: $0.id, kind: $0.kind, webhookSecret: $0.webhookSecret, webhookURL: "\(shelfURL)/v1/webhooks/\($0.id)",
                          accountId: $0.kind == "etsy" ? "31415926" : ($0.kind == "amazon" ? "A1DEMOSELLER" : nil),
                          channelLocationId: $0.channelLocationId)
        }).write(to: directory.appendingPathComponent("connections.json"))
        guard skuCount <= 10_000 else { return }
        var items: [SimItem] = []
        for line in lines() {
            let available = line.levels.reduce(0) { $0 + $1.level.available() }
            for listing in line.listings {
                guard let connection = connections.first(where: { $0.channel == listing.channel }) else { continue }
                items.append(SimItem(
                    connection: connection.id, externalId: listing.externalId, sku: line.item.sku,
                    quantity: listing.publishedQuantity(available: available), price: listing.price ?? line.item.price,
                    references: listing.references.isEmpty ? nil : listing.references))
            }
        }
        try encoder.encode(items).write(to: directory.appendingPathComponent("items.json"))
    }

    static func ean13(base: Int64) -> String {
        let digits = String(format: "%012lld", base)
        var sum = 0
        for (i, c) in digits.enumerated() { sum += Int(String(c))! * (i % 2 == 0 ? 1 : 3) }
        return digits + String((10 - sum % 10) % 10)
    }
}
