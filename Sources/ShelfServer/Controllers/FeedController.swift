import Foundation
import Hummingbird
import NIOCore
import ShelfCore
import ShelfLedger

/// `GET /v1/feed/acp` (scope `read`): JSON Lines of Agentic Commerce Protocol products (release 2026-04-17), streamed from the
/// snapshot. Each line is `{"product": <ACP Product>, "shelf": {…}}`: the product object is exactly the closed ACP shape; Shelf's
/// freshness and confidence sit beside it. `?since=<cursor>` returns only products with a variant changed after that cursor;
/// the `X-Shelf-Cursor` header carries the cursor to send next time; an unchanged feed answers 304 to its ETag.
struct FeedController: Sendable {
    let env: ShelfEnvironment

    func register(on router: Router<ShelfRequestContext>) {
        router.get("/v1/feed/acp", use: acp)
    }

    struct ACPPrice: Encodable {
        var amount: Int64
        var currency: String
    }

    struct ACPAvailability: Encodable {
        var available: Bool
        var status: String
    }

    struct ACPMedia: Encodable {
        var type: String
        var url: String
    }

    struct ACPBarcode: Encodable {
        var type: String
        var value: String
    }

    struct ACPOption: Encodable {
        var name: String
        var value: String
    }

    struct ACPDescription: Encodable {
        var plain: String
    }

    struct ACPVariant: Encodable {
        var id: String
        var title: String
        var url: String?
        var barcodes: [ACPBarcode]?
        var price: ACPPrice
        var list_price: ACPPrice?
        var availability: ACPAvailability
        var variant_options: [ACPOption]?
        var media: [ACPMedia]?
    }

    struct ACPProduct: Encodable {
        var id: String
        var title: String
        var description: ACPDescription?
        var url: String?
        var media: [ACPMedia]?
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
        let token = try request.authenticate(env.tokens, scope: .read)
        guard let seller = env.snapshot.seller(token.seller) else { throw Problem(.notFound, detail: "unknown seller") }
        var since: Int64 = 0
        if let text = request.uri.queryParameters.get("since") {
            guard let n = Int64(text), n >= 0 else { throw Problem(.validation, detail: "since must be a cursor from X-Shelf-Cursor", field: "since") }
            since = n
        }
        let cursor = seller.lastSequence
        let etag = "\"acp-\(seller.id)-\(since)-\(cursor)\""
        var headers = HTTPFields()
        headers[.eTag] = etag
        headers[.init("X-Shelf-Cursor")!] = String(cursor)
        headers[.cacheControl] = "no-cache"
        if request.headers[.ifNoneMatch]?.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == etag }) == true {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = "application/jsonl"
        let builder = env.offerBuilder(seller)
        let velocity = env.velocity
        let after0 = since
        let body = ResponseBody { writer in
            let encoder = ShelfJSON.encoder()
            var after: String?
            var run: [SKUState] = []
            var buffer = ByteBuffer()
            func flush(_ run: [SKUState], _ buffer: inout ByteBuffer) throws {
                guard let first = run.first, run.contains(where: { $0.lastSequence > after0 }) else { return }
                buffer.writeBytes(try encoder.encode(Self.line(run, first: first, builder: builder, velocity: velocity, seller: seller.id)))
                buffer.writeString("\n")
            }
            // Streams in SKU order, a page of ids at a time; variants of one product are adjacent runs.
            while true {
                let ids = seller.skuIDs(after: after, limit: 1000)
                guard !ids.isEmpty else { break }
                after = ids.last
                for id in ids {
                    guard let state = seller.sku(id), state.item.active else { continue }
                    if let first = run.first, first.item.productId != state.item.productId {
                        try flush(run, &buffer)
                        run.removeAll(keepingCapacity: true)
                    }
                    run.append(state)
                }
                if buffer.readableBytes > 1 << 16 {
                    try await writer.write(buffer)
                    buffer.clear()
                }
            }
            try flush(run, &buffer)
            if buffer.readableBytes > 0 { try await writer.write(buffer) }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    static func line(_ run: [SKUState], first: SKUState, builder: OfferBuilder, velocity: SalesVelocity, seller: String) -> Line {
        let now = builder.now
        var facts: [ShelfVariantFacts] = []
        let variants = run.map { s -> ACPVariant in
            let available = s.available(now: now)
            let offer = builder.offer(for: s, qty: 1, destination: Destination(), channel: nil, rates: velocity.rates(seller: seller, sku: s.sku, now: now))
            facts.append(ShelfVariantFacts(sku: s.sku, available: available, confidence: offer.confidence, sequence: s.lastSequence))
            let status = available == 0 ? (s.totalLevel(now: now).incoming > 0 ? "backorder" : "out_of_stock") : (available < 5 ? "limited_stock" : "in_stock")
            let price = s.item.effectivePrice(at: now)
            let list = s.item.compareAtPrice ?? (price != s.item.price ? s.item.price : nil)
            return ACPVariant(
                id: s.sku, title: s.item.title, url: s.item.url, barcodes: s.item.barcode.map { [ACPBarcode(type: $0.count == 13 ? "EAN" : "UPC", value: $0)] },
                price: ACPPrice(amount: price.amount, currency: price.currency), list_price: list.map { ACPPrice(amount: $0.amount, currency: $0.currency) },
                availability: ACPAvailability(available: available > 0, status: status),
                variant_options: s.item.options.isEmpty ? nil : s.item.options.keys.sorted().map { ACPOption(name: $0, value: s.item.options[$0]!) },
                media: s.item.mediaURLs.isEmpty ? nil : s.item.mediaURLs.map { ACPMedia(type: "image", url: $0) }
            )
        }
        let freshness = builder.freshness(for: first, rates: [:]).0
        let product = ACPProduct(
            id: first.item.productId, title: first.item.productTitle, description: first.item.description.isEmpty ? nil : ACPDescription(plain: first.item.description),
            url: first.item.url.map { $0.split(separator: "?").first.map(String.init) ?? $0 }, media: first.item.mediaURLs.isEmpty ? nil : first.item.mediaURLs.prefix(1).map { ACPMedia(type: "image", url: $0) },
            variants: variants
        )
        return Line(product: product, shelf: ShelfFacts(freshness: freshness, variants: facts))
    }
}
