import Foundation
import Hummingbird
import NIOCore
import ShelfCore
import ShelfLedger

/// Product feeds streamed from the snapshot (scope `read`), never built whole in memory:
/// - `GET /v1/feed/acp`: JSON Lines of Agentic Commerce Protocol products (release 2026-04-17). Each line is
///   `{"product": <ACP Product>, "shelf": {…}}`: the product object is exactly the closed ACP shape; Shelf's freshness and
///   confidence sit beside it.
/// - `GET /v1/feed/google.tsv`: Google Merchant Center rows (tab-separated, one per SKU, shipping per carrier service).
/// Both take `?since=<cursor>` (only products with a variant changed after that cursor) and answer the cursor to send next
/// time in `X-Shelf-Cursor`; an unchanged feed answers 304 to its ETag.
struct FeedController: Sendable {
    let env: ShelfEnvironment

    var routes: RouteCollection<ShelfRequestContext> {
        let routes = RouteCollection(context: ShelfRequestContext.self)
        let read = routes.requiring(.read, env.tokens)
        read.get("feed/acp", use: acp)
        read.get("feed/google.tsv", use: google)
        return routes
    }

    struct ACPOption: Encodable {
        var name: String
        var value: String
    }

    struct ACPVariant: Encodable {
        var id: String
        var title: String
        var url: String?
        var barcodes: [FeedParts.Barcode]?
        var price: Money
        var list_price: Money?
        var availability: FeedParts.Availability
        var variant_options: [ACPOption]?
        var media: [FeedParts.Media]?
    }

    struct ACPProduct: Encodable {
        var id: String
        var title: String
        var description: FeedParts.Description?
        var url: String?
        var media: [FeedParts.Media]?
        var variants: [ACPVariant]
    }

    /// Shelf's wrapper beside each product.
    struct ShelfVariantFacts: Encodable {
        var sku: String
        var available: Int
        var confidence: Double
        var sequence: Int64
    }

    struct ShelfFacts: Encodable {
        var freshness: FreshnessView
        var variants: [ShelfVariantFacts]
    }

    struct Line: Encodable {
        var product: ACPProduct
        var shelf: ShelfFacts
    }

    @Sendable func acp(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let encoder = ShelfJSON.encoder()
        return try stream(request, context, name: "acp", contentType: "application/jsonl") { _ in
            { run, builder, seller, buffer in
                buffer.writeBytes(try encoder.encode(Self.line(run, builder: builder, velocity: env.velocity, seller: seller)))
                buffer.writeString("\n")
            }
        }
    }

    @Sendable func google(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let country = try request.destination().country
        return try stream(request, context, name: "google-\(country)", contentType: "text/tab-separated-values; charset=utf-8",
                          header: GoogleMerchantRow.header) { seller in
            let reach = GoogleMerchantRow.reach(seller.catalog, country: country)
            return { run, builder, seller, buffer in
                for state in run {
                    let facts = ProductFacts(state, builder: builder, velocity: env.velocity, seller: seller)
                    buffer.writeString(GoogleMerchantRow(facts, reach: reach, country: country, now: builder.now).line)
                }
            }
        }
    }

    /// Writes one product's active variants into the feed body (builder, seller id).
    typealias Renderer = @Sendable ([SKUState], OfferBuilder, String, inout ByteBuffer) throws -> Void

    /// Streams a feed in SKU order, a page of ids at a time, handing `render` each product's active variants once (at the
    /// product's first SKU, wherever its other variants sort) when one of them changed after `?since`.
    func stream(
        _ request: Request, _ context: ShelfRequestContext, name: String, contentType: String, header: String? = nil,
        renderer: (SellerSnapshot) -> Renderer
    ) throws -> Response {
        let token = try context.authenticated()
        guard let seller = env.snapshot.seller(token.seller) else { throw Problem(.notFound, detail: "unknown seller") }
        var since: Int64 = 0
        if let text = request.uri.queryParameters.get("since") {
            guard let n = Int64(text), n >= 0 else { throw Problem(.validation, detail: "since must be a cursor from X-Shelf-Cursor", field: "since") }
            since = n
        }
        let cursor = seller.lastSequence
        let etag = "\"\(name)-\(seller.id)-\(since)-\(cursor)\""
        var headers = HTTPFields()
        headers[.eTag] = etag
        headers[.init("X-Shelf-Cursor")!] = String(cursor)
        headers[.cacheControl] = "no-cache"
        if request.headers[.ifNoneMatch]?.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == etag }) == true {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = contentType
        let builder = env.offerBuilder(seller)
        let render = renderer(seller)
        let changedAfter = since
        let body = ResponseBody { writer in
            var after: String?
            var buffer = ByteBuffer()
            if let header { buffer.writeString(header) }
            while true {
                let ids = seller.skuIDs(after: after, limit: 1000)
                guard !ids.isEmpty else { break }
                after = ids.last
                for id in ids {
                    guard let run = Self.product(at: id, in: seller), run.contains(where: { $0.lastSequence > changedAfter }) else { continue }
                    try render(run, builder, seller.id, &buffer)
                }
                if buffer.readableBytes > 1 << 16 {
                    try await writer.write(buffer)
                    buffer.clear()
                }
            }
            if buffer.readableBytes > 0 { try await writer.write(buffer) }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    /// The active variants of the product whose first SKU is `id`; nil when `id` is not a product's first SKU or none is active.
    static func product(at id: String, in seller: SellerSnapshot) -> [SKUState]? {
        guard let state = seller.sku(id), seller.skus(ofProduct: state.item.productId).first == id else { return nil }
        let run = seller.activeVariants(ofProduct: state.item.productId)
        return run.isEmpty ? nil : run
    }

    static func line(_ run: [SKUState], builder: OfferBuilder, velocity: SalesVelocity, seller: String) -> Line {
        let facts = run.map { ProductFacts($0, builder: builder, velocity: velocity, seller: seller) }
        let variants = facts.map { f -> ACPVariant in
            let item = f.state.item
            return ACPVariant(
                id: item.sku, title: item.title, url: item.url, barcodes: item.barcode.map { [FeedParts.Barcode($0)] },
                price: Money(amount: f.price.amount, currency: f.price.currency),
                list_price: f.listPrice,
                availability: FeedParts.Availability(available: f.status.isAvailable, status: f.status.rawValue),
                variant_options: item.options.isEmpty ? nil : item.options.keys.sorted().map { ACPOption(name: $0, value: item.options[$0]!) },
                media: item.mediaURLs.isEmpty ? nil : item.mediaURLs.map { FeedParts.Media(url: $0) }
            )
        }
        let first = run[0].item
        let product = ACPProduct(
            id: first.productId, title: first.productTitle, description: first.description.isEmpty ? nil : FeedParts.Description(plain: first.description),
            url: first.url.map { $0.split(separator: "?").first.map(String.init) ?? $0 },
            media: first.mediaURLs.isEmpty ? nil : first.mediaURLs.prefix(1).map { FeedParts.Media(url: $0) },
            variants: variants
        )
        let shelf = ShelfFacts(
            freshness: builder.freshness(for: run[0], rates: .none).0,
            variants: facts.map { ShelfVariantFacts(sku: $0.state.sku, available: $0.available, confidence: $0.confidence, sequence: $0.state.lastSequence) }
        )
        return Line(product: product, shelf: shelf)
    }
}
