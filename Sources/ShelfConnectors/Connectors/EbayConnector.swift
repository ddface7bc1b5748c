import Foundation
import ShelfCore

/// eBay Sell APIs: Inventory API `bulk_update_price_quantity` (25 SKUs per call) pushes, `inventory_item` offset polls,
/// Notification API `ORDER_CONFIRMATION` (a reference: read the order with the Fulfillment API).
///
/// Credentials: `accessToken` (OAuth user token, `Authorization: Bearer`). `externalId` equals the seller SKU.
/// Price pushes need `references["offerId"]`. eBay allows at most 250 revisions per listing per day.
///
/// Deviation: eBay signs notifications with ECDSA (`X-EBAY-SIGNATURE` is base64 JSON `{alg, kid, signature, digest}`
/// verified with a public key fetched from eBay's Notification API). Shelf keeps that header shape but uses
/// `alg: "HMAC-SHA256"`, `kid: "shelf-hmac"`, `signature: base64(HMAC-SHA256(secret, body))`, `digest: "SHA256"`.
public struct EbayConnector: ChannelConnector {
    public let kind = ChannelKind.ebay
    /// One push request carries many SKUs (see `ChannelConnector.batchesPushes`).
    public var batchesPushes: Bool { true }
    public static let maxRequestsPerBulkUpdate = 25
    public static let pollPageSize = 100

    public init() {}

    private func headers(_ settings: ConnectorSettings) -> [String: String] {
        ["Authorization": "Bearer \(settings.credential("accessToken"))", "Content-Language": "en-US"]
    }

    public func pushRequests(_ updates: [ListingUpdate], settings: ConnectorSettings) throws -> [ChannelHTTPRequest] {
        let url = settings.baseURL + "/sell/inventory/v1/bulk_update_price_quantity"
        return try ConnectorSupport.chunks(updates, of: Self.maxRequestsPerBulkUpdate).map { chunk in
            let requests: [JSONValue] = try chunk.map { update in
                var entry: [String: JSONValue] = [
                    "sku": .string(update.externalId),
                    "shipToLocationAvailability": .object(["quantity": .int(update.publishedQuantity)]),
                ]
                if let offerId = update.references["offerId"], !offerId.isEmpty {
                    var offer: [String: JSONValue] = ["offerId": .string(offerId), "availableQuantity": .int(update.publishedQuantity)]
                    if let price = update.price {
                        offer["price"] = .object(["value": .string(price.decimalString), "currency": .string(price.currency)])
                    }
                    entry["offers"] = .array([.object(offer)])
                } else if update.price != nil {
                    throw ConnectorError.missingReference(field: "offerId", sku: update.sku)
                }
                return .object(entry)
            }
            return ConnectorSupport.jsonRequest(
                "POST",
                url,
                headers: headers(settings),
                body: .object(["requests": .array(requests)]),
                skus: chunk.map(\.sku)
            )
        }
    }

    public func pushOutcome(status: Int, headers: [String: String], body: [UInt8]) -> PushOutcome {
        guard (200..<300).contains(status) else { return HTTPStatusClassifier.outcome(status: status, headers: headers, body: body) }
        guard let json = try? JSONValue.parse(body), let responses = json["responses"]?.arrayValue else { return .accepted }
        let failed = responses.filter { ($0["statusCode"]?.intValue ?? 200) >= 400 }
        guard !failed.isEmpty else { return .accepted }
        let reasons = failed.flatMap { ($0["errors"]?.arrayValue ?? []).compactMap { $0["message"]?.stringValue } }
        return .rejected(reason: reasons.joined(separator: "; "), skus: failed.compactMap { $0["sku"]?.stringValue })
    }

    public func pollRequest(settings: ConnectorSettings, cursor: String?, etag: String?) -> ChannelHTTPRequest {
        let url = URLQuery.url(
            settings.baseURL,
            "/sell/inventory/v1/inventory_item",
            [("limit", String(Self.pollPageSize)), ("offset", cursor ?? "0")]
        )
        return ConnectorSupport.jsonRequest("GET", url, headers: ConnectorSupport.conditional(headers(settings), etag: etag), body: nil)
    }

    public func parsePollResponse(status: Int, headers: [String: String], body: [UInt8]) throws -> PollPage {
        try HTTPStatusClassifier.checkPoll(status: status, headers: headers, body: body)
        if status == 304 { return HTTPStatusClassifier.notModifiedPage(headers: headers) }
        let json = try ConnectorSupport.json(body)
        let items = json["inventoryItems"]?.arrayValue ?? []
        let levels = try items.map { item in
            let sku = try ConnectorSupport.requiredString(item["sku"], "inventoryItems.sku")
            let quantity = item["availability"]?["shipToLocationAvailability"]?["quantity"]?.intValue ?? 0
            return ChannelStockLevel(sku: sku, externalId: sku, quantity: quantity)
        }
        var next: String?
        if let nextURL = json["next"]?.stringValue, !nextURL.isEmpty {
            next = URLQuery.items(of: nextURL)["offset"]
        }
        return PollPage(levels: levels, nextCursor: next, etag: HTTPHeaders.value(headers, "etag"))
    }

    // MARK: Notifications

    public func verifyWebhook(headers: [String: String], body: [UInt8], secret: String) -> Bool {
        guard !body.isEmpty, !secret.isEmpty, let header = HTTPHeaders.value(headers, "x-ebay-signature"),
            let envelopeBytes = WebhookCrypto.base64Decode(header),
            let envelope = try? JSONValue.parse(envelopeBytes),
            envelope["alg"]?.stringValue == "HMAC-SHA256",
            let signature = envelope["signature"]?.stringValue,
            let presented = WebhookCrypto.base64Decode(signature)
        else { return false }
        return WebhookCrypto.constantTimeEquals(presented, WebhookCrypto.hmacSHA256(secret: secret, message: body))
    }

    public func parseWebhook(headers: [String: String], body: [UInt8]) throws -> [ChannelWebhookEvent] {
        let json = try ConnectorSupport.json(body)
        guard let notification = json["notification"] else { throw ConnectorError.invalidPayload("missing notification") }
        let eventId = try ConnectorSupport.requiredString(notification["notificationId"], "notification.notificationId")
        switch json["metadata"]?["topic"]?.stringValue {
        case "ORDER_CONFIRMATION":
            let orderId = try ConnectorSupport.requiredString(notification["data"]?["orderId"], "data.orderId")
            return [
                ChannelWebhookEvent(
                    kind: .orderPlaced,
                    eventId: eventId,
                    orderId: orderId,
                    lines: [],
                    occurredAt: notification["eventDate"]?.stringValue.flatMap(Timestamp.parse),
                    needsOrderDetail: true
                )
            ]
        default:
            return []
        }
    }

    public func signWebhook(body: [UInt8], secret: String, eventId: String, topic: WebhookTopic, now: Date) -> [String: String] {
        let envelope: JSONValue = .object([
            "alg": .string("HMAC-SHA256"),
            "kid": .string("shelf-hmac"),
            "signature": .string(WebhookCrypto.base64(WebhookCrypto.hmacSHA256(secret: secret, message: body))),
            "digest": .string("SHA256"),
        ])
        return ["Content-Type": "application/json", "X-EBAY-SIGNATURE": WebhookCrypto.base64(envelope.serializedBytes)]
    }

    public func webhookBody(_ draft: WebhookDraft) throws -> [UInt8] {
        guard draft.topic == .order else { throw ConnectorError.unsupportedTopic(.ebay, draft.topic) }
        let at = JSONValue.string(Timestamp.format(draft.occurredAt))
        let orderId = draft.orderId ?? draft.eventId
        let lineItems: [JSONValue] = draft.lines.enumerated().map { index, line in
            .object([
                "lineItemId": .string("\(ConnectorSupport.numericId(orderId) % 100_000_000_000 &+ Int64(index))"),
                "legacyItemId": .string(line.externalId ?? line.sku ?? ""),
            ])
        }
        return JSONValue.object([
            "metadata": .object(["topic": .string("ORDER_CONFIRMATION"), "schemaVersion": .string("1.0"), "deprecated": .bool(false)]),
            "notification": .object([
                "notificationId": .string(draft.eventId),
                "eventDate": at,
                "publishDate": at,
                "publishAttemptCount": .int(1),
                "data": .object(["orderId": .string(orderId), "sellerId": .string(draft.accountId), "orderLineItems": .array(lineItems)]),
            ]),
        ]).serializedBytes
    }

    // MARK: Order detail (Fulfillment API)

    public func orderDetailRequest(orderId: String, settings: ConnectorSettings) -> ChannelHTTPRequest? {
        ConnectorSupport.jsonRequest(
            "GET",
            settings.baseURL + "/sell/fulfillment/v1/order/" + URLQuery.encode(orderId),
            headers: headers(settings),
            body: nil
        )
    }

    public func parseOrderDetail(status: Int, headers: [String: String], body: [UInt8]) throws -> ChannelOrder {
        try HTTPStatusClassifier.checkPoll(status: status, headers: headers, body: body)
        let json = try ConnectorSupport.json(body)
        let orderId = try ConnectorSupport.requiredString(json["orderId"], "orderId")
        let lines = (json["lineItems"]?.arrayValue ?? []).map { item in
            let sku = item["sku"]?.stringValue
            return ChannelWebhookEvent.Line(sku: sku, externalId: sku, quantity: item["quantity"]?.intValue ?? 0)
        }
        return ChannelOrder(
            orderId: orderId,
            cancelled: json["cancelStatus"]?["cancelState"]?.stringValue == "CANCELED",
            lines: lines,
            occurredAt: json["creationDate"]?.stringValue.flatMap(Timestamp.parse)
        )
    }
}
