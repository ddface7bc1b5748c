import Foundation

/// A sale price and the window in which it applies.
public struct SalePrice: Codable, Hashable, Sendable {
    public var price: Money
    public var startsAt: Date?
    public var endsAt: Date?

    public init(price: Money, startsAt: Date? = nil, endsAt: Date? = nil) {
        self.price = price
        self.startsAt = startsAt
        self.endsAt = endsAt
    }

    /// True when `instant` lies in the window.
    public func isActive(at instant: Date) -> Bool {
        if let s = startsAt, instant < s { return false }
        if let e = endsAt, instant >= e { return false }
        return true
    }
}

/// One sellable variant (a SKU) as the seller describes it: titles, variant options, media and its canonical price.
public struct CatalogItem: Codable, Hashable, Sendable {
    public var sku: String
    public var productId: String
    public var title: String
    public var productTitle: String
    public var description: String
    public var brand: String?
    public var options: [String: String]
    public var barcode: String?
    public var mediaURLs: [String]
    public var url: String?
    public var tags: [String]
    public var collections: [String]
    public var supplier: String?
    public var price: Money
    public var compareAtPrice: Money?
    public var sale: SalePrice?
    public var weightGrams: Int?
    /// False once discontinued: it stays in history but is no longer offered.
    public var active: Bool

    public init(
        sku: String, productId: String, title: String, productTitle: String? = nil, description: String = "", brand: String? = nil,
        options: [String: String] = [:], barcode: String? = nil, mediaURLs: [String] = [], url: String? = nil, tags: [String] = [],
        collections: [String] = [], supplier: String? = nil, price: Money, compareAtPrice: Money? = nil, sale: SalePrice? = nil,
        weightGrams: Int? = nil, active: Bool = true
    ) {
        self.sku = sku
        self.productId = productId
        self.title = title
        self.productTitle = productTitle ?? title
        self.description = description
        self.brand = brand
        self.options = options
        self.barcode = barcode
        self.mediaURLs = mediaURLs
        self.url = url
        self.tags = tags
        self.collections = collections
        self.supplier = supplier
        self.price = price
        self.compareAtPrice = compareAtPrice
        self.sale = sale
        self.weightGrams = weightGrams
        self.active = active
    }

    /// The price a buyer pays at `instant`: the sale price inside its window, else the canonical price.
    public func effectivePrice(at instant: Date) -> Money {
        if let sale, sale.isActive(at: instant) { return sale.price }
        return price
    }
}
