import Foundation
import ShelfCore
import ShelfLedger

/// What agents ask, answered one way for every protocol: REST, MCP and UCP call these and only translate the result.
/// Failures are `Problem`s (the REST layer renders them as RFC 9457, MCP as tool errors).
struct AgentDesk: Sendable {
    let env: ShelfEnvironment

    /// Shortest and longest hold.
    static let ttlRange = 30...86_400
    /// Largest quantity one question or hold may name.
    static let qtyRange = 1...1_000_000

    /// The token's seller snapshot, once the snapshot is ready.
    func seller(_ token: TokenInfo) throws -> SellerSnapshot {
        guard env.snapshot.isReady else { throw Problem(.notReady, detail: "the snapshot is still being built") }
        guard let seller = env.snapshot.seller(token.seller) else { throw Problem(.notFound, detail: "unknown seller") }
        return seller
    }

    /// An active SKU of the seller, or 404 naming `field`.
    func activeSKU(_ sku: String, in seller: SellerSnapshot, field: String = "sku") throws -> SKUState {
        guard let state = seller.sku(sku), state.item.active else { throw Problem(.notFound, detail: "unknown SKU \(sku)", field: field) }
        return state
    }

    /// A checked destination: a two-letter country and an optional short postal code.
    static func destination(country: String?, postalCode: String?) throws -> Destination {
        let country = country ?? "US"
        guard country.count == 2, country.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            throw Problem(.validation, detail: "country must be an ISO 3166-1 alpha-2 code", field: "country")
        }
        if let postalCode,
           postalCode.isEmpty || postalCode.count > 12
            || !postalCode.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == " " || $0 == "-") }) {
            throw Problem(.validation, detail: "postalCode must be 1–12 letters, digits, spaces or hyphens", field: "postalCode")
        }
        return Destination(country: country.uppercased(), postalCode: postalCode)
    }

    /// A known channel id of the seller (or nil), else 422.
    func channel(_ channel: String?, in seller: SellerSnapshot) throws -> String? {
        guard channel != nil else { return nil }
        return try Self.channel(channel, in: seller.catalog)
    }

    /// A channel id of `catalog` (or nil), else 422.
    static func channel(_ channel: String?, in catalog: SellerCatalog) throws -> String? {
        guard let channel else { return nil }
        guard catalog.channels.contains(where: { $0.id == channel }) else {
            throw Problem(.validation, detail: "unknown channel \(channel)", field: "channel")
        }
        return channel
    }

    static func checkQty(_ qty: Int, field: String = "qty") throws {
        guard qtyRange.contains(qty) else { throw Problem(.validation, detail: "\(field) must be from 1 to 1000000", field: field) }
    }

    /// The offer for `qty` units of one SKU.
    func offer(_ seller: SellerSnapshot, sku: String, qty: Int, destination: Destination, channel: String?) throws -> OfferView {
        try offer(seller, state: try activeSKU(sku, in: seller), qty: qty, destination: destination, channel: channel)
    }

    /// The offer for a SKU state already looked up.
    func offer(_ seller: SellerSnapshot, state: SKUState, qty: Int, destination: Destination, channel: String?) throws -> OfferView {
        try Self.checkQty(qty)
        let builder = env.offerBuilder(seller)
        return builder.offer(for: state, qty: qty, destination: destination, channel: channel,
                             rates: env.velocity.rates(seller: seller.id, sku: state.sku, now: builder.now))
    }

    /// Offers for many lines at once; lines naming the same SKU are summed (bundles); unknown SKUs are listed, not fatal.
    func offers(_ seller: SellerSnapshot, lines: [(sku: String, qty: Int)], destination: Destination, channel: String?) throws -> OfferBatchView {
        guard lines.count <= env.configuration.maxBatchSKUs else {
            throw Problem(.payloadTooLarge, detail: "at most \(env.configuration.maxBatchSKUs) items per batch, got \(lines.count)", field: "items")
        }
        guard !lines.isEmpty else { throw Problem(.validation, detail: "items must not be empty", field: "items") }
        for (i, line) in lines.enumerated() { try Self.checkQty(line.qty, field: "items[\(i)].qty") }
        let builder = env.offerBuilder(seller)
        var order: [String] = []
        var qtyBySKU: [String: Int] = [:]
        for line in lines {
            if qtyBySKU[line.sku] == nil { order.append(line.sku) }
            qtyBySKU[line.sku, default: 0] += line.qty
        }
        var offers: [OfferView] = []
        var missing: [String] = []
        for sku in order {
            guard let state = seller.sku(sku), state.item.active else {
                missing.append(sku)
                continue
            }
            offers.append(builder.offer(for: state, qty: qtyBySKU[sku]!, destination: destination, channel: channel,
                                        rates: env.velocity.rates(seller: seller.id, sku: sku, now: builder.now)))
        }
        return OfferBatchView(offers: offers, notFound: missing)
    }

    /// Delivery options for `qty` units of one SKU to a destination.
    func delivery(_ seller: SellerSnapshot, sku: String, qty: Int, destination: Destination) throws -> DeliveryDetailView {
        try Self.checkQty(qty)
        let state = try activeSKU(sku, in: seller)
        let options = DeliveryPlanner.options(for: state, qty: qty, destination: destination, catalog: seller.catalog, now: env.clock.now())
        return DeliveryDetailView(sku: sku, qty: qty, country: destination.country, postalCode: destination.postalCode,
                                  options: options.map(DeliveryOptionView.init))
    }

    /// A page of active SKUs in SKU order that pass `filter`, continuing after `cursor`.
    func search(_ seller: SellerSnapshot, filter: CatalogFilter, limit: Int, cursor: String?) -> CatalogPageView {
        let now = env.clock.now()
        var items: [CatalogEntryView] = []
        var after = cursor
        while items.count < limit {
            let ids = seller.skuIDs(after: after, limit: 512)
            for id in ids {
                after = id
                guard let state = seller.sku(id), state.item.active, filter.admits(state, now: now) else { continue }
                items.append(CatalogEntryView(state, now: now))
                if items.count == limit { break }
            }
            if ids.count < 512 { break }
        }
        let more = items.count == limit && !seller.skuIDs(after: after, limit: 1).isEmpty
        return CatalogPageView(items: items, nextCursor: more ? after : nil)
    }

    /// What a hold asks for.
    struct HoldRequest: Sendable {
        var sku: String
        var qty: Int
        var ttlSeconds: Int
        var location: String?
        var channel: String?
    }

    /// Places a hold once per idempotency key; `created` is false when the key was seen before (same hold answered).
    func hold(_ token: TokenInfo, _ hold: HoldRequest, key: String, requestHash: String) async throws -> (view: ReservationView, created: Bool) {
        guard !key.isEmpty, key.count <= 200 else {
            throw Problem(.validation, detail: "the idempotency key must be 1–200 characters", field: "Idempotency-Key")
        }
        try Self.checkQty(hold.qty)
        guard Self.ttlRange.contains(hold.ttlSeconds) else {
            throw Problem(.validation, detail: "ttlSeconds must be from \(Self.ttlRange.lowerBound) to \(Self.ttlRange.upperBound)",
                          field: "ttlSeconds")
        }
        guard Validation.isIdentifier(hold.sku) else { throw Problem(.validation, detail: "sku is not a valid SKU", field: "sku") }
        if let location = hold.location, env.snapshot.seller(token.seller)?.catalog.location(location) == nil {
            throw Problem(.validation, detail: "unknown location \(location)", field: "location")
        }
        let now = env.clock.now()
        let draft = ShelfEvent(
            type: .reservationCreated, sku: hold.sku, location: hold.location, channel: hold.channel, qty: hold.qty,
            reservation: Reservation(id: "", sku: hold.sku, location: hold.location ?? "", qty: hold.qty,
                                     expiresAt: now.addingTimeInterval(TimeInterval(hold.ttlSeconds))),
            occurredAt: now
        )
        let command = Command(seller: token.seller, source: "reservation", key: key, requestHash: requestHash, draft: draft)
        switch await env.ledger.submit(command) {
        case .success(let outcome):
            guard let placed = outcome.reservation else { throw Problem(.internalError, detail: "the hold was not recorded") }
            let after = env.clock.now()
            let current = env.snapshot.seller(token.seller)?.sku(placed.sku)
            let active = current?.holds.contains { $0.id == placed.id } == true && placed.isActive(at: after)
            let view = ReservationView(placed, status: active ? "active" : "ended", sequence: outcome.sequence,
                                       available: current?.available(now: after))
            return (view, outcome.status == .accepted)
        case .failure(let error):
            throw Problem.from(error)
        }
    }

    /// An active hold of the seller by id, or 404.
    func activeHold(_ seller: SellerSnapshot, id: String) throws -> Reservation {
        guard let sku = seller.skuForReservation(id), let hold = seller.sku(sku)?.holds.first(where: { $0.id == id }) else {
            throw Problem(.notFound, detail: "no active reservation \(id)", field: "id")
        }
        return hold
    }

    /// Ends an active hold: released (stock back) or committed (into an order).
    func end(_ token: TokenInfo, id: String, committing: Bool) async throws -> ReservationView {
        let hold = try activeHold(try seller(token), id: id)
        let draft = ShelfEvent(type: committing ? .reservationCommitted : .reservationReleased, sku: hold.sku, reservation: hold,
                               occurredAt: env.clock.now())
        switch await env.ledger.submit(Command(seller: token.seller, source: "reservation", draft: draft)) {
        case .success(let outcome):
            return ReservationView(hold, status: committing ? "committed" : "released", sequence: outcome.sequence, available: outcome.available)
        case .failure(let error):
            throw Problem.from(error)
        }
    }
}

/// Which catalog entries a search keeps: free text, tags, a collection, stock and a price band (minor units).
struct CatalogFilter: Sendable {
    var query: String?
    var tags: [String] = []
    var collection: String?
    var inStockOnly = false
    var minPrice: Int64?
    var maxPrice: Int64?

    func admits(_ state: SKUState, now: Date) -> Bool {
        if let query, !query.isEmpty, !Self.matches(state, query.lowercased()) { return false }
        for tag in tags where !state.item.tags.contains(where: { $0.caseInsensitiveCompare(tag) == .orderedSame }) { return false }
        if let collection, !state.item.collections.contains(where: { $0.caseInsensitiveCompare(collection) == .orderedSame }) { return false }
        if inStockOnly && state.available(now: now) <= 0 { return false }
        if minPrice != nil || maxPrice != nil {
            let price = state.item.effectivePrice(at: now).amount
            if let minPrice, price < minPrice { return false }
            if let maxPrice, price > maxPrice { return false }
        }
        return true
    }

    /// Every word of the query must start a word of the SKU, title, tags, collections or option values ("tee" finds
    /// TEE-RED-M, not "steel"). Words are runs of letters and digits, compared case-insensitively.
    static func matches(_ state: SKUState, _ query: String) -> Bool {
        let wanted = words(query)
        guard !wanted.isEmpty else { return true }
        let fields = [state.sku, state.item.title, state.item.productTitle] + state.item.tags + state.item.collections
            + Array(state.item.options.values)
        let have = fields.flatMap(words)
        return wanted.allSatisfy { w in have.contains { $0.hasPrefix(w) } }
    }

    static func words(_ text: String) -> [Substring] {
        text.lowercased().split(whereSeparator: { !($0.isLetter || $0.isNumber) })
    }
}

/// A hold on the wire.
struct ReservationView: Codable, Sendable {
    var id: String
    var sku: String
    var qty: Int
    var location: String
    var expiresAt: Date
    /// Units per location when the hold is split across locations.
    var allocation: [Allocation]?
    var status: String
    var sequence: Int64?
    var available: Int?

    init(_ hold: Reservation, status: String, sequence: Int64? = nil, available: Int? = nil) {
        id = hold.id
        sku = hold.sku
        qty = hold.qty
        location = hold.location
        expiresAt = hold.expiresAt
        allocation = hold.allocation
        self.status = status
        self.sequence = sequence
        self.available = available
    }
}
