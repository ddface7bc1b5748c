import Foundation
import ShelfCore

/// Shopify Admin GraphQL API: `inventorySetQuantities` / `productVariantsBulkUpdate` pushes, `inventoryItems` polls,
/// HMAC-SHA256 (base64) webhooks in `X-Shopify-Hmac-Sha256`.
///
/// Credentials: `accessToken` (`X-Shopify-Access-Token`). `channelLocationId`: the Location id (digits or gid), required.
/// `externalId` is the InventoryItem id (digits). Price pushes need `references["variantId"]` and `["productId"]`.
public struct ShopifyConnector: ChannelConnector {
    public let kind = ChannelKind.shopify
    /// One push request carries many SKUs (see `ChannelConnector.batchesPushes`).
    public var batchesPushes: Bool { true }
    /// A price is a request of its own: sent only when it changed (see `ChannelConnector.pushesPriceSeparately`).
    public var pushesPriceSeparately: Bool { true }
    /// Admin API version in every URL and webhook header.
    public static let apiVersion = "2025-10"
    /// `inventorySetQuantities` accepts at most 250 quantities per call.
    public static let maxQuantitiesPerMutation = 250
    /// Shop domain the simulator puts in `X-Shopify-Shop-Domain`.
    public static let defaultShopDomain = "shelf-sim.myshopify.com"

    static let setQuantitiesMutation = """
        mutation ShelfSetQuantities($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) \
        { inventoryAdjustmentGroup { reason changes { name delta } } userErrors { code field message } } }
        """
    static let setPricesMutation = """
        mutation ShelfSetPrices($productId: ID!, $variants: [ProductVariantsBulkInput!]!) \
        { productVariantsBulkUpdate(productId: $productId, variants: $variants) \
        { productVariants { id price } userErrors { code field message } } }
        """
    static let pollQuery = """
        query ShelfPoll($first: Int!, $after: String, $locationId: ID!) { shop { currencyCode } \
        inventoryItems(first: $first, after: $after) { pageInfo { hasNextPage endCursor } \
        nodes { id sku updatedAt variant { id price } inventoryLevel(locationId: $locationId) \
        { quantities(names: ["available"]) { name quantity } } } } }
        """

    public init() {}

    static func gid(_ type: String, _ id: String) -> String {
        id.hasPrefix("gid://") ? id : "gid://shopify/\(type)/\(id)"
    }

    /// The trailing numeric id of a gid (`gid://shopify/InventoryItem/123` → `123`).
    static func legacyId(_ gid: String) -> String {
        let withoutQuery = gid.split(separator: "?", maxSplits: 1).first.map(String.init) ?? gid
        return withoutQuery.split(separator: "/").last.map(String.init) ?? gid
    }

    private func graphQLURL(_ settings: ConnectorSettings) -> String {
        "\(settings.baseURL)/admin/api/\(Self.apiVersion)/graphql.json"
    }

    private func headers(_ settings: ConnectorSettings) -> [String: String] {
        ["X-Shopify-Access-Token": settings.credential("accessToken")]
    }

    public func pushRequests(_ updates: [ListingUpdate], settings: ConnectorSettings) throws -> [ChannelHTTPRequest] {
        guard !updates.isEmpty else { return [] }
        guard let location = settings.channelLocationId, !location.isEmpty else { throw ConnectorError.missingLocation }
        var requests: [ChannelHTTPRequest] = []
        for chunk in ConnectorSupport.chunks(updates, of: Self.maxQuantitiesPerMutation) {
            let quantities: [JSONValue] = chunk.map { update in
                .object([
                    "inventoryItemId": .string(Self.gid("InventoryItem", update.externalId)),
                    "locationId": .string(Self.gid("Location", location)),
                    "quantity": .int(update.publishedQuantity),
                    "changeFromQuantity": update.expectedChannelQuantity.map { .int($0) } ?? .null,
                ])
            }
            let input: JSONValue = .object([
                "name": .string("available"),
                "reason": .string("correction"),
                "referenceDocumentUri": .string("shelf://sync"),
                "quantities": .array(quantities),
            ])
            let body: JSONValue = .object(["query": .string(Self.setQuantitiesMutation), "variables": .object(["input": input])])
            requests.append(
                ConnectorSupport.jsonRequest("POST", graphQLURL(settings), headers: headers(settings), body: body, skus: chunk.map(\.sku))
            )
        }
        var productOrder: [String] = []
        var variantsByProduct: [String: [(ListingUpdate, String)]] = [:]
        for update in updates {
            guard update.price != nil else { continue }
            guard let variantId = update.references["variantId"], !variantId.isEmpty else {
                throw ConnectorError.missingReference(field: "variantId", sku: update.sku)
            }
            guard let productId = update.references["productId"], !productId.isEmpty else {
                throw ConnectorError.missingReference(field: "productId", sku: update.sku)
            }
            if variantsByProduct[productId] == nil { productOrder.append(productId) }
            variantsByProduct[productId, default: []].append((update, variantId))
        }
        for productId in productOrder {
            let entries = variantsByProduct[productId]!
            let variants: [JSONValue] = entries.map { update, variantId in
                .object(["id": .string(Self.gid("ProductVariant", variantId)), "price": .string(update.price!.decimalString)])
            }
            let body: JSONValue = .object([
                "query": .string(Self.setPricesMutation),
                "variables": .object(["productId": .string(Self.gid("Product", productId)), "variants": .array(variants)]),
            ])
            requests.append(
                ConnectorSupport.jsonRequest("POST", graphQLURL(settings), headers: headers(settings), body: body, skus: entries.map(\.0.sku))
            )
        }
        return requests
    }

    public func pushOutcome(status: Int, headers: [String: String], body: [UInt8]) -> PushOutcome {
        guard (200..<300).contains(status) else { return HTTPStatusClassifier.outcome(status: status, headers: headers, body: body) }
        guard let json = try? JSONValue.parse(body) else { return .retryable(reason: "unreadable GraphQL response") }
        if let errors = json["errors"]?.arrayValue, !errors.isEmpty {
            if errors.contains(where: { $0["extensions"]?["code"]?.stringValue == "THROTTLED" }) {
                return .rateLimited(retryAfterSeconds: nil)
            }
            return .rejected(reason: errors.compactMap { $0["message"]?.stringValue }.joined(separator: "; "), skus: [])
        }
        let payload = json["data"]?["inventorySetQuantities"] ?? json["data"]?["productVariantsBulkUpdate"]
        if let userErrors = payload?["userErrors"]?.arrayValue, !userErrors.isEmpty {
            let reasons = userErrors.map { error in
                [error["code"]?.stringValue, error["message"]?.stringValue].compactMap { $0 }.joined(separator: ": ")
            }
            return .rejected(reason: reasons.joined(separator: "; "), skus: [])
        }
        return .accepted
    }

    public func pollRequest(settings: ConnectorSettings, cursor: String?, etag: String?) -> ChannelHTTPRequest {
        let location = Self.gid("Location", settings.channelLocationId ?? "0")
        let variables: JSONValue = .object([
            "first": .int(100),
            "after": cursor.map { .string($0) } ?? .null,
            "locationId": .string(location),
        ])
        let body: JSONValue = .object(["query": .string(Self.pollQuery), "variables": variables])
        return ConnectorSupport.jsonRequest("POST", graphQLURL(settings), headers: headers(settings), body: body)
    }

    public func parsePollResponse(status: Int, headers: [String: String], body: [UInt8]) throws -> PollPage {
        try HTTPStatusClassifier.checkPoll(status: status, headers: headers, body: body)
        if status == 304 { return HTTPStatusClassifier.notModifiedPage(headers: headers) }
        let json = try ConnectorSupport.json(body)
        if let errors = json["errors"]?.arrayValue, !errors.isEmpty {
            if errors.contains(where: { $0["extensions"]?["code"]?.stringValue == "THROTTLED" }) {
                throw ConnectorError.rateLimited(retryAfterSeconds: nil)
            }
            throw ConnectorError.invalidPayload(errors.compactMap { $0["message"]?.stringValue }.joined(separator: "; "))
        }
        guard let connection = json["data"]?["inventoryItems"], let nodes = connection["nodes"]?.arrayValue else {
            throw ConnectorError.invalidPayload("missing data.inventoryItems.nodes")
        }
        let currency = json["data"]?["shop"]?["currencyCode"]?.stringValue
        var levels: [ChannelStockLevel] = []
        for node in nodes {
            let gid = try ConnectorSupport.requiredString(node["id"], "inventoryItems.nodes.id")
            // An item not stocked at this location has no level there: nothing to report.
            guard let quantities = node["inventoryLevel"]?["quantities"]?.arrayValue,
                let available = quantities.first(where: { $0["name"]?.stringValue == "available" })?["quantity"]?.intValue
            else { continue }
            let sku = node["sku"]?.stringValue
            levels.append(
                ChannelStockLevel(
                    sku: sku?.isEmpty == false ? sku : nil,
                    externalId: Self.legacyId(gid),
                    quantity: available,
                    price: ConnectorSupport.money(node["variant"]?["price"], currency: currency),
                    updatedAt: node["updatedAt"]?.stringValue.flatMap(Timestamp.parse)
                )
            )
        }
        let pageInfo = connection["pageInfo"]
        let next = pageInfo?["hasNextPage"]?.boolValue == true ? pageInfo?["endCursor"]?.stringValue : nil
        return PollPage(levels: levels, nextCursor: next, etag: HTTPHeaders.value(headers, "etag"), notModified: false)
    }

    // MARK: Webhooks

    static func topicName(_ topic: WebhookTopic) -> String {
        switch topic {
        case .order: return "orders/create"
        case .cancel: return "orders/cancelled"
        case .inventory: return "inventory_levels/update"
        }
    }

    public func verifyWebhook(headers: [String: String], body: [UInt8], secret: String) -> Bool {
        // Shopify's own library rejects a delivery missing any of these.
        for required in ["x-shopify-topic", "x-shopify-shop-domain", "x-shopify-api-version", "x-shopify-webhook-id"] {
            guard let value = HTTPHeaders.value(headers, required), !value.isEmpty else { return false }
        }
        guard !body.isEmpty, !secret.isEmpty, let header = HTTPHeaders.value(headers, "x-shopify-hmac-sha256"),
            let presented = WebhookCrypto.base64Decode(header)
        else { return false }
        return WebhookCrypto.constantTimeEquals(presented, WebhookCrypto.hmacSHA256(secret: secret, message: body))
    }

    public func parseWebhook(headers: [String: String], body: [UInt8]) throws -> [ChannelWebhookEvent] {
        guard let topic = HTTPHeaders.value(headers, "x-shopify-topic") else { throw ConnectorError.invalidPayload("missing X-Shopify-Topic") }
        guard let webhookId = HTTPHeaders.value(headers, "x-shopify-webhook-id"), !webhookId.isEmpty else {
            throw ConnectorError.invalidPayload("missing X-Shopify-Webhook-Id")
        }
        let json = try ConnectorSupport.json(body)
        switch topic {
        case "orders/create", "orders/cancelled":
            guard let orderId = json["id"]?.int64Value else { throw ConnectorError.invalidPayload("order id is not an integer") }
            let lines = (json["line_items"]?.arrayValue ?? []).map { item in
                ChannelWebhookEvent.Line(
                    sku: item["sku"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 },
                    externalId: nil,
                    quantity: item["quantity"]?.intValue ?? 0
                )
            }
            let cancelled = topic == "orders/cancelled"
            let when = (cancelled ? json["cancelled_at"] : json["created_at"])?.stringValue ?? json["updated_at"]?.stringValue
            return [
                ChannelWebhookEvent(
                    kind: cancelled ? .orderCancelled : .orderPlaced,
                    eventId: webhookId,
                    orderId: String(orderId),
                    lines: lines,
                    occurredAt: when.flatMap(Timestamp.parse)
                )
            ]
        case "inventory_levels/update":
            guard let itemId = json["inventory_item_id"]?.int64Value else {
                throw ConnectorError.invalidPayload("inventory_item_id is not an integer")
            }
            let available = try ConnectorSupport.requiredInt(json["available"], "available")
            return [
                ChannelWebhookEvent(
                    kind: .inventoryLevel,
                    eventId: webhookId,
                    lines: [ChannelWebhookEvent.Line(sku: nil, externalId: String(itemId), quantity: available)],
                    occurredAt: json["updated_at"]?.stringValue.flatMap(Timestamp.parse),
                    channelLocationId: json["location_id"]?.int64Value.map(String.init)
                )
            ]
        default:
            return []
        }
    }

    public func signWebhook(body: [UInt8], secret: String, eventId: String, topic: WebhookTopic, now: Date) -> [String: String] {
        [
            "Content-Type": "application/json",
            "X-Shopify-Topic": Self.topicName(topic),
            "X-Shopify-Hmac-Sha256": WebhookCrypto.base64(WebhookCrypto.hmacSHA256(secret: secret, message: body)),
            "X-Shopify-Shop-Domain": Self.defaultShopDomain,
            "X-Shopify-API-Version": Self.apiVersion,
            "X-Shopify-Webhook-Id": eventId,
            "X-Shopify-Event-Id": WebhookCrypto.derivedUUID(Array(("event:" + eventId).utf8)),
            "X-Shopify-Triggered-At": Timestamp.format(now),
        ]
    }

    public func webhookBody(_ draft: WebhookDraft) throws -> [UInt8] {
        let at = JSONValue.string(Timestamp.format(draft.occurredAt))
        switch draft.topic {
        case .order, .cancel:
            let orderId = ConnectorSupport.numericId(draft.orderId ?? draft.eventId)
            let lineItems: [JSONValue] = draft.lines.enumerated().map { index, line in
                .object([
                    "id": .int(orderId &* 100 &+ Int64(index + 1)),
                    "sku": line.sku.map { .string($0) } ?? .null,
                    "quantity": .int(line.quantity),
                    "variant_id": line.externalId.map { .int(ConnectorSupport.numericId($0)) } ?? .null,
                    "name": .string(line.sku ?? line.externalId ?? "item"),
                    "fulfillable_quantity": .int(line.quantity),
                ])
            }
            return JSONValue.object([
                "id": .int(orderId),
                "admin_graphql_api_id": .string("gid://shopify/Order/\(orderId)"),
                "name": .string("#\(orderId)"),
                "created_at": at,
                "updated_at": at,
                "cancelled_at": draft.topic == .cancel ? at : .null,
                "cancel_reason": draft.topic == .cancel ? .string("customer") : .null,
                "financial_status": .string(draft.topic == .cancel ? "refunded" : "paid"),
                "currency": .string("USD"),
                "line_items": .array(lineItems),
            ]).serializedBytes
        case .inventory:
            guard draft.lines.count == 1, let line = draft.lines.first, let externalId = line.externalId else {
                throw ConnectorError.invalidPayload("inventory_levels/update carries exactly one item with an externalId")
            }
            let itemId = ConnectorSupport.numericId(externalId)
            let locationId = ConnectorSupport.numericId(draft.channelLocationId ?? "1")
            return JSONValue.object([
                "inventory_item_id": .int(itemId),
                "location_id": .int(locationId),
                "available": .int(line.quantity),
                "updated_at": at,
                "admin_graphql_api_id": .string("gid://shopify/InventoryLevel/\(locationId)?inventory_item_id=\(itemId)"),
            ]).serializedBytes
        }
    }
}
