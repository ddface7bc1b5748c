import Foundation
import ShelfCore

/// TikTok Shop Open API (version 202309): per-product `inventory/update` and `prices/update` pushes, `products/search`
/// token polls, and webhooks signed `Authorization: hex(HMAC-SHA256(app_secret, app_key + body))`. Order webhooks
/// (type 1, `ORDER_STATUS_CHANGE`) carry only the order id: read the lines with `orderDetailRequest`.
///
/// Every API call is signed: `sign = hex(HMAC-SHA256(app_secret, app_secret + path + sorted(k+v, without sign and
/// access_token) + body + app_secret))`, with `app_key`, `timestamp`, `shop_cipher` in the query.
/// Credentials: `appKey`, `appSecret`, `accessToken` (`x-tts-access-token`), `shopCipher`. `channelLocationId`:
/// warehouse id (optional). `externalId` is the product id; every update needs `references["skuId"]`.
/// The webhook secret is `"<app_key>:<app_secret>"` (or just the app secret, meaning an empty app key).
public struct TikTokShopConnector: ChannelConnector {
    public let kind = ChannelKind.tiktok
    /// One push request carries many SKUs (see `ChannelConnector.batchesPushes`).
    public var batchesPushes: Bool { true }
    /// A price is a request of its own: sent only when it changed (see `ChannelConnector.pushesPriceSeparately`).
    public var pushesPriceSeparately: Bool { true }
    public static let apiVersion = "202309"
    public static let pollPageSize = 100
    private let now: @Sendable () -> Date

    /// - Parameter now: clock for the signed `timestamp` query parameter.
    public init(now: @escaping @Sendable () -> Date = { Date() }) {
        self.now = now
    }

    /// The signature TikTok expects for one request.
    public static func requestSignature(path: String, query: [String: String], body: [UInt8], appSecret: String) -> String {
        let parameters = query.filter { $0.key != "sign" && $0.key != "access_token" }.sorted { $0.key < $1.key }
        var message = Array((appSecret + path + parameters.map { $0.key + $0.value }.joined()).utf8)
        message += body
        message += Array(appSecret.utf8)
        return WebhookCrypto.hex(WebhookCrypto.hmacSHA256(secret: appSecret, message: message))
    }

    private func signedRequest(
        _ method: String,
        path: String,
        query extra: [(String, String)],
        body: JSONValue?,
        settings: ConnectorSettings,
        skus: [String] = []
    )
        -> ChannelHTTPRequest
    {
        var query: [(String, String)] = [
            ("app_key", settings.credential("appKey")),
            ("timestamp", String(Timestamp.epochSeconds(now()))),
        ]
        if let cipher = settings.credentials["shopCipher"], !cipher.isEmpty { query.append(("shop_cipher", cipher)) }
        query += extra
        let bodyBytes = body?.serializedBytes ?? []
        let sign = Self.requestSignature(
            path: path,
            query: Dictionary(query, uniquingKeysWith: { _, last in last }),
            body: bodyBytes,
            appSecret: settings.credential("appSecret")
        )
        let url = URLQuery.url(settings.baseURL, path, (query + [("sign", sign)]).map { ($0.0, Optional($0.1)) })
        var headers = ["x-tts-access-token": settings.credential("accessToken"), "Accept": "application/json"]
        if body != nil { headers["Content-Type"] = "application/json" }
        return ChannelHTTPRequest(method: method, url: url, headers: headers, body: bodyBytes, skus: skus)
    }

    public func pushRequests(_ updates: [ListingUpdate], settings: ConnectorSettings) throws -> [ChannelHTTPRequest] {
        var productOrder: [String] = []
        var byProduct: [String: [(ListingUpdate, String)]] = [:]
        for update in updates {
            guard let skuId = update.references["skuId"], !skuId.isEmpty else {
                throw ConnectorError.missingReference(field: "skuId", sku: update.sku)
            }
            if byProduct[update.externalId] == nil { productOrder.append(update.externalId) }
            byProduct[update.externalId, default: []].append((update, skuId))
        }
        var requests: [ChannelHTTPRequest] = []
        for productId in productOrder {
            let entries = byProduct[productId]!
            let skus: [JSONValue] = entries.map { update, skuId in
                var stock: [String: JSONValue] = ["quantity": .int(update.publishedQuantity)]
                if let warehouse = settings.channelLocationId, !warehouse.isEmpty { stock["warehouse_id"] = .string(warehouse) }
                return .object(["id": .string(skuId), "inventory": .array([.object(stock)])])
            }
            let path = "/product/\(Self.apiVersion)/products/\(URLQuery.encode(productId))/inventory/update"
            requests.append(
                signedRequest("POST", path: path, query: [], body: .object(["skus": .array(skus)]), settings: settings, skus: entries.map(\.0.sku))
            )
            let priced = entries.filter { $0.0.price != nil }
            if !priced.isEmpty {
                let prices: [JSONValue] = priced.map { update, skuId in
                    .object([
                        "id": .string(skuId),
                        "price": .object(["amount": .string(update.price!.decimalString), "currency": .string(update.price!.currency)]),
                    ])
                }
                let pricePath = "/product/\(Self.apiVersion)/products/\(URLQuery.encode(productId))/prices/update"
                requests.append(
                    signedRequest(
                        "POST",
                        path: pricePath,
                        query: [],
                        body: .object(["skus": .array(prices)]),
                        settings: settings,
                        skus: priced.map(\.0.sku)
                    )
                )
            }
        }
        return requests
    }

    public func pushOutcome(status: Int, headers: [String: String], body: [UInt8]) -> PushOutcome {
        guard (200..<300).contains(status) else { return HTTPStatusClassifier.outcome(status: status, headers: headers, body: body) }
        guard let json = try? JSONValue.parse(body), let code = json["code"]?.int64Value else { return .retryable(reason: "unreadable response") }
        if code == 0 { return .accepted }
        return .rejected(reason: "code \(code): \(json["message"]?.stringValue ?? "")", skus: [])
    }

    public func pollRequest(settings: ConnectorSettings, cursor: String?, etag: String?) -> ChannelHTTPRequest {
        var query: [(String, String)] = [("page_size", String(Self.pollPageSize))]
        if let cursor, !cursor.isEmpty { query.append(("page_token", cursor)) }
        return signedRequest(
            "POST",
            path: "/product/\(Self.apiVersion)/products/search",
            query: query,
            body: .object(["status": .string("ACTIVATE")]),
            settings: settings
        )
    }

    public func parsePollResponse(status: Int, headers: [String: String], body: [UInt8]) throws -> PollPage {
        try HTTPStatusClassifier.checkPoll(status: status, headers: headers, body: body)
        if status == 304 { return HTTPStatusClassifier.notModifiedPage(headers: headers) }
        let json = try ConnectorSupport.json(body)
        guard json["code"]?.int64Value == 0 else {
            throw ConnectorError.invalidPayload("code \(json["code"]?.stringValue ?? "?"): \(json["message"]?.stringValue ?? "")")
        }
        var levels: [ChannelStockLevel] = []
        for product in json["data"]?["products"]?.arrayValue ?? [] {
            let productId = try ConnectorSupport.requiredString(product["id"], "products.id")
            let updatedAt = product["update_time"]?.int64Value.map { Date(timeIntervalSince1970: TimeInterval($0)) }
            for sku in product["skus"]?.arrayValue ?? [] {
                let quantity = (sku["inventory"]?.arrayValue ?? []).reduce(0) { $0 + ($1["quantity"]?.intValue ?? 0) }
                let price = sku["price"]
                let sellerSku = sku["seller_sku"]?.stringValue
                levels.append(
                    ChannelStockLevel(
                        sku: sellerSku?.isEmpty == false ? sellerSku : nil,
                        externalId: productId,
                        quantity: quantity,
                        price: ConnectorSupport.money(
                            price?["sale_price"] ?? price?["tax_exclusive_price"],
                            currency: price?["currency"]?.stringValue
                        ),
                        updatedAt: updatedAt
                    )
                )
            }
        }
        let token = json["data"]?["next_page_token"]?.stringValue
        return PollPage(levels: levels, nextCursor: token?.isEmpty == false ? token : nil, etag: HTTPHeaders.value(headers, "etag"))
    }

    // MARK: Webhooks

    static func webhookKey(_ secret: String) -> (appKey: String, appSecret: String) {
        guard let colon = secret.firstIndex(of: ":") else { return ("", secret) }
        return (String(secret[..<colon]), String(secret[secret.index(after: colon)...]))
    }

    static func webhookSignature(body: [UInt8], secret: String) -> [UInt8] {
        let (appKey, appSecret) = webhookKey(secret)
        return WebhookCrypto.hmacSHA256(secret: appSecret, message: Array(appKey.utf8) + body)
    }

    public func verifyWebhook(headers: [String: String], body: [UInt8], secret: String) -> Bool {
        guard !body.isEmpty, !secret.isEmpty, let header = HTTPHeaders.value(headers, "authorization"),
            let presented = WebhookCrypto.hexDecode(header)
        else { return false }
        return WebhookCrypto.constantTimeEquals(presented, Self.webhookSignature(body: body, secret: secret))
    }

    public func parseWebhook(headers: [String: String], body: [UInt8]) throws -> [ChannelWebhookEvent] {
        let json = try ConnectorSupport.json(body)
        guard json["type"]?.int64Value == 1 else { return [] }
        let eventId = try ConnectorSupport.requiredString(json["tts_notification_id"], "tts_notification_id")
        let orderId = try ConnectorSupport.requiredString(json["data"]?["order_id"], "data.order_id")
        let kind: ChannelWebhookEvent.Kind
        switch json["data"]?["order_status"]?.stringValue {
        case "ON_HOLD", "AWAITING_SHIPMENT": kind = .orderPlaced
        case "CANCELLED": kind = .orderCancelled
        default: return []
        }
        let when = (json["data"]?["update_time"] ?? json["timestamp"])?.int64Value.map { Date(timeIntervalSince1970: TimeInterval($0)) }
        return [ChannelWebhookEvent(kind: kind, eventId: eventId, orderId: orderId, lines: [], occurredAt: when, needsOrderDetail: true)]
    }

    public func signWebhook(body: [UInt8], secret: String, eventId: String, topic: WebhookTopic, now: Date) -> [String: String] {
        ["Content-Type": "application/json", "Authorization": WebhookCrypto.hex(Self.webhookSignature(body: body, secret: secret))]
    }

    public func webhookBody(_ draft: WebhookDraft) throws -> [UInt8] {
        guard draft.topic != .inventory else { throw ConnectorError.unsupportedTopic(.tiktok, draft.topic) }
        let seconds = JSONValue.int(Timestamp.epochSeconds(draft.occurredAt))
        return JSONValue.object([
            "type": .int(1),
            "tts_notification_id": .string(draft.eventId),
            "shop_id": .string(draft.accountId),
            "timestamp": seconds,
            "data": .object([
                "order_id": .string(draft.orderId ?? draft.eventId),
                "order_status": .string(draft.topic == .order ? "AWAITING_SHIPMENT" : "CANCELLED"),
                "is_on_hold_order": .bool(false),
                "update_time": seconds,
            ]),
        ]).serializedBytes
    }

    // MARK: Order detail

    public func orderDetailRequest(orderId: String, settings: ConnectorSettings) -> ChannelHTTPRequest? {
        signedRequest("GET", path: "/order/\(Self.apiVersion)/orders", query: [("ids", orderId)], body: nil, settings: settings)
    }

    public func parseOrderDetail(status: Int, headers: [String: String], body: [UInt8]) throws -> ChannelOrder {
        try HTTPStatusClassifier.checkPoll(status: status, headers: headers, body: body)
        let json = try ConnectorSupport.json(body)
        guard json["code"]?.int64Value == 0, let order = json["data"]?["orders"]?.arrayValue?.first else {
            throw ConnectorError.invalidPayload("no order in response")
        }
        let orderId = try ConnectorSupport.requiredString(order["id"], "orders.id")
        // TikTok lists one line item per unit: merge them.
        let units = (order["line_items"]?.arrayValue ?? []).map { item in
            ChannelWebhookEvent.Line(sku: item["seller_sku"]?.stringValue, externalId: item["product_id"]?.stringValue, quantity: 1)
        }
        return ChannelOrder(
            orderId: orderId,
            cancelled: order["status"]?.stringValue == "CANCELLED",
            lines: ConnectorSupport.mergedLines(units),
            occurredAt: order["create_time"]?.int64Value.map { Date(timeIntervalSince1970: TimeInterval($0)) }
        )
    }
}
