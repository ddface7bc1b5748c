import Foundation
import Hummingbird
import ShelfCore
import ShelfLedger

/// Universal Commerce Protocol catalog (scope `read`): the business profile at `/.well-known/ucp` (public), search, lookup by
/// product or variant id (SKU), and one product's detail — all from the snapshot, with Shelf's facts beside the UCP objects.
/// Products are assembled from all their active variants (the snapshot indexes SKUs by product), paged in the order of each
/// product's first SKU.
struct UCPController: Sendable {
    let env: ShelfEnvironment
    var desk: AgentDesk { AgentDesk(env: env) }

    var routes: RouteCollection<ShelfRequestContext> {
        let routes = RouteCollection(context: ShelfRequestContext.self)
        routes.get("/.well-known/ucp", use: profile)
        routes.requiring(.read, env.tokens)
            .post("/ucp/catalog/search", use: search)
            .post("/ucp/catalog/lookup", use: lookup)
            .get("/ucp/catalog/product/:id", use: product)
        return routes
    }

    // MARK: Profile

    struct Service: Encodable {
        var version = UCPViews.version
        var transport: String
        var endpoint: String
        var schema: String
        var spec = "https://ucp.dev/specification/overview"
    }

    struct CapabilityDeclaration: Encodable {
        var version = UCPViews.version
        var schema: String
        var spec = "https://ucp.dev/specification/catalog"
    }

    struct Profile: Encodable {
        struct UCP: Encodable {
            var version = UCPViews.version
            var services: [String: [Service]]
            var capabilities: [String: [CapabilityDeclaration]]
            var payment_handlers: [String: [CapabilityDeclaration]] = [:]
        }

        var ucp: UCP
    }

    @Sendable func profile(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let base = "http://" + (request.head.authority ?? "\(env.configuration.host):\(env.configuration.port)")
        let profile = Profile(ucp: .init(
            services: ["dev.ucp.shopping": [
                Service(transport: "rest", endpoint: base + "/ucp", schema: "https://ucp.dev/schemas/shopping/catalog_search.json"),
                Service(transport: "mcp", endpoint: base + "/mcp", schema: "https://ucp.dev/schemas/transports/mcp_tool_call.json"),
            ]],
            capabilities: [
                "dev.ucp.shopping.catalog.search": [CapabilityDeclaration(schema: "https://ucp.dev/schemas/shopping/catalog_search.json")],
                "dev.ucp.shopping.catalog.lookup": [CapabilityDeclaration(schema: "https://ucp.dev/schemas/shopping/catalog_lookup.json")],
            ]
        ))
        return try JSONResponder.respond(profile, to: request)
    }

    // MARK: Search

    struct Page: Decodable {
        var cursor: String?
        var limit: Int?
    }

    struct SearchBody: Decodable {
        var query: String?
        var filters: JSONValue?
        var pagination: Page?
    }

    static let searchShape: StrictJSON.Shape = .object([
        "query": .any, "context": .any, "signals": .any, "attribution": .any, "filters": .any,
        "pagination": .object(["cursor": .any, "limit": .any]),
    ])

    @Sendable func search(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let token = try context.authenticated()
        let body = try StrictJSON.decode(SearchBody.self, from: try await request.jsonBody(limit: 64 << 10), shape: Self.searchShape)
        if let query = body.query, query.count > 200 { throw Problem(.validation, detail: "query is at most 200 characters", field: "query") }
        let limit = body.pagination?.limit ?? 10
        guard (1...100).contains(limit) else { throw Problem(.validation, detail: "pagination.limit must be from 1 to 100", field: "pagination.limit") }
        let filter = try Self.filter(query: body.query, filters: body.filters)
        let seller = try desk.seller(token)
        let builder = env.offerBuilder(seller)
        let now = builder.now
        var products: [UCPViews.Product] = []
        var facts: [ProductFacts] = []
        var after = body.pagination?.cursor
        var more = false
        // Products in the order of their first SKU; each is considered once, at that SKU, with all its active variants.
        scan: while true {
            let ids = seller.skuIDs(after: after, limit: 512)
            for id in ids {
                guard let run = FeedController.product(at: id, in: seller), run.contains(where: { filter.admits($0, now: now) }) else {
                    after = id
                    continue
                }
                if products.count == limit {
                    more = true
                    break scan
                }
                after = id
                let f = run.map { ProductFacts($0, builder: builder, velocity: env.velocity, seller: seller.id) }
                products.append(UCPViews.product(f))
                facts += f
            }
            if ids.count < 512 { break }
        }
        let response = UCPViews.SearchResponse(
            products: products, pagination: UCPViews.Pagination(has_next_page: more, cursor: more ? after : nil),
            shelf: UCPViews.shelfFacts(facts)
        )
        return try JSONResponder.respond(response, to: request, etag: false)
    }

    /// UCP search filters: `categories` (any of, matched against collections and tags) and `price` {min, max} in minor units.
    static func filter(query: String?, filters: JSONValue?) throws -> UCPFilter {
        var result = UCPFilter(base: CatalogFilter(query: query))
        guard let filters, filters != .null else { return result }
        guard case .object(let fields) = filters else { throw Problem(.validation, detail: "filters must be an object", field: "filters") }
        if let categories = fields["categories"] {
            guard case .array(let items) = categories, items.count <= 50 else {
                throw Problem(.validation, detail: "filters.categories must be an array of at most 50 strings", field: "filters.categories")
            }
            result.categories = try items.map {
                guard case .string(let s) = $0 else {
                    throw Problem(.validation, detail: "filters.categories must hold strings", field: "filters.categories")
                }
                return s
            }
        }
        if let price = fields["price"] {
            guard case .object(let band) = price else { throw Problem(.validation, detail: "filters.price must be an object", field: "filters.price") }
            for (key, value) in band {
                guard key == "min" || key == "max", case .number(let literal) = value, let n = Int64(literal), n >= 0 else {
                    throw Problem(.validation, detail: "filters.price.\(key) must be a non-negative integer in minor units",
                                  field: "filters.price.\(key)")
                }
                if key == "min" { result.base.minPrice = n } else { result.base.maxPrice = n }
            }
        }
        return result
    }

    // MARK: Lookup

    struct LookupBody: Decodable {
        var ids: [String]
        var filters: JSONValue?
    }

    static let lookupShape: StrictJSON.Shape = .object([
        "ids": .any, "filters": .any, "context": .any, "signals": .any, "attribution": .any,
    ])

    @Sendable func lookup(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let token = try context.authenticated()
        let body = try StrictJSON.decode(LookupBody.self, from: try await request.jsonBody(limit: 64 << 10), shape: Self.lookupShape)
        guard !body.ids.isEmpty else { throw Problem(.validation, detail: "ids must name at least one product or variant", field: "ids") }
        guard body.ids.count <= 100 else { throw Problem(.payloadTooLarge, detail: "at most 100 ids per lookup, got \(body.ids.count)", field: "ids") }
        let filter = try Self.filter(query: nil, filters: body.filters)
        let seller = try desk.seller(token)
        let builder = env.offerBuilder(seller)
        var order: [String] = []
        var groups: [String: [SKUState]] = [:]
        var inputs: [String: [UCPViews.InputCorrelation]] = [:]
        var featured: [String: String] = [:]
        for id in body.ids {
            let (variants, exact) = variants(of: id, in: seller)
            guard let first = variants.first else { continue }
            let productId = first.item.productId
            if groups[productId] == nil {
                order.append(productId)
                groups[productId] = variants
            }
            if let exact {
                inputs[exact, default: []].append(.init(id: id, match: "exact"))
                featured[productId] = featured[productId] ?? exact
            } else {
                inputs[first.sku, default: []].append(.init(id: id, match: "featured"))
            }
        }
        var products: [UCPViews.Product] = []
        var facts: [ProductFacts] = []
        for productId in order {
            let states = groups[productId]!.filter { filter.admits($0, now: builder.now) }
            guard !states.isEmpty else { continue }
            let f = states.map { ProductFacts($0, builder: builder, velocity: env.velocity, seller: seller.id) }
            var product = UCPViews.product(f, featured: featured[productId])
            // Lookup variants carry `inputs`; a variant nobody asked for directly is still part of the product, featured by it.
            let fallback = [UCPViews.InputCorrelation(id: productId, match: "featured")]
            product.variants = product.variants.map { v in
                var v = v
                v.inputs = inputs[v.id] ?? fallback
                return v
            }
            products.append(product)
            facts += f
        }
        return try JSONResponder.respond(UCPViews.LookupResponse(products: products, shelf: UCPViews.shelfFacts(facts)), to: request, etag: false)
    }

    /// The active variants for an id: a SKU (exact) brings its whole product; a product id brings all its variants.
    func variants(of id: String, in seller: SellerSnapshot) -> (variants: [SKUState], exact: String?) {
        if let state = seller.sku(id), state.item.active {
            return (seller.activeVariants(ofProduct: state.item.productId), state.sku)
        }
        return (seller.activeVariants(ofProduct: id), nil)
    }

    // MARK: Product

    @Sendable func product(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let token = try context.authenticated()
        let id = try context.pathParameter("id")
        let seller = try desk.seller(token)
        let (variants, exact) = variants(of: id, in: seller)
        guard !variants.isEmpty else { throw Problem(.notFound, detail: "no product or variant \(id)", field: "id") }
        let builder = env.offerBuilder(seller)
        var facts = variants.map { ProductFacts($0, builder: builder, velocity: env.velocity, seller: seller.id) }
        // Without a variant named, the first purchasable one is featured.
        let featured = exact ?? facts.first(where: { $0.status.isAvailable })?.state.sku ?? facts[0].state.sku
        if let i = facts.firstIndex(where: { $0.state.sku == featured }) { facts.insert(facts.remove(at: i), at: 0) }
        let product = UCPViews.product(facts, featured: featured, detail: true)
        return try JSONResponder.respond(UCPViews.ProductResponse(product: product, shelf: UCPViews.shelfFacts(facts)), to: request)
    }
}

/// UCP filters over the shared catalog filter: categories match a SKU's collections or tags (any of them).
struct UCPFilter: Sendable {
    var base: CatalogFilter
    var categories: [String] = []

    func admits(_ state: SKUState, now: Date) -> Bool {
        guard base.admits(state, now: now) else { return false }
        guard !categories.isEmpty else { return true }
        let mine = state.item.collections + state.item.tags
        return categories.contains { c in mine.contains { $0.caseInsensitiveCompare(c) == .orderedSame } }
    }
}
