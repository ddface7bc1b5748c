import Foundation
import Hummingbird
import ShelfCore
import ShelfLedger

/// Agent reads (scope `read`): offers, catalog, stock, prices, delivery — answered from the snapshot only.
struct ReadController: Sendable {
    let env: ShelfEnvironment
    var desk: AgentDesk { AgentDesk(env: env) }

    var routes: RouteCollection<ShelfRequestContext> {
        let routes = RouteCollection(context: ShelfRequestContext.self)
        routes.requiring(.read, env.tokens)
            .get("offers/:sku", use: offer)
            .post("offers:batch", use: offerBatch)
            .get("catalog", use: catalog)
            .get("stock/:sku", use: stock)
            .get("prices/:sku", use: prices)
            .get("delivery/:sku", use: delivery)
        return routes
    }

    /// The seller snapshot and SKU state for a request, or the right problem.
    func lookup(_ request: Request, _ context: ShelfRequestContext) throws -> (SellerSnapshot, SKUState) {
        let token = try context.authenticated()
        let sku = try context.pathParameter("sku")
        let seller = try desk.seller(token)
        return (seller, try desk.activeSKU(sku, in: seller))
    }

    /// The offer: its template (stock, price, delivery, encoded once per change of the SKU or catalog, see `ReadCaches`) with
    /// freshness, confidence and the reasons that follow from them computed for this instant and spliced in.
    @Sendable func offer(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let (seller, state) = try lookup(request, context)
        let query = request.uri.queryParameters
        let qty = try query.int("qty", default: 1, range: AgentDesk.qtyRange)
        let (catalog, catalogVersion) = seller.versionedCatalog
        let channel = try AgentDesk.channel(query.get("channel"), in: catalog)
        let destination = try query.destination()
        let builder = OfferBuilder(catalog: catalog, pulses: env.pulses.pulses(seller: seller.id), knownSince: env.startedAt, now: env.clock.now())
        let cached = env.reads.offer(seller: seller.id, state: state, qty: qty, destination: destination, channel: channel, builder: builder,
                                     catalogVersion: catalogVersion)
        let rates = env.velocity.rates(seller: seller.id, sku: state.sku, now: builder.now)
        let body = cached.template.render(builder.dynamics(cached.basis, state: state, rates: rates))
        return JSONResponder.buffer(body, contentType: "application/json", to: request, etag: JSONResponder.etag(body))
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
        let token = try context.authenticated()
        let body = try StrictJSON.decode(BatchBody.self, from: try await request.jsonBody(limit: env.configuration.maxBodyBytes),
                                         shape: Self.batchShape)
        let seller = try desk.seller(token)
        let channel = try desk.channel(body.channel, in: seller)
        let destination = try AgentDesk.destination(country: body.country, postalCode: body.postalCode)
        let batch = try desk.offers(seller, lines: body.items.map { ($0.sku, $0.qty ?? 1) }, destination: destination, channel: channel)
        return try JSONResponder.respond(batch, to: request, etag: false)
    }

    @Sendable func catalog(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let token = try context.authenticated()
        let limit = try request.intParameter("limit", default: 50, range: 1...500)
        let query = request.uri.queryParameters.get("q")
        if let query, query.count > 200 { throw Problem(.validation, detail: "q is at most 200 characters", field: "q") }
        let seller = try desk.seller(token)
        let page = desk.search(seller, filter: CatalogFilter(query: query), limit: limit, cursor: request.uri.queryParameters.get("cursor"))
        return try JSONResponder.respond(page, to: request)
    }

    @Sendable func stock(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let token = try context.authenticated()
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
            let (ledger, id) = (env.ledger, seller.id)
            // Replaying reads the ledger (SQLite): blocking work, so off the event loop.
            state = try await EventLoopExecution.offLoop { try await ledger.replay(seller: id, sku: sku, at: parsed) }
            sequence = state?.lastSequence ?? 0
        }
        guard let state else { throw Problem(.notFound, detail: "unknown SKU \(sku)", field: "sku") }
        let pulses = env.pulses.pulses(seller: seller.id)
        let locations = state.stock.map { s -> LocationStockView in
            let level = state.active(s, now: instant)
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
        let body = ByteBuffer(bytes: OfferJSON.encode(view))
        return JSONResponder.buffer(body, contentType: "application/json", to: request, etag: JSONResponder.etag(body))
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
        let query = request.uri.queryParameters
        let qty = try query.int("qty", default: 1, range: AgentDesk.qtyRange)
        let destination = try query.destination()
        let (catalog, catalogVersion) = seller.versionedCatalog
        let answer = try env.reads.delivery(seller: seller.id, state: state, qty: qty, destination: destination, catalog: catalog,
                                            catalogVersion: catalogVersion, now: env.clock.now())
        return JSONResponder.buffer(answer.body, contentType: "application/json", to: request, etag: answer.etag)
    }
}
