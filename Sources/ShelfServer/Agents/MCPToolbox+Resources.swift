import Foundation
import MCP
import NIOCore
import ShelfCore
import ShelfLedger

/// Offers as MCP resources: `shelf://offers/{sku}` (listed, readable, a template, and subscribable on a session), and the
/// `watch_item` tool that creates a webhook watch for clients that cannot hold a session.
extension MCPToolbox {
    static let offerScheme = "shelf://offers/"
    /// Resources per `resources/list` page.
    static let resourcePage = 100

    static func offerURI(_ sku: String) -> String {
        offerScheme + (sku.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(.init(charactersIn: "/?#"))) ?? sku)
    }

    static let offerTemplate = Resource.Template(
        uriTemplate: "shelf://offers/{sku}", name: "offer", title: "Offer",
        description: "The offer for one unit of a SKU to the US, as GET /v1/offers/{sku} answers it: stock, price, delivery, "
            + "freshness and confidence. Subscribe to be told when it changes.",
        mimeType: "application/json"
    )

    /// Registers the resource methods on a server; subscriptions need `session`.
    func registerResources(on server: Server, session: MCPSession?) async {
        await server.withMethodHandler(ListResourceTemplates.self) { _ in ListResourceTemplates.Result(templates: [Self.offerTemplate]) }
        await server.withMethodHandler(ListResources.self) { params in try self.listResources(cursor: params.cursor) }
        await server.withMethodHandler(ReadResource.self) { params in try self.readResource(params.uri) }
        await server.withMethodHandler(ResourceSubscribe.self) { params in
            guard let session else {
                throw MCPError.invalidRequest("resources/subscribe needs a session: initialize with Accept: application/json, text/event-stream")
            }
            let sku = try self.resourceSKU(params.uri)
            do {
                try session.subscribe(sku: sku)
            } catch let problem as Problem {
                throw MCPError.invalidParams(problem.detail)
            }
            return Empty()
        }
        await server.withMethodHandler(ResourceUnsubscribe.self) { params in
            guard let session else { throw MCPError.invalidRequest("resources/unsubscribe needs a session") }
            session.unsubscribe(sku: try self.resourceSKU(params.uri))
            return Empty()
        }
    }

    /// The SKU a `shelf://offers/{sku}` URI names, if the seller has it (else a JSON-RPC invalid-params error).
    func resourceSKU(_ uri: String) throws -> String {
        guard uri.hasPrefix(Self.offerScheme), let sku = String(uri.dropFirst(Self.offerScheme.count)).removingPercentEncoding, !sku.isEmpty else {
            throw MCPError.invalidParams("unknown resource \(uri); offers are shelf://offers/{sku}")
        }
        do {
            _ = try desk.activeSKU(sku, in: try desk.seller(token))
        } catch let problem as Problem {
            throw MCPError.invalidParams(problem.detail)
        }
        return sku
    }

    func listResources(cursor: String?) throws -> ListResources.Result {
        let seller: SellerSnapshot
        do {
            seller = try desk.seller(token)
        } catch let problem as Problem {
            throw MCPError.invalidRequest(problem.detail)
        }
        var resources: [Resource] = []
        var after = cursor
        while resources.count < Self.resourcePage {
            let ids = seller.skuIDs(after: after, limit: 256)
            for id in ids {
                after = id
                guard let state = seller.sku(id), state.item.active else { continue }
                resources.append(Resource(name: id, uri: Self.offerURI(id), title: state.item.title, mimeType: "application/json"))
                if resources.count == Self.resourcePage { break }
            }
            if ids.count < 256 { break }
        }
        let more = resources.count == Self.resourcePage && !seller.skuIDs(after: after, limit: 1).isEmpty
        return ListResources.Result(resources: resources, nextCursor: more ? after : nil)
    }

    func readResource(_ uri: String) throws -> ReadResource.Result {
        let sku = try resourceSKU(uri)
        do {
            let seller = try desk.seller(token)
            let offer = try desk.offer(seller, sku: sku, qty: 1, destination: Destination(), channel: nil)
            let text = String(decoding: OfferJSON.encode(offer), as: UTF8.self)
            return ReadResource.Result(contents: [.text(text, uri: uri, mimeType: "application/json")])
        } catch let problem as Problem {
            throw MCPError.invalidParams(problem.detail)
        }
    }

    /// `watch_item`: the arguments are the body of `POST /v1/watches`; the answer is the watch (with its secret).
    func watchItem(_ raw: [String: Value]?) async throws -> WatchController.WatchView {
        let data = try JSONEncoder().encode(raw ?? [:])
        guard data.count <= WatchController.maxBodyBytes else {
            throw Problem(.payloadTooLarge, detail: "the arguments exceed \(WatchController.maxBodyBytes) bytes")
        }
        let body = try StrictJSON.decode(WatchController.CreateBody.self, from: ByteBuffer(bytes: data), shape: WatchController.createShape)
        return try await WatchController(env: desk.env).create(body, token: token)
    }

    static let watchItemTool = Tool(
        name: "watch_item", title: "Watch an item",
        description: "Creates a webhook watch: Shelf POSTs the offer (signed, Shelf-Signature: t=<unix>,v1=<HMAC-SHA256 of "
            + "\"<t>.<body>\">) to target.url when a condition becomes true — back_in_stock {qty}, stock_below {qty}, "
            + "price_at_or_below {price: {amount, currency}}, delivery_window_changed (needs destination) — or on any_change. "
            + "Name skus, a productId, or a catalog query {q, tags, collection, inStockOnly, minPrice, maxPrice} (the filters of "
            + "search_catalog; SKUs added later that satisfy it are watched too). For clients that cannot hold a session; with a session, subscribe to shelf://offers/{sku}.",
        inputSchema: object([
            "skus": ["type": "array", "items": ["type": "string"], "minItems": 1, "maxItems": 100],
            "productId": ["type": "string"],
            "query": object([
                "q": ["type": "string", "maxLength": 200], "tags": ["type": "array", "items": ["type": "string"], "maxItems": 20],
                "collection": ["type": "string"], "inStockOnly": ["type": "boolean"],
                "minPrice": ["type": "integer", "minimum": 0, "description": "Minor units."],
                "maxPrice": ["type": "integer", "minimum": 0, "description": "Minor units."],
            ], required: []),
            "qty": qty,
            "conditions": [
                "type": "array", "minItems": 1, "maxItems": 5,
                "items": object([
                    "type": ["type": "string", "enum": ["back_in_stock", "stock_below", "price_at_or_below", "delivery_window_changed", "any_change"]],
                    "qty": qty, "price": money,
                ], required: ["type"]),
            ],
            "destination": object(["country": country, "postalCode": postalCode], required: ["country"]),
            "target": object([
                "url": ["type": "string", "description": "https, or http to a loopback host."],
                "secret": ["type": "string", "minLength": 16, "maxLength": 256, "description": "Generated when absent."],
            ], required: ["url"]),
        ], required: ["conditions", "target"]),
        annotations: .init(title: "Watch an item", readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true),
        outputSchema: object([
            "id": ["type": "string"], "skus": ["type": "array", "items": ["type": "string"]], "productId": ["type": "string"], "query": ["type": "object"],
            "qty": ["type": "integer"], "conditions": ["type": "array", "items": ["type": "object"]], "destination": ["type": "object"],
            "target": object(["url": ["type": "string"], "secret": ["type": "string"]], required: ["url"]),
            "status": ["type": "string", "enum": ["active", "paused"]], "createdAt": ["type": "string", "format": "date-time"],
            "queued": ["type": "integer"],
        ], required: ["id", "skus", "qty", "conditions", "target", "status", "createdAt", "queued"], open: true)
    )
}
