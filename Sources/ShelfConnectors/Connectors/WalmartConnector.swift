import Foundation
import ShelfCore

/// Walmart Marketplace API v3: `PUT /v3/inventory?sku=` and `PUT /v3/price` per SKU, `GET /v3/inventories` cursor polls,
/// and Walmart webhooks signed per Walmart's "Security and authenticity" guide:
/// `WM_SEC.SIGNATURE = base64(HMAC-SHA256(secret, METHOD \n PATH_AND_QUERY \n WM_SEC.TIMESTAMP \n hex(SHA256(body))))`.
///
/// Credentials: `accessToken` (`WM_SEC.ACCESS_TOKEN`). `channelLocationId`: the ship node (optional).
/// `externalId` equals the seller SKU. Bulk feeds exist but are asynchronous (minutes), so pushes are per SKU.
/// Verifying needs the pseudo-headers `:method` and `:path` (see `ChannelConnector.verifyWebhook`).
public struct WalmartConnector: ChannelConnector {
    public let kind = ChannelKind.walmart
    /// A price is a request of its own: sent only when it changed (see `ChannelConnector.pushesPriceSeparately`).
    public var pushesPriceSeparately: Bool { true }
    public static let pollPageSize = 50

    public init() {}

    private func headers(_ settings: ConnectorSettings, seed: String) -> [String: String] {
        [
            "WM_SEC.ACCESS_TOKEN": settings.credential("accessToken"),
            "WM_SVC.NAME": "Walmart Marketplace",
            "WM_QOS.CORRELATION_ID": WebhookCrypto.derivedUUID(Array(seed.utf8)),
        ]
    }

    public func pushRequests(_ updates: [ListingUpdate], settings: ConnectorSettings) throws -> [ChannelHTTPRequest] {
        var requests: [ChannelHTTPRequest] = []
        for update in updates {
            let inventory: JSONValue = .object([
                "sku": .string(update.externalId),
                "quantity": .object(["unit": .string("EACH"), "amount": .int(update.publishedQuantity)]),
            ])
            let url = URLQuery.url(settings.baseURL, "/v3/inventory", [("sku", update.externalId), ("shipNode", settings.channelLocationId)])
            let seed = "inventory:\(update.externalId):\(update.publishedQuantity)"
            requests.append(ConnectorSupport.jsonRequest("PUT", url, headers: headers(settings, seed: seed), body: inventory, skus: [update.sku]))
            if let price = update.price {
                let pricing: JSONValue = .object([
                    "sku": .string(update.externalId),
                    "pricing": .array([
                        .object([
                            "currentPriceType": .string("BASE"),
                            "currentPrice": .object(["currency": .string(price.currency), "amount": ConnectorSupport.decimalNumber(price)]),
                        ])
                    ]),
                ])
                let priceSeed = "price:\(update.externalId):\(price.amount)"
                requests.append(
                    ConnectorSupport.jsonRequest(
                        "PUT",
                        settings.baseURL + "/v3/price",
                        headers: headers(settings, seed: priceSeed),
                        body: pricing,
                        skus: [update.sku]
                    )
                )
            }
        }
        return requests
    }

    public func pollRequest(settings: ConnectorSettings, cursor: String?, etag: String?) -> ChannelHTTPRequest {
        let url = URLQuery.url(settings.baseURL, "/v3/inventories", [("limit", String(Self.pollPageSize)), ("nextCursor", cursor)])
        let headers = ConnectorSupport.conditional(headers(settings, seed: "poll:\(cursor ?? "")"), etag: etag)
        return ConnectorSupport.jsonRequest("GET", url, headers: headers, body: nil)
    }

    public func parsePollResponse(status: Int, headers: [String: String], body: [UInt8]) throws -> PollPage {
        try HTTPStatusClassifier.checkPoll(status: status, headers: headers, body: body)
        if status == 304 { return HTTPStatusClassifier.notModifiedPage(headers: headers) }
        let json = try ConnectorSupport.json(body)
        guard let inventories = json["elements"]?["inventories"]?.arrayValue else {
            throw ConnectorError.invalidPayload("missing elements.inventories")
        }
        let levels = try inventories.map { inventory in
            let sku = try ConnectorSupport.requiredString(inventory["sku"], "inventories.sku")
            let quantity = (inventory["nodes"]?.arrayValue ?? []).reduce(0) { total, node in
                total + (node["availToSellQty"]?["amount"]?.intValue ?? node["inputQty"]?["amount"]?.intValue ?? 0)
            }
            return ChannelStockLevel(sku: sku, externalId: sku, quantity: quantity)
        }
        let next = json["meta"]?["nextCursor"]?.stringValue
        return PollPage(levels: levels, nextCursor: next?.isEmpty == false ? next : nil, etag: HTTPHeaders.value(headers, "etag"))
    }

    // MARK: Webhooks

    static func stringToSign(method: String, requestTarget: String, timestamp: String, body: [UInt8]) -> [UInt8] {
        Array([method.uppercased(), requestTarget, timestamp, WebhookCrypto.hex(WebhookCrypto.sha256(body))].joined(separator: "\n").utf8)
    }

    public func verifyWebhook(headers: [String: String], body: [UInt8], secret: String) -> Bool {
        guard !body.isEmpty, !secret.isEmpty,
            let timestamp = HTTPHeaders.value(headers, "wm_sec.timestamp"), !timestamp.isEmpty,
            let header = HTTPHeaders.value(headers, "wm_sec.signature"),
            let presented = WebhookCrypto.base64Decode(header)
        else { return false }
        let method = HTTPHeaders.value(headers, ":method") ?? "POST"
        let target = HTTPHeaders.value(headers, ":path") ?? "/"
        let expected = WebhookCrypto.hmacSHA256(
            secret: secret,
            message: Self.stringToSign(method: method, requestTarget: target, timestamp: timestamp, body: body)
        )
        return WebhookCrypto.constantTimeEquals(presented, expected)
    }

    public func parseWebhook(headers: [String: String], body: [UInt8]) throws -> [ChannelWebhookEvent] {
        let json = try ConnectorSupport.json(body)
        guard let source = json["source"], let payload = json["payload"] else { throw ConnectorError.invalidPayload("missing source/payload") }
        let eventId = try ConnectorSupport.requiredString(source["eventId"], "source.eventId")
        let occurredAt = source["eventTime"]?.stringValue.flatMap(Timestamp.parse)
        switch source["eventType"]?.stringValue {
        case "PO_CREATED", "PO_LINE_AUTOCANCELLED":
            let orderId = try ConnectorSupport.requiredString(payload["purchaseOrderId"], "payload.purchaseOrderId")
            let lines = (payload["orderLines"]?.arrayValue ?? []).map { line in
                let sku = line["item"]?["sku"]?.stringValue
                return ChannelWebhookEvent.Line(sku: sku, externalId: sku, quantity: line["orderLineQuantity"]?["amount"]?.intValue ?? 0)
            }
            let kind: ChannelWebhookEvent.Kind = source["eventType"]?.stringValue == "PO_CREATED" ? .orderPlaced : .orderCancelled
            return [ChannelWebhookEvent(kind: kind, eventId: eventId, orderId: orderId, lines: lines, occurredAt: occurredAt)]
        case "INVENTORY_OOS":
            let sku = try ConnectorSupport.requiredString(payload["sku"], "payload.sku")
            return [
                ChannelWebhookEvent(
                    kind: .inventoryLevel,
                    eventId: eventId,
                    lines: [ChannelWebhookEvent.Line(sku: sku, externalId: sku, quantity: 0)],
                    occurredAt: occurredAt
                )
            ]
        default:
            return []
        }
    }

    public func signWebhook(body: [UInt8], secret: String, eventId: String, topic: WebhookTopic, now: Date) -> [String: String] {
        signWebhook(body: body, secret: secret, eventId: eventId, topic: topic, now: now, requestTarget: "/")
    }

    public func signWebhook(
        body: [UInt8],
        secret: String,
        eventId: String,
        topic: WebhookTopic,
        now: Date,
        requestTarget: String
    ) -> [String: String] {
        let timestamp = String(Timestamp.epochSeconds(now))
        let signature = WebhookCrypto.hmacSHA256(
            secret: secret,
            message: Self.stringToSign(method: "POST", requestTarget: requestTarget, timestamp: timestamp, body: body)
        )
        return [
            "Content-Type": "application/json",
            "WM_SEC.TIMESTAMP": timestamp,
            "WM_SEC.SIGNATURE": WebhookCrypto.base64(signature),
            "WM_SEC.KEY_ID": "shelf-sim",
        ]
    }

    public func webhookBody(_ draft: WebhookDraft) throws -> [UInt8] {
        let at = JSONValue.string(Timestamp.format(draft.occurredAt))
        switch draft.topic {
        case .order, .cancel:
            let eventType = draft.topic == .order ? "PO_CREATED" : "PO_LINE_AUTOCANCELLED"
            let orderId = draft.orderId ?? draft.eventId
            let orderLines: [JSONValue] = draft.lines.enumerated().map { index, line in
                .object([
                    "lineNumber": .string(String(index + 1)),
                    "item": .object(["sku": .string(line.sku ?? line.externalId ?? ""), "productName": .string(line.sku ?? "item")]),
                    "orderLineQuantity": .object(["unitOfMeasurement": .string("EACH"), "amount": .string(String(line.quantity))]),
                    "orderLineStatuses": .array([.object(["status": .string(draft.topic == .order ? "Created" : "Cancelled")])]),
                ])
            }
            return JSONValue.object([
                "source": .object(["eventType": .string(eventType), "eventTime": at, "eventId": .string(draft.eventId)]),
                "payload": .object([
                    "partnerId": .string(draft.accountId),
                    "purchaseOrderId": .string(orderId),
                    "customerOrderId": .string("C" + orderId),
                    "orderDate": at,
                    "orderLines": .array(orderLines),
                ]),
            ]).serializedBytes
        case .inventory:
            guard draft.lines.count == 1, let line = draft.lines.first, let sku = line.sku ?? line.externalId, line.quantity == 0 else {
                throw ConnectorError.invalidPayload("INVENTORY_OOS reports exactly one SKU at quantity 0")
            }
            return JSONValue.object([
                "source": .object(["eventType": .string("INVENTORY_OOS"), "eventTime": at, "eventId": .string(draft.eventId)]),
                "payload": .object(["partnerId": .string(draft.accountId), "sku": .string(sku), "oosTime": at]),
            ]).serializedBytes
        }
    }
}
