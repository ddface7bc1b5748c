import Foundation
import ShelfCore

/// A SKU as a schema.org `Product` with one `Offer` (JSON-LD). Shelf's freshness and confidence ride in the `shelf:` namespace,
/// which schema.org consumers ignore.
struct SchemaOrgProduct: Encodable {
    struct Brand: Encodable {
        var type = "Brand"
        var name: String
        enum CodingKeys: String, CodingKey { case type = "@type", name }
    }

    struct QuantitativeValue: Encodable {
        var type = "QuantitativeValue"
        var value: Int?
        var minValue: Int?
        var maxValue: Int?
        var unitCode: String?
        enum CodingKeys: String, CodingKey { case type = "@type", value, minValue, maxValue, unitCode }
    }

    struct MonetaryAmount: Encodable {
        var type = "MonetaryAmount"
        var value: String
        var currency: String
        enum CodingKeys: String, CodingKey { case type = "@type", value, currency }
    }

    struct DefinedRegion: Encodable {
        var type = "DefinedRegion"
        var addressCountry: String
        var postalCode: String?
        enum CodingKeys: String, CodingKey { case type = "@type", addressCountry, postalCode }
    }

    struct ShippingDeliveryTime: Encodable {
        var type = "ShippingDeliveryTime"
        var handlingTime: QuantitativeValue
        var transitTime: QuantitativeValue
        /// Local order cut-off with the location's UTC offset, e.g. `14:00:00-08:00`.
        var cutoffTime: String
        enum CodingKeys: String, CodingKey { case type = "@type", handlingTime, transitTime, cutoffTime }
    }

    struct OfferShippingDetails: Encodable {
        var type = "OfferShippingDetails"
        var shippingLabel: String
        var shippingOrigin: DefinedRegion
        var shippingDestination: DefinedRegion
        var shippingRate: MonetaryAmount?
        var deliveryTime: ShippingDeliveryTime
        enum CodingKeys: String, CodingKey {
            case type = "@type", shippingLabel, shippingOrigin, shippingDestination, shippingRate, deliveryTime
        }
    }

    struct Offer: Encodable {
        var type = "Offer"
        var sku: String
        var url: String?
        var price: String
        var priceCurrency: String
        var priceValidUntil: String
        var availability: String
        var itemCondition = "https://schema.org/NewCondition"
        var inventoryLevel: QuantitativeValue
        var shippingDetails: [OfferShippingDetails]
        enum CodingKeys: String, CodingKey {
            case type = "@type", sku, url, price, priceCurrency, priceValidUntil, availability, itemCondition, inventoryLevel, shippingDetails
        }
    }

    var context: [JSONValue] = [.string("https://schema.org"), .object(["shelf": .string("https://shelf.dev/ns#")])]
    var type = "Product"
    var id: String
    var sku: String
    var productGroupID: String
    var name: String
    var description: String?
    var brand: Brand?
    var gtin: String?
    var image: [String]?
    var url: String?
    var offers: Offer
    var confidence: Double
    var asOf: Date
    var ageMs: Int64
    var sequence: Int64

    enum CodingKeys: String, CodingKey {
        case context = "@context", type = "@type", id = "@id", sku, productGroupID = "inProductGroupWithID", name, description, brand, gtin
        case image, url, offers, confidence = "shelf:confidence", asOf = "shelf:asOf", ageMs = "shelf:ageMs", sequence = "shelf:sequence"
    }

    /// How long a price is promised when no sale ends or starts sooner.
    static let priceHorizon: TimeInterval = 30 * 86_400

    init(_ facts: ProductFacts, catalog: SellerCatalog, destination: Destination, now: Date) {
        let item = facts.state.item
        id = item.url ?? "urn:shelf:sku:\(item.sku)"
        sku = item.sku
        productGroupID = item.productId
        name = item.title
        description = item.description.isEmpty ? nil : item.description
        brand = item.brand.map { Brand(name: $0) }
        gtin = item.barcode
        image = item.mediaURLs.isEmpty ? nil : item.mediaURLs
        url = item.url
        confidence = facts.confidence
        asOf = facts.freshness.asOf
        ageMs = facts.freshness.ageMs
        sequence = facts.state.lastSequence
        var until = now.addingTimeInterval(Self.priceHorizon)
        if let sale = item.sale {
            if sale.isActive(at: now), let end = sale.endsAt { until = min(until, end) }
            if let start = sale.startsAt, start > now { until = min(until, start) }
        }
        let shipping = DeliveryPlanner.options(for: facts.state, qty: 1, destination: destination, catalog: catalog, now: now).compactMap {
            option -> OfferShippingDetails? in
            guard let location = catalog.location(option.location) else { return nil }
            let rate = location.services.first { $0.carrier == option.carrier && $0.service == option.service }?.rate
            return OfferShippingDetails(
                shippingLabel: "\(option.carrier) \(option.service)",
                shippingOrigin: DefinedRegion(addressCountry: location.country, postalCode: location.postalCode),
                shippingDestination: DefinedRegion(addressCountry: destination.country, postalCode: destination.postalCode),
                shippingRate: rate.map { MonetaryAmount(value: $0.decimalString, currency: $0.currency) },
                deliveryTime: ShippingDeliveryTime(
                    handlingTime: QuantitativeValue(minValue: location.handlingDays, maxValue: location.handlingDays, unitCode: "DAY"),
                    transitTime: QuantitativeValue(minValue: option.transitDays.min, maxValue: option.transitDays.max, unitCode: "DAY"),
                    cutoffTime: Self.cutoffTime(location, at: now)
                )
            )
        }
        offers = Offer(
            sku: item.sku, url: item.url, price: facts.price.decimalString, priceCurrency: facts.price.currency,
            priceValidUntil: Self.utcDate(until), availability: facts.status.schemaOrg,
            inventoryLevel: QuantitativeValue(value: facts.available), shippingDetails: shipping
        )
    }

    /// `HH:MM:SS±hh:mm` of the location's cut-off in its time zone's offset at `now`.
    static func cutoffTime(_ location: Location, at now: Date) -> String {
        let parts = location.cutoff.split(separator: ":")
        let clock = parts.count == 2 ? "\(parts[0]):\(parts[1]):00" : "14:00:00"
        let seconds = TimeZone(identifier: location.timeZone)?.secondsFromGMT(for: now) ?? 0
        let sign = seconds < 0 ? "-" : "+"
        let hours = abs(seconds) / 3600
        let minutes = abs(seconds) % 3600 / 60
        return clock + sign + (hours < 10 ? "0" : "") + String(hours) + ":" + (minutes < 10 ? "0" : "") + String(minutes)
    }

    /// The UTC calendar date of an instant, `YYYY-MM-DD`.
    static func utcDate(_ date: Date) -> String { String(Timestamp.format(date).prefix(10)) }
}
