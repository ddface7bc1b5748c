import Foundation
import ShelfCore

/// WooCommerce REST API v3: `products/batch` (100 per call; `products/{parent}/variations/batch` for variations)
/// pushes, page-numbered `products` polls (next page from the `Link: rel="next"` header), and webhooks signed
/// `X-WC-Webhook-Signature: base64(HMAC-SHA256(secret, body))`, deduped by `X-WC-Webhook-Delivery-ID`.
///
/// Credentials: `consumerKey`, `consumerSecret` (HTTP Basic over HTTPS). `externalId` is the product (or variation)
/// id; variations need `references["parentId"]`. Product JSON has no currency: pass `storeCurrency` to read prices.
public struct WooCommerceConnector: ChannelConnector {
    public let kind = ChannelKind.woocommerce
    /// One push request carries many SKUs (see `ChannelConnector.batchesPushes`).
    public var batchesPushes: Bool { true }
    public static let maxUpdatesPerBatch = 100
    public static let pollPageSize = 100
    /// The store's currency (WooCommerce product JSON omits it); nil leaves polled prices out.
    public let storeCurrency: String?

    public init(storeCurrency: String? = nil) {
        self.storeCurrency = storeCurrency
    }

    private func headers(_ settings: ConnectorSettings) -> [String: String] {
        let pair = settings.credential("consumerKey") + ":" + settings.credential("consumerSecret")
        return ["Authorization": "Basic " + WebhookCrypto.base64(Array(pair.utf8))]
    }

    public func pushRequests(_ updates: [ListingUpdate], settings: ConnectorSettings) throws -> [ChannelHTTPRequest] {
        var groupOrder: [String] = []
        var groups: [String: [ListingUpdate]] = [:]
        for update in updates {
            guard Int64(update.externalId) != nil else { throw ConnectorError.invalidPayload("WooCommerce ids are integers: \(update.externalId)") }
            let parent = update.references["parentId"] ?? ""
            if groups[parent] == nil { groupOrder.append(parent) }
            groups[parent, default: []].append(update)
        }
        var requests: [ChannelHTTPRequest] = []
        for parent in groupOrder {
            let path = parent.isEmpty ? "/wp-json/wc/v3/products/batch" : "/wp-json/wc/v3/products/\(URLQuery.encode(parent))/variations/batch"
            for chunk in ConnectorSupport.chunks(groups[parent]!, of: Self.maxUpdatesPerBatch) {
                let entries: [JSONValue] = chunk.map { update in
                    var entry: [String: JSONValue] = [
                        "id": .number(update.externalId),
                        "manage_stock": .bool(true),
                        "stock_quantity": .int(update.publishedQuantity),
                    ]
                    if let price = update.price { entry["regular_price"] = .string(price.decimalString) }
                    return .object(entry)
                }
                requests.append(
                    ConnectorSupport.jsonRequest(
                        "POST",
                        settings.baseURL + path,
                        headers: headers(settings),
                        body: .object(["update": .array(entries)]),
                        skus: chunk.map(\.sku)
                    )
                )
            }
        }
        return requests
    }

    public func pushOutcome(status: Int, headers: [String: String], body: [UInt8]) -> PushOutcome {
        guard (200..<300).contains(status) else { return HTTPStatusClassifier.outcome(status: status, headers: headers, body: body) }
        guard let json = try? JSONValue.parse(body), let updated = json["update"]?.arrayValue else { return .accepted }
        let failed = updated.filter { $0["error"] != nil }
        guard !failed.isEmpty else { return .accepted }
        return .rejected(
            reason: failed.compactMap { $0["error"]?["message"]?.stringValue }.joined(separator: "; "),
            skus: failed.compactMap { $0["sku"]?.stringValue }
        )
    }

    public func pollRequest(settings: ConnectorSettings, cursor: String?, etag: String?) -> ChannelHTTPRequest {
        let url = URLQuery.url(
            settings.baseURL,
            "/wp-json/wc/v3/products",
            [("per_page", String(Self.pollPageSize)), ("page", cursor ?? "1"), ("orderby", "id"), ("order", "asc")]
        )
        return ConnectorSupport.jsonRequest("GET", url, headers: ConnectorSupport.conditional(headers(settings), etag: etag), body: nil)
    }

    public func parsePollResponse(status: Int, headers: [String: String], body: [UInt8]) throws -> PollPage {
        try HTTPStatusClassifier.checkPoll(status: status, headers: headers, body: body)
        if status == 304 { return HTTPStatusClassifier.notModifiedPage(headers: headers) }
        guard let products = try ConnectorSupport.json(body).arrayValue else { throw ConnectorError.invalidPayload("expected an array of products") }
        var levels: [ChannelStockLevel] = []
        for product in products {
            guard let id = product["id"]?.int64Value else { throw ConnectorError.invalidPayload("product id is not an integer") }
            // Products that do not manage stock have no quantity to report.
            guard let quantity = product["stock_quantity"]?.intValue else { continue }
            let sku = product["sku"]?.stringValue
            levels.append(
                ChannelStockLevel(
                    sku: sku?.isEmpty == false ? sku : nil,
                    externalId: String(id),
                    quantity: quantity,
                    price: ConnectorSupport.money(product["price"], currency: storeCurrency),
                    updatedAt: product["date_modified_gmt"]?.stringValue.flatMap(Self.gmtDate)
                )
            )
        }
        return PollPage(levels: levels, nextCursor: Self.nextPage(HTTPHeaders.value(headers, "link")), etag: HTTPHeaders.value(headers, "etag"))
    }

    /// WooCommerce `_gmt` dates have no zone designator: they are UTC.
    static func gmtDate(_ text: String) -> Date? {
        Timestamp.parse(text) ?? Timestamp.parse(text + "Z")
    }

    /// The `page` of the `rel="next"` entry of a Link header.
    static func nextPage(_ link: String?) -> String? {
        guard let link else { return nil }
        for entry in link.split(separator: ",") where entry.contains("rel=\"next\"") {
            guard let open = entry.firstIndex(of: "<"), let close = entry.firstIndex(of: ">"), open < close else { continue }
            return URLQuery.items(of: String(entry[entry.index(after: open)..<close]))["page"]
        }
        return nil
    }

    // MARK: Webhooks

    static func topicName(_ topic: WebhookTopic) -> String {
        switch topic {
        case .order: return "order.created"
        case .cancel: return "order.updated"
        case .inventory: return "product.updated"
        }
    }

    public func verifyWebhook(headers: [String: String], body: [UInt8], secret: String) -> Bool {
        guard !body.isEmpty, !secret.isEmpty, let header = HTTPHeaders.value(headers, "x-wc-webhook-signature"),
            let presented = WebhookCrypto.base64Decode(header)
        else { return false }
        return WebhookCrypto.constantTimeEquals(presented, WebhookCrypto.hmacSHA256(secret: secret, message: body))
    }

    public func parseWebhook(headers: [String: String], body: [UInt8]) throws -> [ChannelWebhookEvent] {
        guard let deliveryId = HTTPHeaders.value(headers, "x-wc-webhook-delivery-id"), !deliveryId.isEmpty else {
            throw ConnectorError.invalidPayload("missing X-WC-Webhook-Delivery-ID")
        }
        let topic = HTTPHeaders.value(headers, "x-wc-webhook-topic") ?? ""
        let json = try ConnectorSupport.json(body)
        switch topic {
        case "order.created", "order.updated":
            guard let orderId = json["id"]?.int64Value else { throw ConnectorError.invalidPayload("order id is not an integer") }
            let status = json["status"]?.stringValue ?? ""
            let kind: ChannelWebhookEvent.Kind
            if status == "cancelled" {
                kind = .orderCancelled
            } else if topic == "order.created" {
                kind = .orderPlaced
            } else {
                return []
            }
            let lines = (json["line_items"]?.arrayValue ?? []).map { item in
                let variation = item["variation_id"]?.int64Value ?? 0
                let product = item["product_id"]?.int64Value ?? 0
                let sku = item["sku"]?.stringValue
                return ChannelWebhookEvent.Line(
                    sku: sku?.isEmpty == false ? sku : nil,
                    externalId: String(variation != 0 ? variation : product),
                    quantity: item["quantity"]?.intValue ?? 0
                )
            }
            let when = (kind == .orderCancelled ? json["date_modified_gmt"] : json["date_created_gmt"])?.stringValue
            return [
                ChannelWebhookEvent(kind: kind, eventId: deliveryId, orderId: String(orderId), lines: lines, occurredAt: when.flatMap(Self.gmtDate))
            ]
        case "product.updated", "product.created":
            guard let productId = json["id"]?.int64Value else { throw ConnectorError.invalidPayload("product id is not an integer") }
            guard let quantity = json["stock_quantity"]?.intValue else { return [] }
            let sku = json["sku"]?.stringValue
            return [
                ChannelWebhookEvent(
                    kind: .inventoryLevel,
                    eventId: deliveryId,
                    lines: [ChannelWebhookEvent.Line(sku: sku?.isEmpty == false ? sku : nil, externalId: String(productId), quantity: quantity)],
                    occurredAt: json["date_modified_gmt"]?.stringValue.flatMap(Self.gmtDate)
                )
            ]
        default:
            return []
        }
    }

    public func signWebhook(body: [UInt8], secret: String, eventId: String, topic: WebhookTopic, now: Date) -> [String: String] {
        let name = Self.topicName(topic)
        let parts = name.split(separator: ".")
        return [
            "Content-Type": "application/json",
            "X-WC-Webhook-Source": "https://shelf-sim.example/",
            "X-WC-Webhook-Topic": name,
            "X-WC-Webhook-Resource": String(parts[0]),
            "X-WC-Webhook-Event": String(parts[1]),
            "X-WC-Webhook-Signature": WebhookCrypto.base64(WebhookCrypto.hmacSHA256(secret: secret, message: body)),
            "X-WC-Webhook-ID": "1",
            "X-WC-Webhook-Delivery-ID": eventId,
        ]
    }

    public func webhookBody(_ draft: WebhookDraft) throws -> [UInt8] {
        let at = String(Timestamp.formatSeconds(draft.occurredAt).dropLast())
        switch draft.topic {
        case .order, .cancel:
            let orderId = ConnectorSupport.numericId(draft.orderId ?? draft.eventId)
            let items: [JSONValue] = draft.lines.enumerated().map { index, line in
                .object([
                    "id": .int(orderId &* 100 &+ Int64(index + 1)),
                    "name": .string(line.sku ?? "item"),
                    "product_id": .int(ConnectorSupport.numericId(line.externalId ?? "0")),
                    "variation_id": .int(0),
                    "quantity": .int(line.quantity),
                    "sku": .string(line.sku ?? ""),
                ])
            }
            return JSONValue.object([
                "id": .int(orderId),
                "status": .string(draft.topic == .order ? "processing" : "cancelled"),
                "currency": .string("USD"),
                "date_created_gmt": .string(at),
                "date_modified_gmt": .string(at),
                "line_items": .array(items),
            ]).serializedBytes
        case .inventory:
            guard draft.lines.count == 1, let line = draft.lines.first, let externalId = line.externalId else {
                throw ConnectorError.invalidPayload("product.updated carries exactly one product with an externalId")
            }
            return JSONValue.object([
                "id": .int(ConnectorSupport.numericId(externalId)),
                "sku": .string(line.sku ?? ""),
                "manage_stock": .bool(true),
                "stock_quantity": .int(line.quantity),
                "stock_status": .string(line.quantity > 0 ? "instock" : "outofstock"),
                "date_modified_gmt": .string(at),
            ]).serializedBytes
        }
    }
}
