import Foundation
import ShelfCore

/// Etsy Open API v3: `PUT /v3/application/listings/{listing_id}/inventory` pushes (one listing per call; Etsy needs a
/// price in every offering), `GET /v3/application/shops/{shop_id}/listings` offset polls, and Etsy webhooks
/// (`order.paid`, a reference to a receipt) signed the Standard Webhooks way: `webhook-signature: v1,<base64>` over
/// `{webhook-id}.{webhook-timestamp}.{body}`, keyed by the base64 part of a `whsec_` secret (or the raw secret).
///
/// Credentials: `apiKey` (`x-api-key`), `accessToken` (`Authorization: Bearer`), `shopId` (polls and receipts).
/// `externalId` is the listing_id. Call `parsePollResponse(…, request:)`: Etsy pages do not carry their offset.
public struct EtsyConnector: ChannelConnector {
    public let kind = ChannelKind.etsy
    public static let pollPageSize = 100

    public init() {}

    private func headers(_ settings: ConnectorSettings) -> [String: String] {
        ["x-api-key": settings.credential("apiKey"), "Authorization": "Bearer \(settings.credential("accessToken"))"]
    }

    public func pushRequests(_ updates: [ListingUpdate], settings: ConnectorSettings) throws -> [ChannelHTTPRequest] {
        try updates.map { update in
            guard let price = update.price else { throw ConnectorError.missingPrice(sku: update.sku) }
            let product: JSONValue = .object([
                "sku": .string(update.sku),
                "property_values": .array([]),
                "offerings": .array([
                    .object([
                        "price": ConnectorSupport.decimalNumber(price),
                        "quantity": .int(update.publishedQuantity),
                        "is_enabled": .bool(update.listed),
                    ])
                ]),
            ])
            let body: JSONValue = .object([
                "products": .array([product]),
                "price_on_property": .array([]),
                "quantity_on_property": .array([]),
                "sku_on_property": .array([]),
            ])
            let url = settings.baseURL + "/v3/application/listings/\(URLQuery.encode(update.externalId))/inventory"
            return ConnectorSupport.jsonRequest("PUT", url, headers: headers(settings), body: body, skus: [update.sku])
        }
    }

    public func pollRequest(settings: ConnectorSettings, cursor: String?, etag: String?) -> ChannelHTTPRequest {
        let url = URLQuery.url(
            settings.baseURL,
            "/v3/application/shops/\(URLQuery.encode(settings.credential("shopId")))/listings",
            [("state", "active"), ("limit", String(Self.pollPageSize)), ("offset", cursor ?? "0")]
        )
        return ConnectorSupport.jsonRequest("GET", url, headers: ConnectorSupport.conditional(headers(settings), etag: etag), body: nil)
    }

    public func parsePollResponse(status: Int, headers: [String: String], body: [UInt8]) throws -> PollPage {
        throw ConnectorError.invalidPayload("Etsy pages do not carry their offset: use parsePollResponse(status:headers:body:request:)")
    }

    public func parsePollResponse(status: Int, headers: [String: String], body: [UInt8], request: ChannelHTTPRequest) throws -> PollPage {
        try HTTPStatusClassifier.checkPoll(status: status, headers: headers, body: body)
        if status == 304 { return HTTPStatusClassifier.notModifiedPage(headers: headers) }
        let json = try ConnectorSupport.json(body)
        guard let results = json["results"]?.arrayValue else { throw ConnectorError.invalidPayload("missing results") }
        let levels = try results.map { listing in
            guard let listingId = listing["listing_id"]?.int64Value else { throw ConnectorError.invalidPayload("listing_id is not an integer") }
            let sku = listing["skus"]?.arrayValue?.first?.stringValue
            return ChannelStockLevel(
                sku: sku?.isEmpty == false ? sku : nil,
                externalId: String(listingId),
                quantity: listing["quantity"]?.intValue ?? 0,
                price: Self.money(listing["price"]),
                updatedAt: (listing["updated_timestamp"] ?? listing["last_modified_timestamp"])?.int64Value.map {
                    Date(timeIntervalSince1970: TimeInterval($0))
                }
            )
        }
        let query = URLQuery.items(of: request.url)
        let offset = Int(query["offset"] ?? "0") ?? 0
        let count = json["count"]?.intValue ?? 0
        let nextOffset = offset + results.count
        let next = !results.isEmpty && nextOffset < count ? String(nextOffset) : nil
        return PollPage(levels: levels, nextCursor: next, etag: HTTPHeaders.value(headers, "etag"))
    }

    /// Etsy's Money: `{amount, divisor, currency_code}` → exact minor units (nil if it cannot be exact).
    static func money(_ value: JSONValue?) -> Money? {
        guard let value, let amount = value["amount"]?.int64Value, let divisor = value["divisor"]?.int64Value, divisor > 0,
            let currency = value["currency_code"]?.stringValue
        else { return nil }
        var scale: Int64 = 1
        for _ in 0..<Money.minorUnitDigits(currency) { scale *= 10 }
        let (scaled, overflow) = amount.multipliedReportingOverflow(by: scale)
        guard !overflow, scaled % divisor == 0 else { return nil }
        return Money(amount: scaled / divisor, currency: currency.uppercased())
    }

    // MARK: Webhooks (Standard Webhooks)

    static func signingKey(_ secret: String) -> [UInt8] {
        if secret.hasPrefix("whsec_"), let decoded = WebhookCrypto.base64Decode(String(secret.dropFirst(6))) { return decoded }
        return Array(secret.utf8)
    }

    static func signature(id: String, timestamp: String, body: [UInt8], secret: String) -> [UInt8] {
        WebhookCrypto.hmacSHA256(key: signingKey(secret), message: Array("\(id).\(timestamp).".utf8) + body)
    }

    public func verifyWebhook(headers: [String: String], body: [UInt8], secret: String) -> Bool {
        guard !body.isEmpty, !secret.isEmpty,
            let id = HTTPHeaders.value(headers, "webhook-id"), !id.isEmpty,
            let timestamp = HTTPHeaders.value(headers, "webhook-timestamp"), !timestamp.isEmpty,
            let header = HTTPHeaders.value(headers, "webhook-signature")
        else { return false }
        let expected = Self.signature(id: id, timestamp: timestamp, body: body, secret: secret)
        var matched = false
        // Several space-separated `v1,<sig>` entries may be present during secret rotation; check them all.
        for entry in header.split(separator: " ") {
            let parts = entry.split(separator: ",", maxSplits: 1)
            guard parts.count == 2, parts[0] == "v1", let presented = WebhookCrypto.base64Decode(String(parts[1])) else { continue }
            if WebhookCrypto.constantTimeEquals(presented, expected) { matched = true }
        }
        return matched
    }

    public func parseWebhook(headers: [String: String], body: [UInt8]) throws -> [ChannelWebhookEvent] {
        guard let id = HTTPHeaders.value(headers, "webhook-id"), !id.isEmpty else { throw ConnectorError.invalidPayload("missing webhook-id") }
        let json = try ConnectorSupport.json(body)
        guard json["event_type"]?.stringValue == "order.paid" else { return [] }
        let resource = try ConnectorSupport.requiredString(json["resource_url"], "resource_url")
        guard let receiptId = resource.split(separator: "?").first?.split(separator: "/").last.map(String.init), Int64(receiptId) != nil else {
            throw ConnectorError.invalidPayload("resource_url does not end in a receipt id")
        }
        let occurredAt = HTTPHeaders.value(headers, "webhook-timestamp").flatMap(Int64.init).map { Date(timeIntervalSince1970: TimeInterval($0)) }
        return [ChannelWebhookEvent(kind: .orderPlaced, eventId: id, orderId: receiptId, lines: [], occurredAt: occurredAt, needsOrderDetail: true)]
    }

    public func signWebhook(body: [UInt8], secret: String, eventId: String, topic: WebhookTopic, now: Date) -> [String: String] {
        let timestamp = String(Timestamp.epochSeconds(now))
        let signature = Self.signature(id: eventId, timestamp: timestamp, body: body, secret: secret)
        return [
            "Content-Type": "application/json",
            "webhook-id": eventId,
            "webhook-timestamp": timestamp,
            "webhook-signature": "v1," + WebhookCrypto.base64(signature),
        ]
    }

    public func webhookBody(_ draft: WebhookDraft) throws -> [UInt8] {
        guard draft.topic == .order else { throw ConnectorError.unsupportedTopic(.etsy, draft.topic) }
        let receiptId = ConnectorSupport.numericId(draft.orderId ?? draft.eventId)
        let shopId = ConnectorSupport.numericId(draft.accountId)
        return JSONValue.object([
            "event_type": .string("order.paid"),
            "resource_url": .string("https://api.etsy.com/v3/application/shops/\(shopId)/receipts/\(receiptId)"),
            "shop_id": .int(shopId),
        ]).serializedBytes
    }

    // MARK: Order detail (receipts)

    public func orderDetailRequest(orderId: String, settings: ConnectorSettings) -> ChannelHTTPRequest? {
        let path = "/v3/application/shops/\(URLQuery.encode(settings.credential("shopId")))/receipts/\(URLQuery.encode(orderId))"
        return ConnectorSupport.jsonRequest("GET", settings.baseURL + path, headers: headers(settings), body: nil)
    }

    public func parseOrderDetail(status: Int, headers: [String: String], body: [UInt8]) throws -> ChannelOrder {
        try HTTPStatusClassifier.checkPoll(status: status, headers: headers, body: body)
        let json = try ConnectorSupport.json(body)
        guard let receiptId = json["receipt_id"]?.int64Value else { throw ConnectorError.invalidPayload("receipt_id is not an integer") }
        let lines = (json["transactions"]?.arrayValue ?? []).map { transaction in
            let sku = transaction["sku"]?.stringValue
            return ChannelWebhookEvent.Line(
                sku: sku?.isEmpty == false ? sku : nil,
                externalId: transaction["listing_id"]?.int64Value.map(String.init),
                quantity: transaction["quantity"]?.intValue ?? 0
            )
        }
        return ChannelOrder(
            orderId: String(receiptId),
            cancelled: json["status"]?.stringValue?.lowercased() == "canceled",
            lines: lines,
            occurredAt: json["create_timestamp"]?.int64Value.map { Date(timeIntervalSince1970: TimeInterval($0)) }
        )
    }
}
