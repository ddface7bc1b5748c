import Foundation
import MCP
import ShelfCore
import ShelfLedger

/// Shelf's MCP tools for one authenticated caller: their definitions (input and output schemas, hints) and their calls,
/// each answered through `AgentDesk` so MCP and REST never disagree.
struct MCPToolbox: Sendable {
    let desk: AgentDesk
    let token: TokenInfo
    /// The stateful session the server belongs to (nil for a stateless request): resource subscriptions live there.
    var session: MCPSession? = nil

    /// A fresh MCP server exposing the tools and the offer resources (one per stateless request or per session).
    func makeServer() async -> Server {
        let server = Server(
            name: "shelf", version: "1.0.0", title: "Shelf",
            instructions: "Truthful, fresh answers to: can I buy N of this, at what price, delivered when — and how sure are you? "
                + "Every answer carries freshness (how old the underlying channel data is) and a confidence in [0, 1]. "
                + "Money is integer minor units with an ISO 4217 currency.",
            capabilities: .init(resources: .init(subscribe: true, listChanged: false), tools: .init(listChanged: false))
        )
        let tools = Self.tools + [Self.watchItemTool]
        await server.withMethodHandler(ListTools.self) { _ in ListTools.Result(tools: tools) }
        await server.withMethodHandler(CallTool.self) { params in await self.call(params.name, params.arguments) }
        await registerResources(on: server, session: session)
        return server
    }

    /// Runs one tool; Shelf problems become tool errors (`isError`) whose text is the RFC 9457 document.
    func call(_ name: String, _ arguments: [String: Value]?) async -> CallTool.Result {
        do {
            let data: Data
            switch name {
            case "get_offer": data = try ShelfJSON.encode(try getOffer(arguments))
            case "check_availability": data = try ShelfJSON.encode(try checkAvailability(arguments))
            case "get_delivery_options": data = try ShelfJSON.encode(try deliveryOptions(arguments))
            case "search_catalog": data = try ShelfJSON.encode(try searchCatalog(arguments))
            case "reserve_stock": data = try ShelfJSON.encode(try await reserve(arguments))
            case "release_reservation": data = try ShelfJSON.encode(try await release(arguments))
            case "watch_item": data = try ShelfJSON.encode(try await watchItem(arguments))
            default:
                let names = (Self.tools + [Self.watchItemTool]).map(\.name).joined(separator: ", ")
                throw Problem(.notFound, detail: "unknown tool \(name); tools: \(names)", field: "name")
            }
            let structured = try JSONDecoder().decode(Value.self, from: data)
            return try CallTool.Result(content: [.text(text: String(decoding: data, as: UTF8.self), annotations: nil, _meta: nil)],
                                   structuredContent: structured, isError: false)
        } catch {
            let problem = error as? Problem ?? Problem(.internalError, detail: "the tool failed")
            let text = (try? ShelfJSON.string(problem)) ?? problem.detail
            return CallTool.Result(content: [.text(text: text, annotations: nil, _meta: nil)], isError: true)
        }
    }

    // MARK: - Calls

    func getOffer(_ raw: [String: Value]?) throws -> OfferView {
        let args = try MCPToolArguments(raw, allowed: ["sku", "qty", "country", "postalCode", "channel"])
        let seller = try desk.seller(token)
        return try desk.offer(
            seller, sku: try args.requiredString("sku"), qty: try args.int("qty", default: 1, range: AgentDesk.qtyRange)!,
            destination: try AgentDesk.destination(country: try args.string("country"), postalCode: try args.string("postalCode")),
            channel: try desk.channel(try args.string("channel"), in: seller)
        )
    }

    /// `check_availability` answer: one compact line per SKU.
    struct AvailabilityView: Encodable {
        struct Line: Encodable {
            var sku: String
            var qty: Int
            var purchasable: Bool
            var available: Int
            var price: Money
            var confidence: Double
            var reasons: [String]
            var freshness: FreshnessView
        }

        var items: [Line]
        var notFound: [String]
        var allPurchasable: Bool
    }

    func checkAvailability(_ raw: [String: Value]?) throws -> AvailabilityView {
        let args = try MCPToolArguments(raw, allowed: ["items", "country", "postalCode", "channel"])
        let seller = try desk.seller(token)
        let batch = try desk.offers(
            seller, lines: try args.lines("items", max: desk.env.configuration.maxBatchSKUs),
            destination: try AgentDesk.destination(country: try args.string("country"), postalCode: try args.string("postalCode")),
            channel: try desk.channel(try args.string("channel"), in: seller)
        )
        let lines = batch.offers.map {
            AvailabilityView.Line(sku: $0.sku, qty: $0.qty, purchasable: $0.purchasable, available: $0.stock.available, price: $0.price,
                                  confidence: $0.confidence, reasons: $0.reasons, freshness: $0.freshness)
        }
        return AvailabilityView(items: lines, notFound: batch.notFound, allPurchasable: batch.notFound.isEmpty && lines.allSatisfy(\.purchasable))
    }

    /// `get_delivery_options` answer: the options plus how sure Shelf is the units are there.
    struct DeliveryOptionsView: Encodable {
        var sku: String
        var qty: Int
        var country: String
        var postalCode: String?
        var purchasable: Bool
        var confidence: Double
        var freshness: FreshnessView
        var options: [DeliveryOptionView]
    }

    func deliveryOptions(_ raw: [String: Value]?) throws -> DeliveryOptionsView {
        let args = try MCPToolArguments(raw, allowed: ["sku", "qty", "country", "postalCode"])
        let seller = try desk.seller(token)
        let sku = try args.requiredString("sku")
        let qty = try args.int("qty", default: 1, range: AgentDesk.qtyRange)!
        let destination = try AgentDesk.destination(country: try args.string("country"), postalCode: try args.string("postalCode"))
        let delivery = try desk.delivery(seller, sku: sku, qty: qty, destination: destination)
        let offer = try desk.offer(seller, sku: sku, qty: qty, destination: destination, channel: nil)
        return DeliveryOptionsView(sku: sku, qty: qty, country: delivery.country, postalCode: delivery.postalCode, purchasable: offer.purchasable,
                                   confidence: offer.confidence, freshness: offer.freshness, options: delivery.options)
    }

    /// `search_catalog` answer: catalog entries with a confidence for one unit, and how current the catalog is.
    struct SearchView: Encodable {
        struct Hit: Encodable {
            var entry: CatalogEntryView
            var confidence: Double

            func encode(to encoder: any Encoder) throws {
                try entry.encode(to: encoder)
                var c = encoder.container(keyedBy: Key.self)
                try c.encode(confidence, forKey: .confidence)
            }

            enum Key: String, CodingKey { case confidence }
        }

        struct Currency: Encodable {
            var asOf: Date?
            var sequence: Int64
        }

        var items: [Hit]
        var nextCursor: String?
        var catalog: Currency
    }

    func searchCatalog(_ raw: [String: Value]?) throws -> SearchView {
        let args = try MCPToolArguments(raw, allowed: ["query", "tags", "collection", "inStockOnly", "minPrice", "maxPrice", "limit", "cursor"])
        let query = try args.string("query")
        if let query, query.count > 200 { throw Problem(.validation, detail: "query is at most 200 characters", field: "query") }
        let filter = CatalogFilter(
            query: query, tags: try args.strings("tags", max: 20), collection: try args.string("collection"),
            inStockOnly: try args.bool("inStockOnly") ?? false,
            minPrice: try args.int("minPrice", default: nil, range: 0...Int(Int32.max) * 1000).map(Int64.init),
            maxPrice: try args.int("maxPrice", default: nil, range: 0...Int(Int32.max) * 1000).map(Int64.init)
        )
        let seller = try desk.seller(token)
        let page = desk.search(seller, filter: filter, limit: try args.int("limit", default: 20, range: 1...100)!, cursor: try args.string("cursor"))
        let builder = desk.env.offerBuilder(seller)
        let hits = page.items.map { entry -> SearchView.Hit in
            let confidence = seller.sku(entry.sku).map {
                builder.offer(for: $0, qty: 1, destination: Destination(), channel: nil,
                              rates: desk.env.velocity.rates(seller: seller.id, sku: entry.sku, now: builder.now), delivery: false).confidence
            } ?? 0
            return SearchView.Hit(entry: entry, confidence: confidence)
        }
        return SearchView(items: hits, nextCursor: page.nextCursor, catalog: .init(asOf: seller.lastRecordedAt, sequence: seller.lastSequence))
    }

    func reserve(_ raw: [String: Value]?) async throws -> ReservationView {
        let args = try MCPToolArguments(raw, allowed: ["sku", "qty", "ttlSeconds", "location", "idempotencyKey"])
        let hold = AgentDesk.HoldRequest(
            sku: try args.requiredString("sku"), qty: try args.int("qty", default: 1, range: AgentDesk.qtyRange)!,
            ttlSeconds: try args.int("ttlSeconds", default: 900, range: AgentDesk.ttlRange)!, location: try args.string("location"), channel: nil
        )
        let key = try args.requiredString("idempotencyKey")
        let digest = try ShelfJSON.encode(["sku": hold.sku, "qty": String(hold.qty), "ttlSeconds": String(hold.ttlSeconds),
                                           "location": hold.location ?? ""]).sha256Hex
        return try await desk.hold(token, hold, key: "mcp:" + key, requestHash: digest).view
    }

    func release(_ raw: [String: Value]?) async throws -> ReservationView {
        let args = try MCPToolArguments(raw, allowed: ["reservationId"])
        return try await desk.end(token, id: try args.requiredString("reservationId"), committing: false)
    }
}
