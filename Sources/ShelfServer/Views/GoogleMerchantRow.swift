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

    init(_ facts: ProductFacts, reach: [String: [ServiceReach]], country: String, now: Date) {
        let item = facts.state.item
        let sale = facts.sale
        // With a sale in force, `price` is the regular price and `sale_price` what the buyer pays.
        let price = sale == nil ? facts.price : item.price
        var saleWindow = ""
        if let sale {
            saleWindow = (sale.startsAt.map(Timestamp.format) ?? Timestamp.format(now)) + "/"
                + (sale.endsAt.map(Timestamp.format) ?? Timestamp.format(now.addingTimeInterval(SchemaOrgProduct.priceHorizon)))
        }
        let shipping = Self.shipping(facts, reach: reach, country: country, now: now)
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
        fields.map(Self.cell).joined(separator: "\t") + "\n"
    }

    /// A value with tabs and line breaks replaced by spaces (copied only when it has any).
    static func cell(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) else { return value }
        return String(decoding: value.utf8.map { $0 == 0x09 || $0 == 0x0A || $0 == 0x0D ? 0x20 : $0 }, as: UTF8.self)
    }

    /// `19.99 USD`.
    static func money(_ m: Money) -> String { m.decimalString + " " + m.currency }

    /// One carrier service of one location, as it reaches the feed's country.
    struct ServiceReach: Sendable {
        var key: String
        var rate: Money?
        var handling: Int
        var transit: ClosedRange<Int>
    }

    /// Every location's services that reach `country`, transit days spanning the country's zones (computed once per feed).
    static func reach(_ catalog: SellerCatalog, country: String) -> [String: [ServiceReach]] {
        var table: [String: [ServiceReach]] = [:]
        for location in catalog.locations {
            table[location.id] = location.services.compactMap { service in
                let zones = service.transit.filter { $0.key == country || $0.key.hasPrefix(country + ":") }.values
                guard let lo = zones.map(\.min).min(), let hi = zones.map(\.max).max() else { return nil }
                return ServiceReach(key: "\(service.carrier) \(service.service)", rate: service.rate, handling: location.handlingDays,
                                    transit: lo...hi)
            }
        }
        return table
    }

    /// Per carrier service over the locations that hold stock: the widest handling and transit windows to `country`.
    static func shipping(_ facts: ProductFacts, reach: [String: [ServiceReach]], country: String, now: Date)
        -> (lines: [String], minHandling: Int?, maxHandling: Int?) {
        var windows: [String: (rate: Money?, handling: ClosedRange<Int>, transit: ClosedRange<Int>)] = [:]
        var order: [String] = []
        let state = facts.state
        for stock in state.stock where state.available(at: stock.location, now: now) > 0 {
            for r in reach[stock.location] ?? [] {
                if let w = windows[r.key] {
                    windows[r.key] = (w.rate ?? r.rate, min(w.handling.lowerBound, r.handling)...max(w.handling.upperBound, r.handling),
                                      min(w.transit.lowerBound, r.transit.lowerBound)...max(w.transit.upperBound, r.transit.upperBound))
                } else {
                    order.append(r.key)
                    windows[r.key] = (r.rate, r.handling...r.handling, r.transit)
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
