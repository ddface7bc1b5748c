import Foundation
import ShelfCore

/// One SKU as a Google Merchant Center product row (tab-separated). Shipping lists each carrier service that can reach the
/// feed's country from a location holding stock: `country:region:service:price:min_handling_time:max_handling_time:
/// min_transit_time:max_transit_time`, several joined by commas, with transit days over the country's zones.
struct GoogleMerchantRow {
    static let columns = [
        "id", "item_group_id", "title", "description", "link", "image_link", "additional_image_link", "availability", "price",
        "sale_price", "sale_price_effective_date", "gtin", "brand", "identifier_exists", "condition", "color", "size",
        "shipping(country:region:service:price:min_handling_time:max_handling_time:min_transit_time:max_transit_time)",
        "min_handling_time", "max_handling_time",
    ]
    static let header = columns.joined(separator: "\t") + "\n"

    var fields: [String]

    init(_ facts: ProductFacts, catalog: SellerCatalog, country: String, now: Date) {
        let item = facts.state.item
        let sale = facts.sale
        // With a sale in force, `price` is the regular price and `sale_price` what the buyer pays.
        let price = sale == nil ? facts.price : item.price
        var saleWindow = ""
        if let sale {
            saleWindow = (sale.startsAt.map(Timestamp.format) ?? Timestamp.format(now)) + "/"
                + (sale.endsAt.map(Timestamp.format) ?? Timestamp.format(now.addingTimeInterval(SchemaOrgProduct.priceHorizon)))
        }
        let shipping = Self.shipping(facts, catalog: catalog, country: country, now: now)
        let options = Dictionary(item.options.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
        fields = [
            item.sku, item.productId, item.title, item.description, item.url ?? "", item.mediaURLs.first ?? "",
            item.mediaURLs.dropFirst().prefix(10).joined(separator: ","), facts.status.google, Self.money(price),
            sale.map { Self.money($0.price) } ?? "", saleWindow, item.barcode ?? "", item.brand ?? "",
            item.barcode == nil && item.brand == nil ? "no" : "yes", "new", options["color"] ?? options["colour"] ?? "", options["size"] ?? "",
            shipping.lines.joined(separator: ","), shipping.minHandling.map(String.init) ?? "", shipping.maxHandling.map(String.init) ?? "",
        ]
    }

    /// The row, tabs and line breaks inside values replaced by spaces.
    var line: String {
        fields.map { $0.replacingOccurrences(of: "\t", with: " ").replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ") }
            .joined(separator: "\t") + "\n"
    }

    /// `19.99 USD`.
    static func money(_ m: Money) -> String { ProductFacts.decimal(m) + " " + m.currency }

    /// Per carrier service over the locations that hold stock: the widest handling and transit windows to `country`.
    static func shipping(_ facts: ProductFacts, catalog: SellerCatalog, country: String, now: Date)
        -> (lines: [String], minHandling: Int?, maxHandling: Int?) {
        struct Window { var rate: Money?; var handling: ClosedRange<Int>; var transit: ClosedRange<Int> }
        var windows: [String: Window] = [:]
        var order: [String] = []
        let state = facts.state
        for stock in state.stock where state.available(at: stock.location, now: now) > 0 {
            guard let location = catalog.location(stock.location) else { continue }
            for service in location.services {
                let zones = service.transit.filter { $0.key == country || $0.key.hasPrefix(country + ":") }.values
                guard let lo = zones.map(\.min).min(), let hi = zones.map(\.max).max() else { continue }
                let key = "\(service.carrier) \(service.service)"
                let handling = location.handlingDays...location.handlingDays
                if var w = windows[key] {
                    w.handling = min(w.handling.lowerBound, handling.lowerBound)...max(w.handling.upperBound, handling.upperBound)
                    w.transit = min(w.transit.lowerBound, lo)...max(w.transit.upperBound, hi)
                    w.rate = w.rate ?? service.rate
                    windows[key] = w
                } else {
                    order.append(key)
                    windows[key] = Window(rate: service.rate, handling: handling, transit: lo...hi)
                }
            }
        }
        let lines = order.compactMap { key -> String? in
            // Google requires a price; a service without a published rate is left out rather than shown as free.
            guard let w = windows[key], let rate = w.rate else { return nil }
            let service = key.replacingOccurrences(of: ":", with: " ").replacingOccurrences(of: ",", with: " ")
            return "\(country)::\(service):\(money(rate)):\(w.handling.lowerBound):\(w.handling.upperBound):\(w.transit.lowerBound):\(w.transit.upperBound)"
        }
        return (lines, windows.values.map(\.handling.lowerBound).min(), windows.values.map(\.handling.upperBound).max())
    }
}
