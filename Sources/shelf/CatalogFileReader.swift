import Foundation
import ShelfCore
import ShelfLedger

/// Reads catalog files for `shelf import`: JSON Lines or a JSON array of catalog lines, or CSV.
enum CatalogFileReader {
    struct ReadError: Error, CustomStringConvertible {
        var description: String
    }

    static func read(_ url: URL, locations: [String]) throws -> [CatalogLine] {
        let decoder = ShelfJSON.decoder()
        switch url.pathExtension.lowercased() {
        case "json":
            return try decoder.decode([CatalogLine].self, from: Data(contentsOf: url))
        case "jsonl", "ndjson":
            return try LineReader(url: url).enumerated().compactMap { n, line in
                guard !line.isEmpty else { return nil }
                do { return try decoder.decode(CatalogLine.self, from: Data(line.utf8)) } catch {
                    throw ReadError(description: "\(url.lastPathComponent):\(n + 1): \(error)")
                }
            }
        case "csv":
            return try csv(url, locations: locations)
        default:
            throw ReadError(description: "unknown file type \(url.pathExtension); use .jsonl, .json or .csv")
        }
    }

    static func csv(_ url: URL, locations: [String]) throws -> [CatalogLine] {
        var rows = LineReader(url: url).makeIterator()
        guard let header = rows.next() else { return [] }
        let columns = fields(header).map { $0.lowercased() }
        func index(_ name: String) -> Int? { columns.firstIndex(of: name.lowercased()) }
        guard let skuI = index("sku"), let titleI = index("title"), let priceI = index("price") else {
            throw ReadError(description: "CSV needs the columns sku, title and price")
        }
        var out: [CatalogLine] = []
        var n = 1
        while let line = rows.next() {
            n += 1
            guard !line.isEmpty else { continue }
            let f = fields(line)
            func value(_ i: Int?) -> String? { i.flatMap { $0 < f.count && !f[$0].isEmpty ? f[$0] : nil } }
            guard let sku = value(skuI), let title = value(titleI) else { throw ReadError(description: "line \(n): sku and title are required") }
            guard let price = value(priceI).flatMap(Int64.init), price >= 0 else {
                throw ReadError(description: "line \(n): price must be a whole number of minor units")
            }
            let currency = value(index("currency")) ?? "USD"
            var levels: [LocationStock] = []
            if let location = value(index("location")) ?? locations.first, let onHand = value(index("onhand")).flatMap(Int.init) {
                levels.append(LocationStock(location: location, level: StockLevel(onHand: onHand,
                                                                                   safetyStock: value(index("safetystock")).flatMap(Int.init) ?? 0)))
            }
            let item = CatalogItem(
                sku: sku, productId: value(index("productid")) ?? sku, title: title, barcode: value(index("barcode")),
                tags: value(index("tags"))?.split(separator: "|").map(String.init) ?? [], price: Money(amount: price, currency: currency)
            )
            out.append(CatalogLine(item: item, levels: levels, listings: []))
        }
        return out
    }

    /// Splits one CSV line, honouring double quotes.
    static func fields(_ line: String) -> [String] {
        var out: [String] = []
        var current = ""
        var quoted = false
        var chars = line.makeIterator()
        while let c = chars.next() {
            if quoted {
                if c == "\"" { quoted = false } else { current.append(c) }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                out.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        out.append(current)
        return out
    }
}
