import Foundation
import ShelfCore

/// Amazon Selling Partner API: Listings Items `PATCH` per SKU (quantity via `fulfillment_availability`, price via
/// `purchasable_offer`), FBA Inventory summaries polls, and SP-API notifications (`ORDER_CHANGE`,
/// `LISTINGS_ITEM_MFN_QUANTITY_CHANGE`).
///
/// Credentials: `accessToken` (`x-amz-access-token`), `sellerId` (required for pushes), `marketplaceId`
/// (default `ATVPDKIKX0DER`, US). `externalId` equals the seller SKU.
///
/// Deviation: SP-API delivers notifications through Amazon SQS / EventBridge, not signed HTTP. Shelf expects a relay
/// that POSTs the notification JSON unchanged with `X-Amzn-Notification-Signature: base64(HMAC-SHA256(secret, body))`;
/// the dedupe id is the body's `NotificationMetadata.NotificationId` (mirrored in `X-Amzn-Notification-Id`).
public struct AmazonConnector: ChannelConnector {
    public let kind = ChannelKind.amazon
    public static let defaultMarketplaceId = "ATVPDKIKX0DER"

    public init() {}

    private func headers(_ settings: ConnectorSettings) -> [String: String] {
        ["x-amz-access-token": settings.credential("accessToken"), "User-Agent": "Shelf/1.0 (Language=Swift)"]
    }

    private func marketplace(_ settings: ConnectorSettings) -> String {
        settings.credential("marketplaceId", default: Self.defaultMarketplaceId)
    }

    public func pushRequests(_ updates: [ListingUpdate], settings: ConnectorSettings) throws -> [ChannelHTTPRequest] {
        guard !updates.isEmpty else { return [] }
        guard let sellerId = settings.credentials["sellerId"], !sellerId.isEmpty else { throw ConnectorError.missingCredential("sellerId") }
        let marketplaceId = marketplace(settings)
        // Listings Items is per SKU; the bulk alternative (JSON_LISTINGS_FEED) is asynchronous (minutes).
        return updates.map { update in
            var patches: [JSONValue] = [
                .object([
                    "op": .string("replace"),
                    "path": .string("/attributes/fulfillment_availability"),
                    "value": .array([
                        .object(["fulfillment_channel_code": .string("DEFAULT"), "quantity": .int(update.publishedQuantity)])
                    ]),
                ])
            ]
            if let price = update.price {
                patches.append(
                    .object([
                        "op": .string("replace"),
                        "path": .string("/attributes/purchasable_offer"),
                        "value": .array([
                            .object([
                                "marketplace_id": .string(marketplaceId),
                                "currency": .string(price.currency),
                                "our_price": .array([
                                    .object(["schedule": .array([.object(["value_with_tax": ConnectorSupport.decimalNumber(price)])])])
                                ]),
                            ])
                        ]),
                    ])
                )
            }
            let body: JSONValue = .object(["productType": .string("PRODUCT"), "patches": .array(patches)])
            let url = URLQuery.url(
                settings.baseURL,
                "/listings/2021-08-01/items/\(URLQuery.encode(sellerId))/\(URLQuery.encode(update.externalId))",
                [("marketplaceIds", marketplaceId), ("issueLocale", "en_US")]
            )
            return ConnectorSupport.jsonRequest("PATCH", url, headers: headers(settings), body: body, skus: [update.sku])
        }
    }

    public func pushOutcome(status: Int, headers: [String: String], body: [UInt8]) -> PushOutcome {
        guard (200..<300).contains(status) else { return HTTPStatusClassifier.outcome(status: status, headers: headers, body: body) }
        guard let json = try? JSONValue.parse(body) else { return .accepted }
        if json["status"]?.stringValue == "INVALID" {
            let issues = (json["issues"]?.arrayValue ?? []).compactMap { $0["message"]?.stringValue }
            return .rejected(reason: issues.joined(separator: "; "), skus: json["sku"]?.stringValue.map { [$0] } ?? [])
        }
        return .accepted
    }

    public func pollRequest(settings: ConnectorSettings, cursor: String?, etag: String?) -> ChannelHTTPRequest {
        let marketplaceId = marketplace(settings)
        let url = URLQuery.url(
            settings.baseURL,
            "/fba/inventory/v1/summaries",
            [
                ("details", "true"), ("granularityType", "Marketplace"), ("granularityId", marketplaceId),
                ("marketplaceIds", marketplaceId), ("nextToken", cursor),
            ]
        )
        return ConnectorSupport.jsonRequest("GET", url, headers: ConnectorSupport.conditional(headers(settings), etag: etag), body: nil)
    }

    public func parsePollResponse(status: Int, headers: [String: String], body: [UInt8]) throws -> PollPage {
        try HTTPStatusClassifier.checkPoll(status: status, headers: headers, body: body)
        if status == 304 { return HTTPStatusClassifier.notModifiedPage(headers: headers) }
        let json = try ConnectorSupport.json(body)
        guard let summaries = json["payload"]?["inventorySummaries"]?.arrayValue else {
            throw ConnectorError.invalidPayload("missing payload.inventorySummaries")
        }
        let levels = try summaries.map { summary in
            let sku = try ConnectorSupport.requiredString(summary["sellerSku"], "sellerSku")
            let quantity = summary["inventoryDetails"]?["fulfillableQuantity"]?.intValue ?? summary["totalQuantity"]?.intValue ?? 0
            return ChannelStockLevel(
                sku: sku,
                externalId: sku,
                quantity: quantity,
                price: nil,
                updatedAt: summary["lastUpdatedTime"]?.stringValue.flatMap(Timestamp.parse)
            )
        }
        let token = json["pagination"]?["nextToken"]?.stringValue
        return PollPage(levels: levels, nextCursor: token?.isEmpty == false ? token : nil, etag: HTTPHeaders.value(headers, "etag"))
    }

    // MARK: Notifications

    public func verifyWebhook(headers: [String: String], body: [UInt8], secret: String) -> Bool {
        guard !body.isEmpty, !secret.isEmpty, let header = HTTPHeaders.value(headers, "x-amzn-notification-signature"),
            let presented = WebhookCrypto.base64Decode(header)
        else { return false }
        return WebhookCrypto.constantTimeEquals(presented, WebhookCrypto.hmacSHA256(secret: secret, message: body))
    }

    public func parseWebhook(headers: [String: String], body: [UInt8]) throws -> [ChannelWebhookEvent] {
        let json = try ConnectorSupport.json(body)
        let eventId = try ConnectorSupport.requiredString(json["NotificationMetadata"]?["NotificationId"], "NotificationMetadata.NotificationId")
        let occurredAt = json["EventTime"]?.stringValue.flatMap(Timestamp.parse)
        switch json["NotificationType"]?.stringValue {
        case "ORDER_CHANGE":
            guard let change = json["Payload"]?["OrderChangeNotification"] else {
                throw ConnectorError.invalidPayload("missing OrderChangeNotification")
            }
            let orderId = try ConnectorSupport.requiredString(change["AmazonOrderId"], "AmazonOrderId")
            let kind: ChannelWebhookEvent.Kind
            switch change["Summary"]?["OrderStatus"]?.stringValue {
            case "Pending", "Unshipped": kind = .orderPlaced
            case "Canceled": kind = .orderCancelled
            default: return []
            }
            let lines = (change["Summary"]?["OrderItems"]?.arrayValue ?? []).map { item in
                let sku = item["SellerSKU"]?.stringValue
                return ChannelWebhookEvent.Line(sku: sku, externalId: sku, quantity: item["Quantity"]?.intValue ?? 0)
            }
            return [ChannelWebhookEvent(kind: kind, eventId: eventId, orderId: orderId, lines: lines, occurredAt: occurredAt)]
        case "LISTINGS_ITEM_MFN_QUANTITY_CHANGE":
            guard let payload = json["Payload"] else { throw ConnectorError.invalidPayload("missing Payload") }
            let sku = try ConnectorSupport.requiredString(payload["Sku"], "Sku")
            let quantity = try ConnectorSupport.requiredInt(payload["Quantity"], "Quantity")
            return [
                ChannelWebhookEvent(
                    kind: .inventoryLevel,
                    eventId: eventId,
                    lines: [ChannelWebhookEvent.Line(sku: sku, externalId: sku, quantity: quantity)],
                    occurredAt: occurredAt
                )
            ]
        default:
            return []
        }
    }

    public func signWebhook(body: [UInt8], secret: String, eventId: String, topic: WebhookTopic, now: Date) -> [String: String] {
        [
            "Content-Type": "application/json",
            "X-Amzn-Notification-Id": eventId,
            "X-Amzn-Notification-Signature": WebhookCrypto.base64(WebhookCrypto.hmacSHA256(secret: secret, message: body)),
        ]
    }

    public func webhookBody(_ draft: WebhookDraft) throws -> [UInt8] {
        let at = JSONValue.string(Timestamp.format(draft.occurredAt))
        let metadata: JSONValue = .object([
            "ApplicationId": .string("amzn1.sellerapps.app.shelf-sim"),
            "SubscriptionId": .string(WebhookCrypto.derivedUUID(Array("subscription:\(draft.topic.rawValue)".utf8))),
            "PublishTime": at,
            "NotificationId": .string(draft.eventId),
        ])
        switch draft.topic {
        case .order, .cancel:
            let orderId = draft.orderId ?? draft.eventId
            let items: [JSONValue] = draft.lines.enumerated().map { index, line in
                .object([
                    "OrderItemId": .string(String(ConnectorSupport.numericId(orderId) % 100_000_000_000 &+ Int64(index))),
                    "SellerSKU": .string(line.sku ?? line.externalId ?? ""),
                    "Quantity": .int(line.quantity),
                ])
            }
            let status = draft.topic == .cancel ? "Canceled" : "Unshipped"
            let notification: JSONValue = .object([
                "NotificationLevel": .string("OrderLevel"),
                "SellerId": .string(draft.accountId),
                "AmazonOrderId": .string(orderId),
                "OrderChangeType": .string(draft.topic == .cancel ? "BuyerRequestedChange" : "OrderStatusChange"),
                "OrderChangeTrigger": .object([
                    "TimeOfOrderChange": at, "ChangeReason": .string(draft.topic == .cancel ? "BuyerCanceled" : "NewOrder"),
                ]),
                "Summary": .object([
                    "MarketplaceId": .string(Self.defaultMarketplaceId),
                    "OrderStatus": .string(status),
                    "PurchaseDate": at,
                    "FulfillmentType": .string("MFN"),
                    "OrderType": .string("StandardOrder"),
                    "OrderItems": .array(items),
                ]),
            ])
            return JSONValue.object([
                "NotificationVersion": .string("1.0"),
                "NotificationType": .string("ORDER_CHANGE"),
                "PayloadVersion": .string("1.0"),
                "EventTime": at,
                "Payload": .object(["OrderChangeNotification": notification]),
                "NotificationMetadata": metadata,
            ]).serializedBytes
        case .inventory:
            guard draft.lines.count == 1, let line = draft.lines.first, let sku = line.sku ?? line.externalId else {
                throw ConnectorError.invalidPayload("LISTINGS_ITEM_MFN_QUANTITY_CHANGE carries exactly one SKU")
            }
            return JSONValue.object([
                "NotificationVersion": .string("1.0"),
                "NotificationType": .string("LISTINGS_ITEM_MFN_QUANTITY_CHANGE"),
                "PayloadVersion": .string("1.0"),
                "EventTime": at,
                "Payload": .object([
                    "SellerId": .string(draft.accountId),
                    "MarketplaceId": .string(Self.defaultMarketplaceId),
                    "Sku": .string(sku),
                    "FulfillmentChannelCode": .string("DEFAULT"),
                    "Quantity": .int(line.quantity),
                ]),
                "NotificationMetadata": metadata,
            ]).serializedBytes
        }
    }
}
