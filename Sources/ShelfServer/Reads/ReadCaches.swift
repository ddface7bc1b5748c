import Foundation
import NIOCore
import ShelfCore
import ShelfLedger

/// Answers computed once per change and reused until the SKU, the seller's catalog or a known instant changes them
/// (`AnswerStamp`): encoded offers with the clock-dependent values left open, delivery plans per location and zone, and
/// whole delivery answers. Every read checks the stamp against the snapshot it reads, so a read right after a committed
/// event computes afresh; memory is bounded by the budgets.
public final class ReadCaches: Sendable {
    /// An offer question: the SKU of one seller, and every request parameter the offer depends on.
    struct OfferKey: Hashable, Sendable {
        var seller: String
        var sku: String
        var qty: Int
        /// `Destination.zone`: the offer depends on the destination through it alone.
        var zone: String
        var channel: String?
    }

    /// One location's delivery options to a zone.
    struct PlanKey: Hashable, Sendable {
        var seller: String
        var location: String
        var zone: String
    }

    /// A delivery question (the answer echoes country and postal code, so both are part of it).
    struct DeliveryKey: Hashable, Sendable {
        var seller: String
        var sku: String
        var qty: Int
        var country: String
        var postalCode: String?
    }

    /// A cached offer: the template to splice the clock's values into, and the basis they are computed from.
    struct CachedOffer: Sendable {
        var template: OfferTemplate
        var basis: OfferBasis
    }

    /// An encoded answer with its strong ETag.
    struct EncodedAnswer: Sendable {
        var body: ByteBuffer
        var etag: String
    }

    let offers: AnswerCache<OfferKey, CachedOffer>
    let plans: AnswerCache<PlanKey, [DeliveryOption]>
    let deliveries: AnswerCache<DeliveryKey, EncodedAnswer>

    /// Default memory budget of all three caches together.
    public static let defaultBudget = 64 << 20

    /// `budget`: bytes the caches hold at most, together (offers get half, delivery answers a quarter, plans a quarter).
    public init(budget: Int = ReadCaches.defaultBudget) {
        offers = AnswerCache(budget: budget / 2)
        plans = AnswerCache(budget: budget / 4)
        deliveries = AnswerCache(budget: budget / 4)
    }

    /// Offers answered from the cache, and offers computed (a miss: first read, or the SKU, catalog or clock moved on).
    public var offerHits: Int { offers.hits }
    public var offerMisses: Int { offers.misses }

    /// `location`'s own delivery options to `destination` at `now` (`DeliveryPlanner.options(from:...)`), computed once per
    /// catalog version and cut-off.
    func plan(seller: String, location: Location, destination: Destination, catalog: SellerCatalog, catalogVersion: UInt64,
              now: Date) -> [DeliveryOption] {
        let key = PlanKey(seller: seller, location: location.id, zone: destination.zone)
        if let cached = plans.value(key, skuSequence: 0, catalogVersion: catalogVersion, now: now) { return cached }
        let options = DeliveryPlanner.options(from: location, destination: destination, now: now, sellerHolidays: catalog.holidays)
        let validUntil = options.first.map { $0.orderBy > now ? $0.orderBy : now } ?? .distantFuture
        plans.store(key, options, stamp: AnswerStamp(skuSequence: 0, catalogVersion: catalogVersion, computedAt: now, validUntil: validUntil),
                    bytes: options.count * 160)
        return options
    }

    /// The offer template and basis for one question, from the cache when its stamp still holds, else computed by `builder`
    /// (whose `now` and catalog are the read's) and kept.
    func offer(seller: String, state: SKUState, qty: Int, destination: Destination, channel: String?, builder: OfferBuilder,
               catalogVersion: UInt64) -> CachedOffer {
        let key = OfferKey(seller: seller, sku: state.sku, qty: qty, zone: destination.zone, channel: channel)
        if let cached = offers.value(key, skuSequence: state.lastSequence, catalogVersion: catalogVersion, now: builder.now) {
            return cached
        }
        var basis = builder.basis(for: state, qty: qty, channel: channel) { location in
            plan(seller: seller, location: location, destination: destination, catalog: builder.catalog, catalogVersion: catalogVersion,
                 now: builder.now)
        }
        let template = OfferJSON.template(basis.view)
        // The template holds the delivery options as bytes; the basis needs only what the clock's values are computed from.
        basis.view.delivery.options = []
        let cached = CachedOffer(template: template, basis: basis)
        offers.store(key, cached, stamp: AnswerStamp(skuSequence: state.lastSequence, catalogVersion: catalogVersion,
                                                     computedAt: builder.now, validUntil: basis.validUntil),
                     bytes: template.byteCount + 256)
        return cached
    }

    /// The encoded delivery answer (`GET /v1/delivery/{sku}`) for one question, from the cache when its stamp still holds.
    func delivery(seller: String, state: SKUState, qty: Int, destination: Destination, catalog: SellerCatalog, catalogVersion: UInt64,
                  now: Date) throws -> EncodedAnswer {
        let key = DeliveryKey(seller: seller, sku: state.sku, qty: qty, country: destination.country, postalCode: destination.postalCode)
        if let cached = deliveries.value(key, skuSequence: state.lastSequence, catalogVersion: catalogVersion, now: now) {
            return cached
        }
        // Holds that expire change the stock each location can ship.
        var validUntil = Date.distantFuture
        for hold in state.holds where hold.expiresAt > now { validUntil = min(validUntil, hold.expiresAt) }
        let options = DeliveryPlanner.options(for: state, qty: qty, catalog: catalog, now: now) { location in
            let own = plan(seller: seller, location: location, destination: destination, catalog: catalog, catalogVersion: catalogVersion,
                           now: now)
            if let orderBy = own.first?.orderBy, orderBy > now { validUntil = min(validUntil, orderBy) }
            return own
        }
        let view = DeliveryDetailView(sku: state.sku, qty: qty, country: destination.country, postalCode: destination.postalCode,
                                      options: options.map(DeliveryOptionView.init))
        let data = try ShelfJSON.encode(view)
        let answer = EncodedAnswer(body: ByteBuffer(bytes: data), etag: JSONResponder.etag(data))
        deliveries.store(key, answer, stamp: AnswerStamp(skuSequence: state.lastSequence, catalogVersion: catalogVersion, computedAt: now,
                                                         validUntil: validUntil),
                         bytes: data.count + answer.etag.utf8.count)
        return answer
    }
}
