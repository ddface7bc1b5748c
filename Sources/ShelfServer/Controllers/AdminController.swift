import Foundation
import Hummingbird
import ShelfAutomation
import ShelfCore
import ShelfLedger
import ShelfChannels

/// Seller admin (scope `admin`): catalog upsert/delete and bulk import, locations, listings, tokens, connections, audit trail.
struct AdminController: Sendable {
    let env: ShelfEnvironment
    /// Most SKUs in one `POST /v1/skus:import` (one transaction).
    static let maxImport = 500

    var routes: RouteCollection<ShelfRequestContext> {
        let routes = RouteCollection(context: ShelfRequestContext.self)
        let read = routes.requiring(.read, env.tokens)
        read.get("locations", use: listLocations)
        read.get("channels", use: listChannels)
        let admin = routes.requiring(.admin, env.tokens)
        admin.put("skus/:sku", use: upsertSKU)
        admin.delete("skus/:sku", use: deleteSKU)
        admin.post("skus:import", use: importSKUs)
        admin.put("skus/:sku/listings/:channel", use: upsertListing)
        admin.put("locations/:id", use: upsertLocation)
        admin.put("channels/:id", use: upsertChannel)
        admin.post("tokens", use: createToken)
        admin.get("tokens", use: listTokens)
        admin.delete("tokens/:id", use: revokeToken)
        admin.get("connections", use: listConnections)
        admin.get("connections/:id", use: getConnection)
        admin.put("connections/:id", use: putConnection)
        admin.delete("connections/:id", use: deleteConnection)
        admin.get("audit", use: audit)
        admin.get("settings/spikes", use: getSpikePolicy)
        admin.put("settings/spikes", use: putSpikePolicy)
        admin.get("quarantine", use: listQuarantine)
        return routes
    }

    // MARK: Demand-spike thresholds

    @Sendable func getSpikePolicy(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let (token, _) = try admin(context)
        return try JSONResponder.respond(await env.spikes.policy(for: token.seller), to: request, etag: false)
    }

    @Sendable func putSpikePolicy(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let (token, _) = try admin(context)
        let p = try StrictJSON.decode(DemandSpikeMonitor.Policy.self, from: try await request.jsonBody(limit: 4096), shape: .object([
            "window": .any, "baseline": .any, "factor": .any, "multiplier": .any, "minimumUnits": .any, "baselineFloorPerHour": .any,
        ]))
        func check(_ ok: Bool, _ field: String, _ reason: String) throws {
            if !ok { throw Problem(.validation, detail: "\(field) \(reason)", field: field) }
        }
        try check((60...86_400).contains(p.window), "window", "must be from 60 to 86400 seconds")
        try check(p.baseline > p.window && p.baseline <= 604_800, "baseline", "must be longer than window and at most 604800 seconds")
        try check(p.factor >= 1.1 && p.factor <= 100, "factor", "must be from 1.1 to 100")
        try check((1...10).contains(p.multiplier), "multiplier", "must be from 1 to 10")
        try check((1...1_000_000).contains(p.minimumUnits), "minimumUnits", "must be from 1 to 1000000")
        try check(p.baselineFloorPerHour >= 0 && p.baselineFloorPerHour <= 1_000_000, "baselineFloorPerHour", "must be from 0 to 1000000")
        try await env.spikes.setPolicy(p, for: token.seller)
        return try JSONResponder.respond(p, to: request, etag: false)
    }

    /// One SKU kept out of the snapshot at start-up, and why.
    struct QuarantinedSKU: Encodable {
        var sku: String
        var reason: String
    }

    @Sendable func listQuarantine(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let (_, seller) = try admin(context)
        let list = seller.quarantined.sorted { $0.key < $1.key }.map { QuarantinedSKU(sku: $0.key, reason: $0.value) }
        return try JSONResponder.respond(["quarantined": list], to: request, etag: false)
    }

    func admin(_ context: ShelfRequestContext) throws -> (TokenInfo, SellerSnapshot) {
        let token = try context.authenticated()
        guard let seller = env.snapshot.seller(token.seller) else { throw Problem(.notFound, detail: "unknown seller") }
        return (token, seller)
    }

    func record(_ commands: [Command], request: Request, status: HTTPResponse.Status = .ok) async throws -> Response {
        var sequences: [Int64] = []
        for result in await env.ledger.submit(commands) {
            switch result {
            case .success(let outcome): sequences.append(outcome.sequence)
            case .failure(let error): throw Problem.from(error)
            }
        }
        return try JSONResponder.respond(Recorded(status: "accepted", sequences: sequences), to: request, status: status, etag: false)
    }

    struct Recorded: Encodable {
        var status: String
        var sequences: [Int64]
    }

    // MARK: SKUs

    /// A SKU as the admin API takes it.
    struct SKUBody: Decodable {
        var sku: String?
        var productId: String
        var title: String
        var productTitle: String?
        var description: String?
        var brand: String?
        var options: [String: String]?
        var barcode: String?
        var mediaURLs: [String]?
        var url: String?
        var tags: [String]?
        var collections: [String]?
        var supplier: String?
        var price: Money
        var compareAtPrice: Money?
        var sale: SalePrice?
        var weightGrams: Int?
        var levels: [LevelBody]?
        var listings: [ListingBody]?
    }

    struct LevelBody: Decodable {
        var location: String
        var onHand: Int
        var unavailable: Int?
        var safetyStock: Int?
        var incoming: Int?
    }

    struct ListingBody: Decodable {
        var channel: String?
        var externalId: String?
        var listed: Bool?
        var buffer: Int?
        var price: Money?
    }

    static let listingShape: StrictJSON.Shape = .object([
        "channel": .any, "externalId": .any, "listed": .any, "buffer": .any, "price": StrictJSON.money,
    ])
    static let skuShape: StrictJSON.Shape = .object([
        "sku": .any, "productId": .any, "title": .any, "productTitle": .any, "description": .any, "brand": .any, "options": .any,
        "barcode": .any, "mediaURLs": .any, "url": .any, "tags": .any, "collections": .any, "supplier": .any, "price": StrictJSON.money,
        "compareAtPrice": StrictJSON.money, "sale": .object(["price": StrictJSON.money, "startsAt": .any, "endsAt": .any]),
        "weightGrams": .any,
        "levels": .array(.object(["location": .any, "onHand": .any, "unavailable": .any, "safetyStock": .any, "incoming": .any])),
        "listings": .array(listingShape),
    ])

    func draft(_ body: SKUBody, sku: String, seller: SellerSnapshot, field prefix: String = "") throws -> ShelfEvent {
        func fail(_ field: String, _ reason: String) -> Problem { Problem(.validation, detail: "\(prefix)\(field) \(reason)", field: prefix + field) }
        guard Validation.isIdentifier(sku) else { throw fail("sku", "must be 1–128 printable characters without spaces or slashes") }
        if let given = body.sku, given != sku { throw fail("sku", "does not match the path") }
        guard !body.productId.isEmpty, body.productId.count <= 128 else { throw fail("productId", "must be 1–128 characters") }
        guard !body.title.isEmpty, body.title.count <= 500 else { throw fail("title", "must be 1–500 characters") }
        for (name, money) in [("price", body.price), ("compareAtPrice", body.compareAtPrice), ("sale.price", body.sale?.price)] {
            guard let money else { continue }
            guard money.amount >= 0 else { throw fail("\(name).amount", "must not be negative") }
            guard Money.isCurrencyCode(money.currency) else { throw fail("\(name).currency", "must be an ISO 4217 code") }
            guard money.currency == body.price.currency else { throw fail("\(name).currency", "must match price.currency") }
        }
        if let sale = body.sale, let s = sale.startsAt, let e = sale.endsAt, e <= s { throw fail("sale.endsAt", "must be after startsAt") }
        var levels: [LocationStock] = []
        for (i, level) in (body.levels ?? []).enumerated() {
            guard seller.catalog.location(level.location) != nil else { throw fail("levels[\(i)].location", "is not a known location") }
            for (name, v) in [("onHand", level.onHand), ("unavailable", level.unavailable ?? 0), ("safetyStock", level.safetyStock ?? 0),
                              ("incoming", level.incoming ?? 0)] where !(0...1_000_000_000).contains(v) {
                throw fail("levels[\(i)].\(name)", "must be from 0 to 1000000000")
            }
            levels.append(LocationStock(location: level.location, level: StockLevel(
                onHand: level.onHand, unavailable: level.unavailable ?? 0, safetyStock: level.safetyStock ?? 0, incoming: level.incoming ?? 0)))
        }
        var listings: [Listing] = []
        for (i, l) in (body.listings ?? []).enumerated() {
            guard let channel = l.channel, seller.catalog.channels.contains(where: { $0.id == channel }) else {
                throw fail("listings[\(i)].channel", "is not a known channel")
            }
            listings.append(try listing(l, channel: channel, sku: sku, existing: nil, field: "\(prefix)listings[\(i)]."))
        }
        let item = CatalogItem(
            sku: sku, productId: body.productId, title: body.title, productTitle: body.productTitle, description: body.description ?? "",
            brand: body.brand, options: body.options ?? [:], barcode: body.barcode, mediaURLs: body.mediaURLs ?? [], url: body.url,
            tags: body.tags ?? [], collections: body.collections ?? [], supplier: body.supplier, price: body.price,
            compareAtPrice: body.compareAtPrice, sale: body.sale, weightGrams: body.weightGrams, active: true
        )
        if let problem = item.textProblem { throw fail(problem.field, problem.reason) }
        for (name, money) in [("price", body.price), ("compareAtPrice", body.compareAtPrice), ("sale.price", body.sale?.price)] {
            if let money, money.amount > Limits.maxPriceMinorUnits { throw fail("\(name).amount", "must be at most \(Limits.maxPriceMinorUnits) minor units") }
        }
        return ShelfEvent(type: .skuUpserted, sku: sku, item: item, levels: levels.isEmpty ? nil : levels,
                          listings: listings.isEmpty ? nil : listings, occurredAt: env.clock.now())
    }

    func listing(_ l: ListingBody, channel: String, sku: String, existing: Listing?, field: String) throws -> Listing {
        if let buffer = l.buffer, !(0...1_000_000).contains(buffer) {
            throw Problem(.validation, detail: "\(field)buffer must be from 0 to 1000000", field: "\(field)buffer")
        }
        if let price = l.price, price.amount < 0 || !Money.isCurrencyCode(price.currency) {
            throw Problem(.validation, detail: "\(field)price must be a non-negative amount in an ISO 4217 currency", field: "\(field)price")
        }
        if let id = l.externalId, id.isEmpty || id.count > 128 || TextPolicy.problem(id) != nil {
            throw Problem(.validation, detail: "\(field)externalId must be 1–128 characters without control characters", field: "\(field)externalId")
        }
        return Listing(
            channel: channel, externalId: l.externalId ?? existing?.externalId ?? sku, listed: l.listed ?? existing?.listed ?? true,
            buffer: l.buffer ?? existing?.buffer ?? 0, price: l.price ?? existing?.price, references: existing?.references ?? [:]
        )
    }

    @Sendable func upsertSKU(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let (token, seller) = try admin(context)
        let sku = try context.pathParameter("sku")
        let body = try StrictJSON.decode(SKUBody.self, from: try await request.jsonBody(limit: env.configuration.maxBodyBytes), shape: Self.skuShape)
        let draft = try draft(body, sku: sku, seller: seller)
        return try await record([Command(seller: token.seller, source: "admin", draft: draft)], request: request)
    }

    @Sendable func deleteSKU(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let (token, seller) = try admin(context)
        let sku = try context.pathParameter("sku")
        guard seller.sku(sku)?.item.active == true else { throw Problem(.notFound, detail: "unknown SKU \(sku)", field: "sku") }
        return try await record(
            [Command(seller: token.seller, source: "admin", draft: ShelfEvent(type: .skuDeleted, sku: sku, occurredAt: env.clock.now()))],
            request: request
        )
    }

    struct ImportBody: Decodable {
        var items: [SKUBody]
    }

    @Sendable func importSKUs(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let (token, seller) = try admin(context)
        let body = try StrictJSON.decode(
            ImportBody.self, from: try await request.jsonBody(limit: 16 << 20), shape: .object(["items": .array(Self.skuShape)])
        )
        guard body.items.count <= Self.maxImport else {
            throw Problem(.payloadTooLarge, detail: "at most \(Self.maxImport) items per import, got \(body.items.count)", field: "items")
        }
        guard !body.items.isEmpty else { throw Problem(.validation, detail: "items must not be empty", field: "items") }
        var seen = Set<String>()
        let commands = try body.items.enumerated().map { i, item -> Command in
            guard let sku = item.sku else { throw Problem(.validation, detail: "items[\(i)].sku is required", field: "items[\(i)].sku") }
            guard seen.insert(sku).inserted else { throw Problem(.validation, detail: "items[\(i)].sku repeats \(sku)", field: "items[\(i)].sku") }
            return Command(seller: token.seller, source: "admin", draft: try draft(item, sku: sku, seller: seller, field: "items[\(i)]."))
        }
        return try await record(commands, request: request)
    }

    @Sendable func upsertListing(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let (token, seller) = try admin(context)
        let sku = try context.pathParameter("sku")
        let channel = try context.pathParameter("channel")
        guard let state = seller.sku(sku), state.item.active else { throw Problem(.notFound, detail: "unknown SKU \(sku)", field: "sku") }
        guard seller.catalog.channels.contains(where: { $0.id == channel }) else {
            throw Problem(.notFound, detail: "unknown channel \(channel)", field: "channel")
        }
        let body = try StrictJSON.decode(ListingBody.self, from: try await request.jsonBody(limit: 64 << 10), shape: Self.listingShape)
        if let given = body.channel, given != channel { throw Problem(.validation, detail: "channel does not match the path", field: "channel") }
        let listing = try listing(body, channel: channel, sku: sku, existing: state.listing(on: channel), field: "")
        return try await record(
            [Command(seller: token.seller, source: "admin", draft: ShelfEvent(type: .listingUpserted, sku: sku, channel: channel, listing: listing,
                                                                              occurredAt: env.clock.now()))],
            request: request
        )
    }

    // MARK: Locations

    @Sendable func listLocations(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let token = try context.authenticated()
        return try JSONResponder.respond(["locations": env.snapshot.seller(token.seller)?.catalog.locations ?? []], to: request)
    }

    static let locationShape: StrictJSON.Shape = .object([
        "id": .any, "name": .any, "aliases": .any, "timeZone": .any, "cutoff": .any, "handlingDays": .any, "holidays": .any,
        "country": .any, "postalCode": .any, "priority": .any,
        "services": .array(.object(["carrier": .any, "service": .any, "transit": .any, "rate": .object(["amount": .any, "currency": .any])])),
    ])

    @Sendable func upsertLocation(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let (token, _) = try admin(context)
        let id = try context.pathParameter("id")
        guard Validation.isIdentifier(id) else { throw Problem(.validation, detail: "id must be 1–128 printable characters", field: "id") }
        let location = try StrictJSON.decode(Location.self, from: try await request.jsonBody(limit: 256 << 10), shape: Self.locationShape)
        guard location.id == id else { throw Problem(.validation, detail: "id does not match the path", field: "id") }
        guard TimeZone(identifier: location.timeZone) != nil else {
            throw Problem(.validation, detail: "timeZone must be an IANA zone such as America/New_York", field: "timeZone")
        }
        let cut = location.cutoff.split(separator: ":").compactMap { Int($0) }
        guard location.cutoff.count == 5, cut.count == 2, location.cutoff.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ":") }), (0...23).contains(cut[0]), (0...59).contains(cut[1]) else {
            throw Problem(.validation, detail: "cutoff must be HH:MM", field: "cutoff")
        }
        guard (-1_000_000...1_000_000).contains(location.priority) else {
            throw Problem(.validation, detail: "priority must be from -1000000 to 1000000", field: "priority")
        }
        guard (0...30).contains(location.handlingDays) else { throw Problem(.validation, detail: "handlingDays must be 0–30", field: "handlingDays") }
        for (i, s) in location.services.enumerated() {
            if let rate = s.rate, rate.amount < 0 || !Money.isCurrencyCode(rate.currency) {
                throw Problem(.validation, detail: "rate must be a non-negative amount in an ISO 4217 currency", field: "services[\(i)].rate")
            }
            for (zone, t) in s.transit where t.min < 0 || t.max < t.min || t.max > 60 {
                throw Problem(.validation, detail: "transit \(zone) needs 0 ≤ min ≤ max ≤ 60", field: "services[\(i)].transit.\(zone)")
            }
        }
        return try await record(
            [Command(seller: token.seller, source: "admin", draft: ShelfEvent(type: .locationUpserted, locationInfo: location,
                                                                              occurredAt: env.clock.now()))],
            request: request
        )
    }

    // MARK: Channels

    @Sendable func listChannels(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let token = try context.authenticated()
        return try JSONResponder.respond(["channels": env.snapshot.seller(token.seller)?.catalog.channels ?? []], to: request)
    }

    /// Adds or renames a sales channel of the seller (the names rules use for it in `aliases`); listings and connections name it.
    @Sendable func upsertChannel(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let (token, _) = try admin(context)
        let id = try context.pathParameter("id")
        guard Validation.isIdentifier(id) else { throw Problem(.validation, detail: "id must be 1–128 printable characters", field: "id") }
        let channel = try StrictJSON.decode(Channel.self, from: try await request.jsonBody(limit: 16 << 10),
                                            shape: .object(["id": .any, "name": .any, "aliases": .any]))
        guard channel.id == id else { throw Problem(.validation, detail: "id does not match the path", field: "id") }
        if channel.name.isEmpty || channel.name.count > 200 { throw Problem(.validation, detail: "name must be 1–200 characters", field: "name") }
        if let reason = TextPolicy.problem(channel.name) { throw Problem(.validation, detail: "name \(reason)", field: "name") }
        guard channel.aliases.count <= 50 else { throw Problem(.validation, detail: "aliases lists at most 50 names", field: "aliases") }
        for (i, alias) in channel.aliases.enumerated() {
            if alias.isEmpty || alias.count > 200 { throw Problem(.validation, detail: "aliases[\(i)] must be 1–200 characters", field: "aliases[\(i)]") }
            if let reason = TextPolicy.problem(alias) { throw Problem(.validation, detail: "aliases[\(i)] \(reason)", field: "aliases[\(i)]") }
        }
        return try await record(
            [Command(seller: token.seller, source: "admin", draft: ShelfEvent(type: .channelUpserted, channelInfo: channel, occurredAt: env.clock.now()))],
            request: request
        )
    }

    // MARK: Tokens

    struct TokenBody: Decodable {
        var scopes: [String]
        var ttlSeconds: Int?
        var label: String?
    }

    struct CreatedToken: Encodable {
        var token: String
        var info: TokenInfo
    }

    @Sendable func createToken(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let (token, _) = try admin(context)
        return try await Self.issueToken(for: token.seller, request: request, tokens: env.tokens)
    }

    /// Reads a token request (`scopes` among read/ingest/admin, `ttlSeconds`, `label`) and issues a token of `seller`: 201 with
    /// the secret, shown once. Sellers' admins and the platform operator (a seller's first token) share it.
    static func issueToken(for seller: String, request: Request, tokens: TokenStore) async throws -> Response {
        let body = try StrictJSON.decode(TokenBody.self, from: try await request.jsonBody(limit: 16 << 10),
                                         shape: .object(["scopes": .any, "ttlSeconds": .any, "label": .any]))
        var scopes: [Scope] = []
        for (i, s) in body.scopes.enumerated() {
            guard let scope = Scope(rawValue: s), Scope.sellerScopes.contains(scope) else {
                throw Problem(.validation, detail: "scopes[\(i)] must be read, ingest or admin", field: "scopes[\(i)]")
            }
            scopes.append(scope)
        }
        guard !scopes.isEmpty else { throw Problem(.validation, detail: "scopes must not be empty", field: "scopes") }
        if let ttl = body.ttlSeconds, !(60...31_536_000).contains(ttl) {
            throw Problem(.validation, detail: "ttlSeconds must be from 60 to 31536000", field: "ttlSeconds")
        }
        if let label = body.label, label.count > 200 { throw Problem(.validation, detail: "label is at most 200 characters", field: "label") }
        if let label = body.label, let reason = TextPolicy.problem(label) { throw Problem(.validation, detail: "label \(reason)", field: "label") }
        let (info, secret) = try await tokens.create(seller: seller, scopes: scopes, ttl: body.ttlSeconds.map(TimeInterval.init), label: body.label)
        return try JSONResponder.respond(CreatedToken(token: secret, info: info), to: request, status: .created, etag: false)
    }

    @Sendable func listTokens(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let (token, _) = try admin(context)
        return try JSONResponder.respond(["tokens": try await env.tokens.list(seller: token.seller)], to: request, etag: false)
    }

    @Sendable func revokeToken(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let (token, _) = try admin(context)
        let id = try context.pathParameter("id")
        guard try await env.tokens.revoke(id: id, seller: token.seller) else { throw Problem(.notFound, detail: "unknown token \(id)", field: "id") }
        return Response(status: .noContent)
    }

    // MARK: Connections

    /// A connection on the wire; secrets are never returned.
    struct ConnectionView: Encodable {
        var id: String
        var channel: String
        var kind: String
        var baseURL: String
        var pollIntervalSeconds: Int
        var pushEnabled: Bool
        var channelLocationId: String?
        var credentialKeys: [String]
        var lastHeardAt: Date?
        var lastPushedAt: Date?
        var source: String?
        /// Pushes waiting for a retry on this connection.
        var queueDepth: Int
        /// Dead-lettered pushes of this connection (`GET /v1/dlq`).
        var deadLetters: Int
        /// The latest failure: a pending retry's error, else the newest dead letter's.
        var lastError: String?
        /// When the newest dead letter failed, when `lastError` is a dead letter's.
        var lastErrorAt: Date?

        init(_ c: ConnectionFixture, pulse: ChannelPulse?, queue: DeadLetterQueue.ConnectionQueue? = nil) {
            id = c.id
            channel = c.channel
            kind = c.kind
            baseURL = c.baseURL
            pollIntervalSeconds = c.pollIntervalSeconds
            pushEnabled = c.pushEnabled
            channelLocationId = c.channelLocationId
            credentialKeys = c.credentials.keys.sorted()
            lastHeardAt = pulse?.lastHeardAt
            lastPushedAt = pulse?.lastPushedAt
            source = pulse?.source
            queueDepth = queue?.pending ?? 0
            deadLetters = queue?.deadLetters ?? 0
            lastError = queue?.lastError
            lastErrorAt = queue?.lastErrorAt
        }
    }

    struct ConnectionBody: Decodable {
        var id: String?
        var channel: String
        var kind: String
        var baseURL: String
        var credentials: [String: String]?
        var webhookSecret: String
        var pollIntervalSeconds: Int?
        var pushEnabled: Bool?
        var channelLocationId: String?
    }

    static let connectionKinds: Set<String> = ["shopify", "amazon", "ebay", "walmart", "etsy", "tiktok", "woocommerce", "generic"]

    @Sendable func listConnections(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let (token, _) = try admin(context)
        let pulses = env.pulses.pulses(seller: token.seller)
        let queues = try await env.deadLetters.queues(seller: token.seller)
        let views = try await env.ledger.connections(seller: token.seller).map { c in
            ConnectionView(c, pulse: pulses.first { $0.connection == c.id }, queue: queues[c.id])
        }
        return try JSONResponder.respond(["connections": views], to: request)
    }

    @Sendable func getConnection(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let (token, _) = try admin(context)
        let id = try context.pathParameter("id")
        guard let c = try await env.ledger.connections(seller: token.seller).first(where: { $0.id == id }) else {
            throw Problem(.notFound, detail: "unknown connection \(id)", field: "id")
        }
        return try JSONResponder.respond(ConnectionView(c, pulse: env.pulses.pulses(seller: token.seller).first { $0.connection == id },
                                                        queue: try await env.deadLetters.queues(seller: token.seller)[id]),
                                         to: request)
    }

    @Sendable func putConnection(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let (token, seller) = try admin(context)
        let id = try context.pathParameter("id")
        guard Validation.isIdentifier(id) else { throw Problem(.validation, detail: "id must be 1–128 printable characters", field: "id") }
        let body = try StrictJSON.decode(ConnectionBody.self, from: try await request.jsonBody(limit: 64 << 10), shape: .object([
            "id": .any, "channel": .any, "kind": .any, "baseURL": .any, "credentials": .any, "webhookSecret": .any,
            "pollIntervalSeconds": .any, "pushEnabled": .any, "channelLocationId": .any,
        ]))
        if let given = body.id, given != id { throw Problem(.validation, detail: "id does not match the path", field: "id") }
        guard seller.catalog.channels.contains(where: { $0.id == body.channel }) else {
            throw Problem(.validation, detail: "unknown channel \(body.channel)", field: "channel")
        }
        guard Self.connectionKinds.contains(body.kind) else {
            throw Problem(.validation, detail: "kind must be one of \(Self.connectionKinds.sorted().joined(separator: ", "))", field: "kind")
        }
        guard let url = URL(string: body.baseURL), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
            throw Problem(.validation, detail: "baseURL must be an http(s) URL", field: "baseURL")
        }
        for (field, text) in [("baseURL", body.baseURL), ("webhookSecret", body.webhookSecret)] + (body.credentials ?? [:]).sorted(by: { $0.key < $1.key })
            .flatMap({ [("credentials", $0.key), ("credentials.\($0.key)", $0.value)] }) {
            if let reason = TextPolicy.problem(text) { throw Problem(.validation, detail: "\(field) \(reason)", field: field) }
        }
        guard body.webhookSecret.count >= 8, body.webhookSecret.count <= 256 else {
            throw Problem(.validation, detail: "webhookSecret must be 8–256 characters", field: "webhookSecret")
        }
        let interval = body.pollIntervalSeconds ?? 60
        guard (5...86_400).contains(interval) else {
            throw Problem(.validation, detail: "pollIntervalSeconds must be from 5 to 86400", field: "pollIntervalSeconds")
        }
        let existed = try await env.ledger.connections(seller: token.seller).contains { $0.id == id }
        let connection = ConnectionFixture(
            id: id, channel: body.channel, kind: body.kind, baseURL: body.baseURL, credentials: body.credentials ?? [:],
            webhookSecret: body.webhookSecret, pollIntervalSeconds: interval, pushEnabled: body.pushEnabled ?? true,
            channelLocationId: body.channelLocationId
        )
        try await env.ledger.upsertConnection(connection, seller: token.seller)
        env.pulses.register(seller: token.seller, connection: id, channel: body.channel)
        return try JSONResponder.respond(ConnectionView(connection, pulse: nil), to: request, status: existed ? .ok : .created, etag: false)
    }

    @Sendable func deleteConnection(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let (token, _) = try admin(context)
        let id = try context.pathParameter("id")
        guard try await env.ledger.deleteConnection(id: id, seller: token.seller) else {
            throw Problem(.notFound, detail: "unknown connection \(id)", field: "id")
        }
        env.pulses.remove(seller: token.seller, connection: id)
        return Response(status: .noContent)
    }

    // MARK: Audit

    struct AuditView: Encodable {
        var events: [LedgerEvent]
        var nextCursor: String?
    }

    @Sendable func audit(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let (token, _) = try admin(context)
        let limit = try request.intParameter("limit", default: 100, range: 1...1000)
        let sku = request.uri.queryParameters.get("sku")
        var after: Int64 = 0
        if let cursor = request.uri.queryParameters.get("cursor") {
            guard let n = Int64(cursor), n >= 0 else { throw Problem(.validation, detail: "cursor must be a sequence number", field: "cursor") }
            after = n
        }
        var events = try await env.ledger.events(seller: token.seller, sku: sku, after: after, limit: limit)
        if let since = request.uri.queryParameters.get("since") {
            guard let instant = Timestamp.parse(String(since)) else {
                throw Problem(.validation, detail: "since must be an RFC 3339 instant", field: "since")
            }
            events = try await env.ledger.events(seller: token.seller, sku: sku, after: max(after, try await env.ledger.sequence(seller: token.seller, before: instant)),
                                           limit: limit)
        }
        let next = events.count == limit ? events.last.map { String($0.sequence) } : nil
        return try JSONResponder.respond(AuditView(events: events, nextCursor: next), to: request, etag: false)
    }
}
