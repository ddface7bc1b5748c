import Foundation
import ShelfCore

/// Stock numbers as agents see them (totals over locations, reserved = active holds).
public struct StockView: Codable, Hashable, Sendable {
    public var available: Int
    public var onHand: Int
    public var committed: Int
    public var reserved: Int
    public var unavailable: Int
    public var safetyStock: Int
    public var incoming: Int
    public var oversold: Int

    init(_ level: StockLevel, available: Int, spikeMultiplier: Int) {
        self.available = available
        onHand = level.onHand
        committed = level.committed
        reserved = level.reserved
        unavailable = level.unavailable
        safetyStock = level.safetyStock * spikeMultiplier
        incoming = level.incoming
        oversold = level.oversold
    }
}

/// Freshness of one channel connection.
public struct ChannelFreshnessView: Codable, Hashable, Sendable {
    public var channel: String
    public var connection: String
    public var lastHeardAt: Date?
    public var lagMs: Int64?
    public var source: String?
    /// Units per hour sold on this channel: the posterior mean of its decayed-count rate.
    public var salesPerHour: Double
    /// The channel's learned reporting delay (occurredAt → recorded), once it has reported an order.
    public var reportingDelayMs: Int64?
}

/// How fresh the answer is (DESIGN §3).
public struct FreshnessView: Codable, Hashable, Sendable {
    public var asOf: Date
    public var ageMs: Int64
    public var freshnessScore: Double
    public var channels: [ChannelFreshnessView]
}

/// Delivery options of an offer.
public struct DeliveryView: Codable, Hashable, Sendable {
    public var options: [DeliveryOptionView]
}

/// One delivery option on the wire (dates as `YYYY-MM-DD`).
public struct DeliveryOptionView: Codable, Hashable, Sendable {
    public var carrier: String
    public var service: String
    public var location: String
    public var earliestDate: CivilDate
    public var latestDate: CivilDate
    public var orderBy: Date
    public var handlingDays: Int
    public var transitDays: TransitDays

    init(_ o: DeliveryOption) {
        carrier = o.carrier
        service = o.service
        location = o.location
        earliestDate = o.earliestDate
        latestDate = o.latestDate
        orderBy = o.orderBy
        handlingDays = o.handlingDays
        transitDays = o.transitDays
    }
}

/// The answer to "can I buy N of this, at what price, delivered when — and how sure are you?".
public struct OfferView: Codable, Hashable, Sendable {
    public var sku: String
    public var title: String
    public var qty: Int
    public var purchasable: Bool
    public var stock: StockView
    public var price: Money
    public var channel: String?
    public var delivery: DeliveryView
    public var freshness: FreshnessView
    public var confidence: Double
    public var reasons: [String]
}

/// Builds offers from snapshot values, channel pulses and sales rates. Pure: no I/O, time passed in.
public struct OfferBuilder: Sendable {
    public var catalog: SellerCatalog
    public var pulses: [ChannelPulse]
    /// When this process started knowing the state (a connection never heard from counts from here).
    public var knownSince: Date
    public var now: Date

    public init(catalog: SellerCatalog, pulses: [ChannelPulse], knownSince: Date, now: Date) {
        self.catalog = catalog
        self.pulses = pulses
        self.knownSince = knownSince
        self.now = now
    }

    /// Freshness over the connections of the channels the SKU is listed on (all connections if none match), and the mean
    /// and variance of the units sold but not yet heard of (DESIGN §3, the OpenAPI "Freshness and confidence" section).
    public func freshness(for state: SKUState, rates demand: DemandReading) -> (FreshnessView, unseen: (mean: Double, variance: Double)) {
        let listed = Set(state.listings.map(\.channel))
        let relevant = pulses.filter { listed.contains($0.channel) }
        var channels: [ChannelFreshnessView] = []
        var asOf = now
        for p in relevant {
            let heard = p.lastHeardAt ?? knownSince
            asOf = min(asOf, heard)
            let delay = demand.delays[p.channel]
            channels.append(
                ChannelFreshnessView(
                    channel: p.channel, connection: p.connection, lastHeardAt: p.lastHeardAt,
                    lagMs: p.lastHeardAt.map { Int64(max(0, now.timeIntervalSince($0)) * 1000) }, source: p.source,
                    salesPerHour: (demand.observed[p.channel] == nil ? 0 : demand.rate(p.channel).mean * 3600 * 100).rounded() / 100,
                    reportingDelayMs: delay.map { Int64(($0.mean * 1000).rounded()) }
                )
            )
        }
        let age = max(0, now.timeIntervalSince(asOf))
        return (
            FreshnessView(asOf: asOf, ageMs: Int64(age * 1000), freshnessScore: Confidence.freshnessScore(ageSeconds: age), channels: channels),
            unseenSales(listed: listed, demand: demand)
        )
    }

    /// Units sold but not yet heard of, summed over channels: on each channel the sales of its learned reporting delay (in
    /// flight), plus, when the channel has been silent beyond what its delay and the 30 s horizon explain, the sales of that
    /// extra silence at the rate it had when last heard (it may have stopped reporting).
    func unseenSales(listed: Set<String>, demand: DemandReading) -> (mean: Double, variance: Double) {
        var heardAt: [String: Date] = [:]
        for p in pulses { heardAt[p.channel] = max(heardAt[p.channel] ?? .distantPast, p.lastHeardAt ?? knownSince) }
        var mean = 0.0
        var variance = 0.0
        for channel in listed.union(demand.observed.keys) {
            let delay = demand.delays[channel] ?? ReportingDelay()
            let inFlight = demand.rate(channel).unseen(over: delay.mean)
            mean += inFlight.mean
            variance += inFlight.variance
            guard demand.observed[channel] != nil, let heard = heardAt[channel] else { continue }
            let stallAfter = Confidence.freshnessHorizon + delay.mean + 4 * delay.deviation
            let stall = now.timeIntervalSince(heard) - stallAfter
            guard stall > 0 else { continue }
            let lost = demand.rate(channel, before: stall).unseen(over: stall)
            mean += lost.mean
            variance += lost.variance
        }
        return (mean, variance)
    }

    /// The full offer for `qty` units to `destination`; `channel` selects that channel's price and published quantity.
    /// `delivery: false` leaves the delivery options out (feeds that render shipping their own way).
    public func offer(for state: SKUState, qty: Int, destination: Destination, channel: String?, rates: DemandReading,
                      delivery: Bool = true) -> OfferView {
        let basis = basis(for: state, qty: qty, channel: channel, delivery: delivery) { location in
            DeliveryPlanner.options(from: location, destination: destination, now: now, sellerHolidays: catalog.holidays)
        }
        return offer(from: basis, state: state, rates: rates)
    }

    /// The parts of the offer that the clock does not move until `basis.validUntil`: stock, price, delivery, the reasons that
    /// follow from them. `plan` gives a location's own delivery options at `now` (`DeliveryPlanner.options(from:...)`, or a
    /// cached copy of them); `validUntil` is no later than the `orderBy` of any option `plan` returned.
    func basis(for state: SKUState, qty: Int, channel: String?, delivery: Bool = true,
               plan: (Location) -> [DeliveryOption]) -> OfferBasis {
        let total = state.totalLevel(now: now)
        var available = state.available(now: now)
        var price = state.item.effectivePrice(at: now)
        if let channel, let listing = state.listing(on: channel) {
            available = listing.publishedQuantity(available: available)
            if let p = listing.price { price = p }
        } else if channel != nil {
            available = 0
        }
        let purchasable = state.item.active && available >= qty
        var reasons: [String] = []
        if !state.item.active { reasons.append("discontinued") }
        if channel != nil && state.listing(on: channel!) == nil { reasons.append("not_listed") }
        if let channel, state.listing(on: channel)?.listed == false { reasons.append("listing_paused") }
        if available < qty { reasons.append("insufficient_stock") } else if available - qty < 5 { reasons.append("low_stock") }
        // Holds that expire and sale windows that open or close change stock and price; the next of those instants bounds the basis.
        var validUntil = Date.distantFuture
        for hold in state.holds where hold.expiresAt > now { validUntil = min(validUntil, hold.expiresAt) }
        if let sale = state.item.sale {
            for edge in [sale.startsAt, sale.endsAt] { if let edge, edge > now { validUntil = min(validUntil, edge) } }
        }
        var options: [DeliveryOptionView] = []
        if purchasable && delivery {
            options = DeliveryPlanner.options(for: state, qty: qty, catalog: catalog, now: now) { location in
                let own = plan(location)
                // Each location's options change when its cut-off passes (all of its options share that `orderBy`).
                if let orderBy = own.first?.orderBy, orderBy > now { validUntil = min(validUntil, orderBy) }
                return own
            }.map(DeliveryOptionView.init)
        }
        let view = OfferView(
            sku: state.sku, title: state.item.title, qty: qty, purchasable: purchasable,
            stock: StockView(total, available: available, spikeMultiplier: state.spikeMultiplier), price: price, channel: channel,
            delivery: DeliveryView(options: options),
            freshness: FreshnessView(asOf: now, ageMs: 0, freshnessScore: 1, channels: []), confidence: 0, reasons: reasons
        )
        return OfferBasis(view: view, available: available, validUntil: validUntil)
    }

    /// What the clock moves on every read, from `basis`: freshness, confidence, and the reasons that follow from them
    /// (`stale_channel`, `high_velocity`), in the one order reasons are listed (`oversold` last).
    func dynamics(_ basis: OfferBasis, state: SKUState, rates: DemandReading) -> OfferDynamics {
        let (freshness, unseen) = freshness(for: state, rates: rates)
        let (available, qty) = (basis.available, basis.view.qty)
        let confidence = basis.view.purchasable
            ? Confidence.probability(available: available, qty: qty, unseenMean: unseen.mean, unseenVariance: unseen.variance) : 0
        var reasons = basis.view.reasons
        if freshness.channels.contains(where: { ($0.lagMs ?? Int64.max) > Int64(Confidence.freshnessHorizon * 1000) }) {
            reasons.append("stale_channel")
        }
        let totalRate = rates.totalRate
        if state.spikeMultiplier > 1 || (totalRate * 900 >= Double(max(1, available)) && totalRate > 0) { reasons.append("high_velocity") }
        if state.stock.contains(where: { $0.level.oversold > 0 }) { reasons.append("oversold") }
        return OfferDynamics(confidence: confidence, freshness: freshness, reasons: reasons)
    }

    /// The offer from its basis and what the clock moves.
    func offer(from basis: OfferBasis, state: SKUState, rates: DemandReading) -> OfferView {
        let moved = dynamics(basis, state: state, rates: rates)
        var view = basis.view
        view.confidence = moved.confidence
        view.freshness = moved.freshness
        view.reasons = moved.reasons
        return view
    }
}

/// The part of an offer that stays the same until the SKU, the seller's catalog or `validUntil` changes it. `view` carries
/// the reasons known from stock alone; its freshness and confidence are placeholders that `OfferDynamics` replaces.
struct OfferBasis: Sendable {
    var view: OfferView
    /// Units sellable (on the channel, when one was asked for).
    var available: Int
    /// The first instant at which the clock alone changes the basis (a hold expiring, a sale starting or ending, a cut-off).
    var validUntil: Date
}

/// The parts of an offer computed on every read: they move with the clock.
struct OfferDynamics: Sendable {
    var confidence: Double
    var freshness: FreshnessView
    var reasons: [String]
}
