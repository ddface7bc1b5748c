import Foundation
import ShelfCore

/// Universal Commerce Protocol catalog shapes (`shopping/types/product.json`, `variant.json`; version `UCPViews.version`).
enum UCPViews {
    static let version = "2026-04-08"

    struct PriceRange: Encodable {
        var min: Money
        var max: Money
    }

    struct SelectedOption: Encodable {
        var name: String
        var label: String
    }

    struct OptionValue: Encodable {
        var label: String
        var available: Bool?
        var exists: Bool?
    }

    struct ProductOption: Encodable {
        var name: String
        var values: [OptionValue]
    }

    struct InputCorrelation: Encodable {
        var id: String
        var match: String
    }

    struct Variant: Encodable {
        var id: String
        var sku: String
        var title: String
        var description: FeedParts.Description
        var url: String?
        var price: Money
        var list_price: Money?
        var availability: FeedParts.Availability
        var options: [SelectedOption]?
        var media: [FeedParts.Media]?
        var barcodes: [FeedParts.Barcode]?
        var tags: [String]?
        var inputs: [InputCorrelation]?
    }

    struct Product: Encodable {
        var id: String
        var title: String
        var description: FeedParts.Description
        var url: String?
        var price_range: PriceRange
        var list_price_range: PriceRange?
        var media: [FeedParts.Media]?
        var options: [ProductOption]?
        var variants: [Variant]
        var tags: [String]?
        var selected: [SelectedOption]?
    }

    struct Capability: Encodable { var version = UCPViews.version }

    /// The `ucp` member of every catalog answer: the protocol version and the capability that answered.
    struct Envelope: Encodable {
        var version = UCPViews.version
        var capabilities: [String: [Capability]]
        init(capability: String) { capabilities = [capability: [Capability()]] }
    }

    struct Pagination: Encodable {
        var has_next_page: Bool
        var cursor: String?
    }

    /// Shelf's facts beside the UCP objects (never inside them): per variant, the units available and how sure Shelf is.
    struct ShelfVariantFacts: Encodable {
        var id: String
        var available: Int
        var confidence: Double
        var freshness: FreshnessView
        var sequence: Int64
    }

    struct ShelfFacts: Encodable { var variants: [ShelfVariantFacts] }

    struct SearchResponse: Encodable {
        var ucp = Envelope(capability: "dev.ucp.shopping.catalog.search")
        var products: [Product]
        var pagination: Pagination
        var shelf: ShelfFacts
    }

    struct LookupResponse: Encodable {
        var ucp = Envelope(capability: "dev.ucp.shopping.catalog.lookup")
        var products: [Product]
        var shelf: ShelfFacts
    }

    struct ProductResponse: Encodable {
        var ucp = Envelope(capability: "dev.ucp.shopping.catalog.lookup")
        var product: Product
        var shelf: ShelfFacts
    }

    /// Maps Shelf's status to UCP's well-known values (UCP has no "limited": limited stock is in stock).
    static func status(_ s: AvailabilityStatus) -> String {
        s == .limitedStock ? AvailabilityStatus.inStock.rawValue : s.rawValue
    }

    static func variant(_ f: ProductFacts, inputs: [InputCorrelation]? = nil) -> Variant {
        let item = f.state.item
        return Variant(
            id: item.sku, sku: item.sku, title: item.title,
            description: FeedParts.Description(plain: item.description.isEmpty ? item.title : item.description), url: item.url,
            price: f.price, list_price: f.listPrice,
            availability: FeedParts.Availability(available: f.status.isAvailable, status: status(f.status)),
            options: item.options.isEmpty ? nil : item.options.keys.sorted().map { SelectedOption(name: $0, label: item.options[$0]!) },
            media: item.mediaURLs.isEmpty ? nil : item.mediaURLs.map { FeedParts.Media(url: $0) },
            barcodes: item.barcode.map { [FeedParts.Barcode($0)] },
            tags: item.tags.isEmpty ? nil : item.tags, inputs: inputs
        )
    }

    /// One product from its variants' facts (at least one); `featured` goes first; `selected` fills option availability signals.
    static func product(_ facts: [ProductFacts], featured: String? = nil, inputs: [String: [InputCorrelation]] = [:],
                        detail: Bool = false) -> Product {
        var ordered = facts
        if let featured, let i = ordered.firstIndex(where: { $0.state.sku == featured }) { ordered.insert(ordered.remove(at: i), at: 0) }
        let first = ordered[0].state.item
        let prices = ordered.map(\.price)
        let lists = ordered.compactMap(\.listPrice)
        let names = Set(ordered.flatMap { $0.state.item.options.keys }).sorted()
        let selected = detail ? first.options.keys.sorted().map { SelectedOption(name: $0, label: first.options[$0]!) } : nil
        let options = names.map { name -> ProductOption in
            let labels = Set(ordered.compactMap { $0.state.item.options[name] }).sorted()
            return ProductOption(name: name, values: labels.map { label in
                guard detail else { return OptionValue(label: label) }
                // Relative to the featured variant's other selections.
                let matching = ordered.filter { f in
                    f.state.item.options[name] == label && first.options.allSatisfy { $0.key == name || f.state.item.options[$0.key] == $0.value }
                }
                return OptionValue(label: label, available: matching.contains { $0.status.isAvailable }, exists: !matching.isEmpty)
            })
        }
        return Product(
            id: first.productId, title: first.productTitle.isEmpty ? first.title : first.productTitle,
            description: FeedParts.Description(plain: first.description.isEmpty ? first.productTitle : first.description),
            url: first.url.map { $0.split(separator: "?").first.map(String.init) ?? $0 },
            price_range: range(prices), list_price_range: lists.isEmpty ? nil : range(lists),
            media: first.mediaURLs.first.map { [FeedParts.Media(url: $0)] }, options: options.isEmpty ? nil : options,
            variants: ordered.map { variant($0, inputs: inputs[$0.state.sku]) },
            tags: first.tags.isEmpty ? nil : first.tags, selected: selected
        )
    }

    static func range(_ prices: [Money]) -> PriceRange {
        let sorted = prices.sorted { $0.amount < $1.amount }
        return PriceRange(min: sorted.first!, max: sorted.last!)
    }

    static func shelfFacts(_ facts: [ProductFacts]) -> ShelfFacts {
        ShelfFacts(variants: facts.map {
            ShelfVariantFacts(id: $0.state.sku, available: $0.available, confidence: $0.confidence, freshness: $0.freshness,
                              sequence: $0.state.lastSequence)
        })
    }
}
