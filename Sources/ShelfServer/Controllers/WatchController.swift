import Foundation
import Hummingbird
import ShelfCore
import ShelfLedger

/// Agents' watches (scope `read`, the token's seller only): create, list, show, delete, and a watch's dead-lettered deliveries
/// with their replay. Deliveries themselves are made by `WatchDeliveryService`.
struct WatchController: Sendable {
    let env: ShelfEnvironment

    var routes: RouteCollection<ShelfRequestContext> {
        let routes = RouteCollection(context: ShelfRequestContext.self)
        routes.requiring(.read, env.tokens)
            .post("watches", use: create)
            .get("watches", use: list)
            .get("watches/:id", use: show)
            .delete("watches/:id", use: delete)
            .get("watches/:id/deliveries", use: deliveries)
            .post("watches/:id/deliveries:replay", use: replay)
        return routes
    }

    /// The body of `POST /v1/watches`.
    struct CreateBody: Decodable {
        var skus: [String]?
        var productId: String?
        var query: WatchQuery?
        var qty: Int?
        var conditions: [WatchCondition]
        var destination: WatchDestination?
        var target: TargetBody
    }

    /// Where deliveries go.
    struct TargetBody: Decodable {
        var url: String
        var secret: String?
    }

    static let createShape: StrictJSON.Shape = .object([
        "skus": .any, "productId": .any, "qty": .any,
        "query": .object(["q": .any, "tags": .any, "collection": .any, "inStockOnly": .any, "minPrice": .any, "maxPrice": .any]),
        "conditions": .array(.object(["type": .any, "qty": .any, "price": .object(["amount": .any, "currency": .any])])),
        "destination": .object(["country": .any, "postalCode": .any]), "target": .object(["url": .any, "secret": .any]),
    ])

    /// A watch on the wire. The secret appears only in the answer to its creation.
    struct WatchView: Encodable {
        var id: String
        var skus: [String]
        var productId: String?
        var query: WatchQuery?
        var qty: Int
        var conditions: [WatchCondition]
        var destination: WatchDestination?
        var target: TargetView
        /// `active`, or `paused` (deliveries stopped after the target failed for long; replay resumes them).
        var status: String
        var pausedAt: Date?
        var pausedReason: String?
        var createdAt: Date
        /// Deliveries queued or being attempted now.
        var queued: Int
    }

    struct TargetView: Encodable {
        var url: String
        var secret: String?
    }

    func view(_ watch: StoredWatch, showSecret: Bool = false) throws -> WatchView {
        let live = env.watchDelivery.current(id: watch.id) ?? watch
        let spec = try ShelfJSON.decoder().decode(WatchSpec.self, from: Data(watch.spec.utf8))
        return WatchView(id: watch.id, skus: spec.skus, productId: spec.productId, query: spec.query, qty: spec.qty, conditions: spec.conditions,
                         destination: spec.destination, target: TargetView(url: watch.url, secret: showSecret ? watch.secret : nil),
                         status: live.pausedReason == nil ? "active" : "paused", pausedAt: live.pausedAt, pausedReason: live.pausedReason,
                         createdAt: watch.createdAt, queued: env.watchDelivery.queued(id: watch.id))
    }

    @Sendable func create(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let token = try context.authenticated()
        let body = try StrictJSON.decode(CreateBody.self, from: try await request.jsonBody(limit: Self.maxBodyBytes), shape: Self.createShape)
        return try JSONResponder.respond(try await create(body, token: token), to: request, status: .created, etag: false)
    }

    /// Largest body of a watch request.
    static let maxBodyBytes = 64 << 10

    /// Checks and stores a watch for the token's seller, and starts judging it (REST and the MCP `watch_item` tool).
    func create(_ body: CreateBody, token: TokenInfo) async throws -> WatchView {
        let seller = try AgentDesk(env: env).seller(token)
        let policy = env.configuration.watchPolicy
        let (spec, url, secret) = try WatchRules(policy: policy, now: env.clock.now()).validate(body, seller: seller)
        if spec.query != nil {
            let held = try await env.watches.count(tokenId: token.id) { (try? ShelfJSON.decoder().decode(WatchSpec.self, from: Data($0.utf8)))?.query != nil }
            guard held < policy.maxQueryWatchesPerToken else {
                throw Problem(.validation, detail: "this token already holds \(policy.maxQueryWatchesPerToken) catalog-query watches, the most one token may hold",
                              field: "query")
            }
        }
        let watch = StoredWatch(
            id: "watch_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16), seller: token.seller, tokenId: token.id,
            spec: String(decoding: try ShelfJSON.encode(spec), as: UTF8.self), url: url, secret: secret, createdAt: env.clock.now()
        )
        let limit = policy.maxWatchesPerToken
        guard try await env.watchDelivery.create(watch, spec: spec, seller: seller, limitPerToken: limit) else {
            throw Problem(.conflict, detail: "this token already holds \(limit) watches, the most one token may hold; delete one first")
        }
        return try view(watch, showSecret: true)
    }

    @Sendable func list(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let token = try context.authenticated()
        return try JSONResponder.respond(["watches": try await env.watches.list(seller: token.seller).map { try view($0) }], to: request, etag: false)
    }

    func find(_ context: ShelfRequestContext) async throws -> StoredWatch {
        let token = try context.authenticated()
        let id = try context.pathParameter("id")
        guard let watch = try await env.watches.watch(id: id, seller: token.seller) else { throw Problem(.notFound, detail: "no watch \(id)", field: "id") }
        return watch
    }

    @Sendable func show(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        try JSONResponder.respond(try view(try await find(context)), to: request, etag: false)
    }

    @Sendable func delete(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let watch = try await find(context)
        env.watchDelivery.removed(id: watch.id)
        _ = try await env.watches.delete(id: watch.id, seller: watch.seller)
        return Response(status: .noContent)
    }

    /// A dead-lettered delivery on the wire.
    struct DeadLetterView: Encodable {
        var sku: String
        var type: String
        var sequence: Int64
        var attempts: Int
        var lastError: String
        var failedAt: Date
    }

    @Sendable func deliveries(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let watch = try await find(context)
        let letters = try await env.watches.deadLetters(watchId: watch.id, seller: watch.seller).map {
            DeadLetterView(sku: $0.sku, type: $0.eventType, sequence: $0.sequence, attempts: $0.attempts, lastError: $0.lastError, failedAt: $0.failedAt)
        }
        let live = env.watchDelivery.current(id: watch.id) ?? watch
        struct Page: Encodable {
            var deadLetters: [DeadLetterView]
            var queued: Int
            var status: String
            var pausedReason: String?
        }
        return try JSONResponder.respond(Page(deadLetters: letters, queued: env.watchDelivery.queued(id: watch.id),
                                              status: live.pausedReason == nil ? "active" : "paused", pausedReason: live.pausedReason),
                                         to: request, etag: false)
    }

    @Sendable func replay(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let watch = try await find(context)
        let letters = try await env.watches.takeForReplay(watchId: watch.id, seller: watch.seller, skus: nil)
        env.watchDelivery.replay(letters, watchId: watch.id)
        struct Replayed: Encodable {
            var replayed: Int
            var status: String
        }
        return try JSONResponder.respond(Replayed(replayed: letters.count, status: "active"), to: request, status: .accepted, etag: false)
    }
}

/// Checks a watch request against the seller's catalog and the limits, producing what is stored.
struct WatchRules {
    let policy: WatchPolicy
    let now: Date
    static let maxConditions = WatchCondition.Kind.allCases.count
    /// Bounds of a catalog query (those of catalog search).
    static let maxQueryText = 200
    static let maxQueryTags = 20
    static let maxQueryWord = 100

    func validate(_ body: WatchController.CreateBody, seller: SellerSnapshot) throws -> (WatchSpec, url: String, secret: String) {
        var skus: [String] = []
        var query: WatchQuery?
        let named = [body.skus != nil, body.productId != nil, body.query != nil].filter { $0 }.count
        guard named <= 1 else {
            throw Problem(.validation, detail: "name skus, a productId or a query: one of them", field: body.query != nil ? "query" : "productId")
        }
        switch (body.skus, body.productId) {
        case (nil, nil) where body.query != nil:
            query = try checkQuery(body.query!, seller: seller)
        case (let list?, nil):
            guard !list.isEmpty else { throw Problem(.validation, detail: "skus must name at least one SKU", field: "skus") }
            guard list.count <= policy.maxSKUsPerWatch else {
                throw Problem(.payloadTooLarge, detail: "at most \(policy.maxSKUsPerWatch) SKUs per watch, got \(list.count)", field: "skus")
            }
            for (i, sku) in list.enumerated() {
                guard seller.sku(sku) != nil else { throw Problem(.validation, detail: "unknown SKU \(sku)", field: "skus[\(i)]") }
                if !skus.contains(sku) { skus.append(sku) }
            }
        case (nil, let product?):
            let variants = seller.skus(ofProduct: product)
            guard !variants.isEmpty else { throw Problem(.validation, detail: "unknown product \(product)", field: "productId") }
            guard variants.count <= policy.maxSKUsPerWatch else {
                throw Problem(.payloadTooLarge, detail: "product \(product) has \(variants.count) SKUs, more than the \(policy.maxSKUsPerWatch) a watch may name",
                              field: "productId")
            }
        case (nil, nil):
            throw Problem(.validation, detail: "name skus, a productId or a query", field: "skus")
        case (_?, _?):
            throw Problem(.validation, detail: "name skus or a productId, not both", field: "productId")
        }
        let qty = body.qty ?? 1
        try AgentDesk.checkQty(qty)
        guard !body.conditions.isEmpty else { throw Problem(.validation, detail: "conditions must name at least one condition", field: "conditions") }
        guard body.conditions.count <= Self.maxConditions else {
            throw Problem(.validation, detail: "at most \(Self.maxConditions) conditions", field: "conditions")
        }
        var destination: WatchDestination?
        if let d = body.destination {
            do {
                let checked = try AgentDesk.destination(country: d.country, postalCode: d.postalCode)
                destination = WatchDestination(country: checked.country, postalCode: checked.postalCode)
            } catch var problem as Problem {
                problem.field = problem.field.map { "destination.\($0)" }
                throw problem
            }
        }
        var seen: Set<WatchCondition.Kind> = []
        var conditions: [WatchCondition] = []
        for (i, c) in body.conditions.enumerated() {
            let field = "conditions[\(i)]"
            guard seen.insert(c.type).inserted else { throw Problem(.validation, detail: "\(c.type.rawValue) is named twice", field: "\(field).type") }
            switch c.type {
            case .backInStock, .stockBelow:
                if c.price != nil { throw Problem(.validation, detail: "\(c.type.rawValue) takes no price", field: "\(field).price") }
                let n = c.qty ?? 1
                guard AgentDesk.qtyRange.contains(n) else { throw Problem(.validation, detail: "qty must be from 1 to 1000000", field: "\(field).qty") }
                conditions.append(WatchCondition(type: c.type, qty: n, price: nil))
            case .priceAtOrBelow:
                if c.qty != nil { throw Problem(.validation, detail: "price_at_or_below takes no qty", field: "\(field).qty") }
                guard let price = c.price else { throw Problem(.validation, detail: "price_at_or_below needs a price", field: "\(field).price") }
                guard ISO4217.isActive(price.currency) else {
                    throw Problem(.validation, detail: "\(price.currency) is not an ISO 4217 currency code", field: "\(field).price.currency")
                }
                guard (0...1_000_000_000_000).contains(price.amount) else {
                    throw Problem(.validation, detail: "amount must be from 0 to 10^12 minor units", field: "\(field).price.amount")
                }
                conditions.append(c)
            case .deliveryWindowChanged, .anyChange:
                if c.qty != nil { throw Problem(.validation, detail: "\(c.type.rawValue) takes no qty", field: "\(field).qty") }
                if c.price != nil { throw Problem(.validation, detail: "\(c.type.rawValue) takes no price", field: "\(field).price") }
                if c.type == .deliveryWindowChanged && destination == nil {
                    throw Problem(.validation, detail: "delivery_window_changed needs a destination", field: "destination")
                }
                conditions.append(c)
            }
        }
        let url = try Self.checkURL(body.target.url, allowLoopback: policy.allowLoopbackTargets)
        let secret = try body.target.secret.map(Self.checkSecret) ?? Self.newSecret()
        return (WatchSpec(skus: skus, productId: body.productId, query: query, qty: qty, conditions: conditions, destination: destination), url, secret)
    }

    /// A catalog query within the bounds of catalog search, narrowing the catalog (at least one filter), and matching at most
    /// `maxSKUsPerWatch` SKUs now; every bound broken is a 422 naming the field.
    func checkQuery(_ q: WatchQuery, seller: SellerSnapshot) throws -> WatchQuery {
        var query = q
        query.q = q.q?.trimmingCharacters(in: .whitespaces)
        if query.q?.isEmpty == true { query.q = nil }
        if let text = query.q {
            guard text.count <= Self.maxQueryText else { throw Problem(.validation, detail: "q is at most \(Self.maxQueryText) characters", field: "query.q") }
            guard !CatalogFilter.words(text).isEmpty else { throw Problem(.validation, detail: "q holds no word to search for", field: "query.q") }
        }
        if let tags = q.tags {
            guard tags.count <= Self.maxQueryTags else { throw Problem(.validation, detail: "at most \(Self.maxQueryTags) tags", field: "query.tags") }
            for (i, tag) in tags.enumerated() where tag.isEmpty || tag.count > Self.maxQueryWord {
                throw Problem(.validation, detail: "a tag is 1–\(Self.maxQueryWord) characters", field: "query.tags[\(i)]")
            }
            query.tags = tags.isEmpty ? nil : tags
        }
        if let collection = q.collection, collection.isEmpty || collection.count > Self.maxQueryWord {
            throw Problem(.validation, detail: "collection is 1–\(Self.maxQueryWord) characters", field: "query.collection")
        }
        for (name, price) in [("minPrice", q.minPrice), ("maxPrice", q.maxPrice)] {
            if let price, !(0...1_000_000_000_000).contains(price) {
                throw Problem(.validation, detail: "\(name) must be from 0 to 10^12 minor units", field: "query.\(name)")
            }
        }
        if let low = q.minPrice, let high = q.maxPrice, low > high {
            throw Problem(.validation, detail: "minPrice is above maxPrice", field: "query.minPrice")
        }
        if query.inStockOnly == false { query.inStockOnly = nil }
        guard query.q != nil || query.tags != nil || query.collection != nil || query.inStockOnly != nil || query.minPrice != nil
                || query.maxPrice != nil else {
            throw Problem(.validation, detail: "query must name at least one filter (q, tags, collection, inStockOnly, minPrice, maxPrice)",
                          field: "query")
        }
        let filter = query.filter
        var matched = 0
        for state in seller.allStates() where state.item.active && filter.admits(state, now: now) {
            matched += 1
            guard matched <= policy.maxSKUsPerWatch else {
                throw Problem(.validation, detail: "query matches more than the \(policy.maxSKUsPerWatch) SKUs a watch may watch; narrow it",
                              field: "query")
            }
        }
        return query
    }

    /// An `https` URL, or `http` to a loopback host only (and loopback only when `allowLoopback`); no credentials, no fragment,
    /// at most 2048 characters; never an address literal that is not public (`WatchTargetAddress`).
    static func checkURL(_ text: String, allowLoopback: Bool) throws -> String {
        let field = "target.url"
        guard text.count <= 2048, let c = URLComponents(string: text), let scheme = c.scheme?.lowercased(), let host = c.host, !host.isEmpty else {
            throw Problem(.validation, detail: "target.url must be an absolute URL of at most 2048 characters", field: field)
        }
        guard c.user == nil, c.password == nil, c.fragment == nil else {
            throw Problem(.validation, detail: "target.url must carry no credentials and no fragment", field: field)
        }
        let kind = WatchTargetAddress.classify(host: host)
        switch kind {
        case .nonPublic:
            throw Problem(.validation, detail: "target.url names a private, link-local or otherwise non-public address", field: field)
        case .loopback where !allowLoopback:
            throw Problem(.validation, detail: "target.url names a loopback host, which this server (not listening on loopback) does not deliver to",
                          field: field)
        default:
            break
        }
        switch scheme {
        case "https":
            return text
        case "http":
            guard kind == .loopback else {
                throw Problem(.validation, detail: "target.url must be https (plain http is accepted only to a loopback host)", field: field)
            }
            return text
        default:
            throw Problem(.validation, detail: "target.url must be https (plain http is accepted only to a loopback host)", field: field)
        }
    }

    /// A caller's secret: 16–256 printable ASCII characters.
    static func checkSecret(_ secret: String) throws -> String {
        guard (16...256).contains(secret.count), secret.unicodeScalars.allSatisfy({ (0x21...0x7E).contains($0.value) }) else {
            throw Problem(.validation, detail: "target.secret must be 16–256 printable ASCII characters without spaces", field: "target.secret")
        }
        return secret
    }

    /// A fresh secret: `whsec_` and 32 random bytes in hex.
    static func newSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return "whsec_" + (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}
