import Foundation
import Hummingbird
import ShelfCore
import ShelfLedger

/// Agent reads (scope `read`): offers, catalog, stock, prices, delivery — answered from the snapshot only.
struct ReadController: Sendable {
    let env: ShelfEnvironment

    func register(on router: Router<ShelfRequestContext>) {
        router.get("/v1/offers/:sku", use: offer)
        router.post("/v1/offers:batch", use: offerBatch)
        router.get("/v1/catalog", use: catalog)
        router.get("/v1/stock/:sku", use: stock)
        router.get("/v1/prices/:sku", use: prices)
        router.get("/v1/delivery/:sku", use: delivery)
    }

    /// The seller snapshot and SKU state for a request, or the right problem.
    func lookup(_ request: Request, _ context: ShelfRequestContext) throws -> (SellerSnapshot, SKUState) {
        let token = try request.authenticate(env.tokens, scope: .read)
        let sku = try context.pathParameter("sku")
        guard env.snapshot.isReady else { throw Problem(.notReady, detail: "the snapshot is still being built") }
        guard let seller = env.snapshot.seller(token.seller), let state = seller.sku(sku), state.item.active else {
            throw Problem(.notFound, detail: "unknown SKU \(sku)", field: "sku")
        }
        return (seller, state)
    }

    @Sendable func offer(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let (seller, state) = try lookup(request, context)
        let qty = try request.intParameter("qty", default: 1, range: 1...1_000_000)
        let channel = try channelParameter(request, seller: seller)
        let builder = env.offerBuilder(seller)
        let offer = builder.offer(
            for: state, qty: qty, destination: try request.destination(), channel: channel,
            rates: env.velocity.rates(seller: seller.id, sku: state.sku, now: builder.now)
        )
        return try JSONResponder.respond(offer, to: request, etag: true)
    }

    func channelParameter(_ request: Request, seller: SellerSnapshot) throws -> String? {
        guard let channel = request.uri.queryParameters.get("channel") else { return nil }
        guard seller.catalog.channels.contains(where: { $0.id == channel }) else {
            throw Problem(.validation, detail: "unknown channel \(channel)", field: "channel")
        }
        return channel
    }

    struct BatchBody: Decodable {
        var items: [BatchItem]
        var country: String?
        var postalCode: String?
        var channel: String?
    }

    struct BatchItem: Decodable {
        var sku: String
        var qty: Int?
    }

    static let batchShape: StrictJSON.Shape = .object([
        "items": .array(.object(["sku": .any, "qty": .any])), "country": .any, "postalCode": .any, "channel": .any,
    ])

    @Sendable func offerBatch(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let token = try request.authenticate(env.tokens, scope: .read)
        let body = try StrictJSON.decode(BatchBody.self, from: try await request.jsonBody(limit: env.configuration.maxBodyBytes),
                                         shape: Self.batchShape)
        guard body.items.count <= env.configuration.maxBatchSKUs else {
            throw Problem(.payloadTooLarge, detail: "at most \(env.configuration.maxBatchSKUs) items per batch, got \(body.items.count)",
                          field: "items")
        }
        guard !body.items.isEmpty else { throw Problem(.validation, detail: "items must not be empty", field: "items") }
        for (i, item) in body.items.enumerated() {
            if let qty = item.qty, !(1...1_000_000).contains(qty) {
                throw Problem(.validation, detail: "items[\(i)].qty must be from 1 to 1000000", field: "items[\(i)].qty")
            }
        }
        guard let seller = env.snapshot.seller(token.seller) else { throw Problem(.notFound, detail: "unknown seller") }
        if let channel = body.channel, !seller.catalog.channels.contains(where: { $0.id == channel }) {
            throw Problem(.validation, detail: "unknown channel \(channel)", field: "channel")
        }
        let country = body.country ?? "US"
        guard country.count == 2, country.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            throw Problem(.validation, detail: "country must be an ISO 3166-1 alpha-2 code", field: "country")
        }
        let destination = Destination(country: country, postalCode: body.postalCode)
        let builder = env.offerBuilder(seller)
        var offers: [OfferView] = []
        var missing: [String] = []
        // Lines that share a SKU are summed before checking (bundles).
        var order: [String] = []
        var qtyBySKU: [String: Int] = [:]
        for item in body.items {
            if qtyBySKU[item.sku] == nil { order.append(item.sku) }
            qtyBySKU[item.sku, default: 0] += item.qty ?? 1
        }
        for sku in order {
            guard let state = seller.sku(sku), state.item.active else {
                missing.append(sku)
                continue
            }
            offers.append(builder.offer(for: state, qty: qtyBySKU[sku]!, destination: destination, channel: body.channel,
                                        rates: env.velocity.rates(seller: seller.id, sku: sku, now: builder.now)))
        }
        return try JSONResponder.respond(OfferBatchView(offers: offers, notFound: missing), to: request, etag: false)
    }

    @Sendable func catalog(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let token = try request.authenticate(env.tokens, scope: .read)
        let limit = try request.intParameter("limit", default: 50, range: 1...500)
        let cursor = request.uri.queryParameters.get("cursor")
        let query = request.uri.queryParameters.get("q").map { $0.lowercased() }
        if let query, query.count > 200 { throw Problem(.validation, detail: "q is at most 200 characters", field: "q") }
        guard let seller = env.snapshot.seller(token.seller) else { throw Problem(.notFound, detail: "unknown seller") }
        let now = env.clock.now()
        var items: [CatalogEntryView] = []
        var after = cursor
        var exhausted = false
        while items.count < limit && !exhausted {
            let ids = seller.skuIDs(after: after, limit: 512)
            if ids.count < 512 { exhausted = true }
            for id in ids {
                after = id
                guard let state = seller.sku(id), state.item.active else { continue }
                if let query, !Self.matches(state, query) { continue }
                items.append(CatalogEntryView(state, now: now))
                if items.count == limit { break }
            }
            if ids.isEmpty { exhausted = true }
        }
        let more = items.count == limit && !seller.skuIDs(after: after, limit: 1).isEmpty
        return try JSONResponder.respond(CatalogPageView(items: items, nextCursor: more ? after : nil), to: request)
    }

    static func matches(_ state: SKUState, _ query: String) -> Bool {
        state.sku.lowercased().contains(query) || state.item.title.lowercased().contains(query)
            || state.item.tags.contains { $0.lowercased() == query } || state.item.collections.contains { $0.lowercased().contains(query) }
            || state.item.options.values.contains { $0.lowercased() == query }
    }

    @Sendable func stock(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let token = try request.authenticate(env.tokens, scope: .read)
        let sku = try context.pathParameter("sku")
        guard let seller = env.snapshot.seller(token.seller) else { throw Problem(.notFound, detail: "unknown seller") }
        let now = env.clock.now()
        var instant = now
        var state = seller.sku(sku)
        var sequence = seller.lastSequence
        if let at = request.uri.queryParameters.get("at") {
            guard let parsed = Timestamp.parse(String(at)) else {
                throw Problem(.validation, detail: "at must be an RFC 3339 instant", field: "at")
            }
            instant = parsed
            state = try env.ledger.replay(seller: seller.id, sku: sku, at: parsed)
            sequence = state?.lastSequence ?? 0
        }
        guard let state else { throw Problem(.notFound, detail: "unknown SKU \(sku)", field: "sku") }
        let pulses = env.pulses.pulses(seller: seller.id)
        let locations = state.stock.map { s -> LocationStockView in
            let level = state.level(at: s.location, now: instant)
            return LocationStockView(
                location: s.location, available: level.available(spikeMultiplier: state.spikeMultiplier), onHand: level.onHand,
                committed: level.committed, reserved: level.reserved, unavailable: level.unavailable,
                safetyStock: level.safetyStock * state.spikeMultiplier, incoming: level.incoming, oversold: level.oversold
            )
        }
        let available = state.available(now: instant)
        let channels = state.listings.map { listing -> ChannelStockView in
            let pulse = pulses.first { $0.channel == listing.channel }
            return ChannelStockView(
                channel: listing.channel, connection: pulse?.connection, externalId: listing.externalId, listed: listing.listed,
                buffer: listing.buffer, publishedQuantity: listing.publishedQuantity(available: available), lastPushedAt: pulse?.lastPushedAt,
                lastHeardAt: pulse?.lastHeardAt, lagMs: pulse?.lastHeardAt.map { Int64(max(0, now.timeIntervalSince($0)) * 1000) }
            )
        }
        let view = StockDetailView(
            sku: sku, asOf: instant == now ? (seller.lastRecordedAt ?? now) : instant, sequence: sequence, spikeMultiplier: state.spikeMultiplier,
            total: StockView(state.totalLevel(now: instant), available: available, spikeMultiplier: state.spikeMultiplier),
            locations: locations, channels: channels
        )
        return try JSONResponder.respond(view, to: request)
    }

    @Sendable func prices(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let (_, state) = try lookup(request, context)
        let now = env.clock.now()
        let effective = state.item.effectivePrice(at: now)
        let channels = state.listings.map {
            ChannelPriceView(channel: $0.channel, price: $0.price ?? effective, source: $0.price == nil ? "canonical" : "override")
        }
        let differing = channels.filter { $0.price != effective }.map(\.channel)
        let view = PriceDetailView(
            sku: state.sku, price: state.item.price, compareAtPrice: state.item.compareAtPrice,
            sale: state.item.sale.map { SaleView(price: $0.price, startsAt: $0.startsAt, endsAt: $0.endsAt, active: $0.isActive(at: now)) },
            effectivePrice: effective, channels: channels, consistent: differing.isEmpty, differingChannels: differing
        )
        return try JSONResponder.respond(view, to: request)
    }

    @Sendable func delivery(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let (seller, state) = try lookup(request, context)
        let qty = try request.intParameter("qty", default: 1, range: 1...1_000_000)
        let destination = try request.destination()
        let options = DeliveryPlanner.options(for: state, qty: qty, destination: destination, catalog: seller.catalog, now: env.clock.now())
        let view = DeliveryDetailView(
            sku: state.sku, qty: qty, country: destination.country, postalCode: destination.postalCode,
            options: options.map(DeliveryOptionView.init)
        )
        return try JSONResponder.respond(view, to: request)
    }
}
