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
///
/// Stored compactly: the text a product's variants share (product id and title, description, brand, media, tags, collections,
/// supplier, weight, currency) sits in one immutable `ItemText` that equal items share (the snapshot hands a variant the
/// instance of its product's other variants), and the rarely set sale price (and a compare-at price in another currency) sits
/// out of line. Every field reads and writes as a plain property.
public struct CatalogItem: Codable, Hashable, Sendable {
    public var sku: String
    public var title: String
    public var options: [String: String]
    public var barcode: String?
    public var url: String?
    /// Shared text (copy on write: a setter below makes a new instance).
    private(set) var text: ItemText
    private var priceAmount: Int64
    private var extra: ItemExtra?
    /// The compare-at amount when it is in the price's currency (else it lives in `extra`).
    private var compareAtAmount: Int64?
    /// False once discontinued: it stays in history but is no longer offered.
    public var active: Bool

    public init(
        sku: String, productId: String, title: String, productTitle: String? = nil, description: String = "", brand: String? = nil,
        options: [String: String] = [:], barcode: String? = nil, mediaURLs: [String] = [], url: String? = nil, tags: [String] = [],
        collections: [String] = [], supplier: String? = nil, price: Money, compareAtPrice: Money? = nil, sale: SalePrice? = nil,
        weightGrams: Int? = nil, active: Bool = true
    ) {
        self.sku = sku
        self.title = title
        self.options = options
        self.barcode = barcode
        self.url = url
        text = ItemText(
            productId: productId, productTitle: productTitle ?? title, description: description, brand: brand, mediaURLs: mediaURLs,
            tags: tags, collections: collections, supplier: supplier, currency: price.currency, weightGrams: weightGrams
        )
        priceAmount = price.amount
        self.active = active
        setPrices(compareAt: compareAtPrice, sale: sale)
    }

    public var productId: String {
        get { text.productId }
        set { text = text.with { $0.productId = newValue } }
    }
    public var productTitle: String {
        get { text.productTitle }
        set { text = text.with { $0.productTitle = newValue } }
    }
    public var description: String {
        get { text.description }
        set { text = text.with { $0.description = newValue } }
    }
    public var brand: String? {
        get { text.brand }
        set { text = text.with { $0.brand = newValue } }
    }
    public var mediaURLs: [String] {
        get { text.mediaURLs }
        set { text = text.with { $0.mediaURLs = newValue } }
    }
    public var tags: [String] {
        get { text.tags }
        set { text = text.with { $0.tags = newValue } }
    }
    public var collections: [String] {
        get { text.collections }
        set { text = text.with { $0.collections = newValue } }
    }
    public var supplier: String? {
        get { text.supplier }
        set { text = text.with { $0.supplier = newValue } }
    }
    public var weightGrams: Int? {
        get { text.weightGrams }
        set { text = text.with { $0.weightGrams = newValue } }
    }
    public var price: Money {
        get { Money(amount: priceAmount, currency: text.currency) }
        set {
            let (compareAt, sale) = (compareAtPrice, self.sale)
            priceAmount = newValue.amount
            if newValue.currency != text.currency { text = text.with { $0.currency = newValue.currency } }
            setPrices(compareAt: compareAt, sale: sale)
        }
    }
    public var compareAtPrice: Money? {
        get { extra?.compareAt ?? compareAtAmount.map { Money(amount: $0, currency: text.currency) } }
        set { setPrices(compareAt: newValue, sale: sale) }
    }
    public var sale: SalePrice? {
        get { extra?.sale }
        set { setPrices(compareAt: compareAtPrice, sale: newValue) }
    }

    /// Keeps the canonical layout: a compare-at price in the price's currency inline, anything else out of line.
    private mutating func setPrices(compareAt: Money?, sale: SalePrice?) {
        let inline = compareAt.map { $0.currency == text.currency } ?? true
        compareAtAmount = inline ? compareAt?.amount : nil
        let outOfLine = inline ? nil : compareAt
        extra = outOfLine == nil && sale == nil ? nil : ItemExtra(compareAt: outOfLine, sale: sale)
    }

    /// Uses `other`'s shared text when it is equal to this item's (so equal text is held once).
    public mutating func shareText(with other: CatalogItem) {
        if text !== other.text, text == other.text { text = other.text }
    }

    /// Uses `shared` as this item's text when it is equal (the interning step of a bulk load).
    mutating func shareText(_ shared: ItemText) {
        if text !== shared, text == shared { text = shared }
    }

    /// The price a buyer pays at `instant`: the sale price inside its window, else the canonical price.
    public func effectivePrice(at instant: Date) -> Money {
        if let sale, sale.isActive(at: instant) { return sale.price }
        return price
    }

    enum CodingKeys: String, CodingKey {
        case sku, productId, title, productTitle, description, brand, options, barcode, mediaURLs, url, tags, collections, supplier,
            price, compareAtPrice, sale, weightGrams, active
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            sku: try c.decode(String.self, forKey: .sku), productId: try c.decode(String.self, forKey: .productId),
            title: try c.decode(String.self, forKey: .title), productTitle: try c.decode(String.self, forKey: .productTitle),
            description: try c.decode(String.self, forKey: .description), brand: try c.decodeIfPresent(String.self, forKey: .brand),
            options: try c.decode([String: String].self, forKey: .options), barcode: try c.decodeIfPresent(String.self, forKey: .barcode),
            mediaURLs: try c.decode([String].self, forKey: .mediaURLs), url: try c.decodeIfPresent(String.self, forKey: .url),
            tags: try c.decode([String].self, forKey: .tags), collections: try c.decode([String].self, forKey: .collections),
            supplier: try c.decodeIfPresent(String.self, forKey: .supplier), price: try c.decode(Money.self, forKey: .price),
            compareAtPrice: try c.decodeIfPresent(Money.self, forKey: .compareAtPrice),
            sale: try c.decodeIfPresent(SalePrice.self, forKey: .sale), weightGrams: try c.decodeIfPresent(Int.self, forKey: .weightGrams),
            active: try c.decode(Bool.self, forKey: .active)
        )
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(sku, forKey: .sku)
        try c.encode(productId, forKey: .productId)
        try c.encode(title, forKey: .title)
        try c.encode(productTitle, forKey: .productTitle)
        try c.encode(description, forKey: .description)
        try c.encodeIfPresent(brand, forKey: .brand)
        try c.encode(options, forKey: .options)
        try c.encodeIfPresent(barcode, forKey: .barcode)
        try c.encode(mediaURLs, forKey: .mediaURLs)
        try c.encodeIfPresent(url, forKey: .url)
        try c.encode(tags, forKey: .tags)
        try c.encode(collections, forKey: .collections)
        try c.encodeIfPresent(supplier, forKey: .supplier)
        try c.encode(price, forKey: .price)
        try c.encodeIfPresent(compareAtPrice, forKey: .compareAtPrice)
        try c.encodeIfPresent(sale, forKey: .sale)
        try c.encodeIfPresent(weightGrams, forKey: .weightGrams)
        try c.encode(active, forKey: .active)
    }
}

/// The part of a catalog item that a product's variants usually share; immutable, compared by content.
final class ItemText: Hashable, Sendable {
    struct Fields {
        var productId: String
        var productTitle: String
        var description: String
        var brand: String?
        var mediaURLs: [String]
        var tags: [String]
        var collections: [String]
        var supplier: String?
        var currency: String
        var weightGrams: Int?
    }

    let fields: Fields
    var productId: String { fields.productId }
    var productTitle: String { fields.productTitle }
    var description: String { fields.description }
    var brand: String? { fields.brand }
    var mediaURLs: [String] { fields.mediaURLs }
    var tags: [String] { fields.tags }
    var collections: [String] { fields.collections }
    var supplier: String? { fields.supplier }
    var currency: String { fields.currency }
    var weightGrams: Int? { fields.weightGrams }

    init(
        productId: String, productTitle: String, description: String, brand: String?, mediaURLs: [String], tags: [String],
        collections: [String], supplier: String?, currency: String, weightGrams: Int?
    ) {
        fields = Fields(productId: productId, productTitle: productTitle, description: description, brand: brand, mediaURLs: mediaURLs,
                        tags: tags, collections: collections, supplier: supplier, currency: currency, weightGrams: weightGrams)
    }

    private init(_ fields: Fields) { self.fields = fields }

    /// A copy with `change` applied.
    func with(_ change: (inout Fields) -> Void) -> ItemText {
        var f = fields
        change(&f)
        return ItemText(f)
    }

    static func == (a: ItemText, b: ItemText) -> Bool {
        if a === b { return true }
        let (x, y) = (a.fields, b.fields)
        return x.productId == y.productId && x.productTitle == y.productTitle && x.description == y.description && x.brand == y.brand
            && x.mediaURLs == y.mediaURLs && x.tags == y.tags && x.collections == y.collections && x.supplier == y.supplier
            && x.currency == y.currency && x.weightGrams == y.weightGrams
    }

    func hash(into h: inout Hasher) {
        h.combine(fields.productId)
        h.combine(fields.productTitle)
        h.combine(fields.description)
        h.combine(fields.brand)
        h.combine(fields.mediaURLs)
        h.combine(fields.tags)
        h.combine(fields.collections)
        h.combine(fields.supplier)
        h.combine(fields.currency)
        h.combine(fields.weightGrams)
    }
}

/// Prices few items carry: a sale, or a compare-at price in a currency other than the price's.
final class ItemExtra: Hashable, Sendable {
    let compareAt: Money?
    let sale: SalePrice?

    init(compareAt: Money?, sale: SalePrice?) {
        self.compareAt = compareAt
        self.sale = sale
    }

    static func == (a: ItemExtra, b: ItemExtra) -> Bool { a === b || (a.compareAt == b.compareAt && a.sale == b.sale) }

    func hash(into h: inout Hasher) {
        h.combine(compareAt)
        h.combine(sale)
    }
}
