import Foundation
import ShelfCore

/// Shelf's own simple channel format for custom storefronts/POS: `POST /inventory/batch` pushes (500 per call),
/// `GET /inventory?cursor=&limit=` polls with ETag, and webhooks signed `X-Shelf-Signature: sha256=<hex HMAC-SHA256>`
/// with the dedupe id in `X-Shelf-Event-Id`.
///
/// Credentials: `apiKey` (`Authorization: Bearer`, optional).
public struct GenericConnector: ChannelConnector {
    public let kind = ChannelKind.generic
    /// One push request carries many SKUs (see `ChannelConnector.batchesPushes`).
    public var batchesPushes: Bool { true }
    public static let maxItemsPerBatch = 500
    public static let pollPageSize = 100

    public init() {}

    private func headers(_ settings: ConnectorSettings) -> [String: String] {
        guard let key = settings.credentials["apiKey"], !key.isEmpty else { return [:] }
        return ["Authorization": "Bearer \(key)"]
    }

    static func moneyJSON(_ money: Money?) -> JSONValue {
        guard let money else { return .null }
        return .object(["amount": .int(money.amount), "currency": .string(money.currency)])
    }

    static func money(_ value: JSONValue?) -> Money? {
        guard let value, let amount = value["amount"]?.int64Value, let currency = value["currency"]?.stringValue else { return nil }
        return Money(amount: amount, currency: currency)
    }

    public func pushRequests(_ updates: [ListingUpdate], settings: ConnectorSettings) throws -> [ChannelHTTPRequest] {
        ConnectorSupport.chunks(updates, of: Self.maxItemsPerBatch).map { chunk in
            let items: [JSONValue] = chunk.map { update in
                .object([
                    "externalId": .string(update.externalId),
                    "sku": .string(update.sku),
                    "quantity": .int(update.publishedQuantity),
                    "price": Self.moneyJSON(update.price),
                    "listed": .bool(update.listed),
                ])
            }
            return ConnectorSupport.jsonRequest(
                "POST",
                settings.baseURL + "/inventory/batch",
                headers: headers(settings),
                body: .object(["items": .array(items)]),
                skus: chunk.map(\.sku)
            )
        }
    }

    public func pushOutcome(status: Int, headers: [String: String], body: [UInt8]) -> PushOutcome {
        guard (200..<300).contains(status) else { return HTTPStatusClassifier.outcome(status: status, headers: headers, body: body) }
        guard let json = try? JSONValue.parse(body), let results = json["results"]?.arrayValue else { return .accepted }
        let failed = results.filter { $0["status"]?.stringValue != "ok" }
        guard !failed.isEmpty else { return .accepted }
        let ids = failed.compactMap { $0["externalId"]?.stringValue }
        return .rejected(reason: "unknown items: " + ids.joined(separator: ", "), skus: [])
    }

    public func pollRequest(settings: ConnectorSettings, cursor: String?, etag: String?) -> ChannelHTTPRequest {
        let url = URLQuery.url(settings.baseURL, "/inventory", [("limit", String(Self.pollPageSize)), ("cursor", cursor)])
        return ConnectorSupport.jsonRequest("GET", url, headers: ConnectorSupport.conditional(headers(settings), etag: etag), body: nil)
    }

    public func parsePollResponse(status: Int, headers: [String: String], body: [UInt8]) throws -> PollPage {
        try HTTPStatusClassifier.checkPoll(status: status, headers: headers, body: body)
        if status == 304 { return HTTPStatusClassifier.notModifiedPage(headers: headers) }
        let json = try ConnectorSupport.json(body)
        guard let items = json["items"]?.arrayValue else { throw ConnectorError.invalidPayload("missing items") }
        let levels = try items.map { item in
            ChannelStockLevel(
                sku: item["sku"]?.stringValue,
                externalId: try ConnectorSupport.requiredString(item["externalId"], "items.externalId"),
                quantity: try ConnectorSupport.requiredInt(item["quantity"], "items.quantity"),
                price: Self.money(item["price"]),
                updatedAt: item["updatedAt"]?.stringValue.flatMap(Timestamp.parse)
            )
        }
        let next = json["nextCursor"]?.stringValue
        return PollPage(levels: levels, nextCursor: next?.isEmpty == false ? next : nil, etag: HTTPHeaders.value(headers, "etag"))
    }

    // MARK: Webhooks

    static func typeName(_ topic: WebhookTopic) -> String {
        switch topic {
        case .order: return "order.placed"
        case .cancel: return "order.cancelled"
        case .inventory: return "inventory.level"
        }
    }

    public func verifyWebhook(headers: [String: String], body: [UInt8], secret: String) -> Bool {
        guard !body.isEmpty, !secret.isEmpty, let header = HTTPHeaders.value(headers, "x-shelf-signature"), header.hasPrefix("sha256="),
            let presented = WebhookCrypto.hexDecode(String(header.dropFirst(7)))
        else { return false }
        return WebhookCrypto.constantTimeEquals(presented, WebhookCrypto.hmacSHA256(secret: secret, message: body))
    }

    public func parseWebhook(headers: [String: String], body: [UInt8]) throws -> [ChannelWebhookEvent] {
        let json = try ConnectorSupport.json(body)
        guard let eventId = HTTPHeaders.value(headers, "x-shelf-event-id") ?? json["eventId"]?.stringValue, !eventId.isEmpty else {
            throw ConnectorError.invalidPayload("missing X-Shelf-Event-Id")
        }
        let kind: ChannelWebhookEvent.Kind
        switch json["type"]?.stringValue {
        case "order.placed": kind = .orderPlaced
        case "order.cancelled": kind = .orderCancelled
        case "inventory.level": kind = .inventoryLevel
        default: return []
        }
        let lines = try (json["lines"]?.arrayValue ?? []).map { line in
            ChannelWebhookEvent.Line(
                sku: line["sku"]?.stringValue,
                externalId: line["externalId"]?.stringValue,
                quantity: try ConnectorSupport.requiredInt(line["quantity"], "lines.quantity")
            )
        }
        return [
            ChannelWebhookEvent(
                kind: kind,
                eventId: eventId,
                orderId: json["orderId"]?.stringValue,
                lines: lines,
                occurredAt: json["occurredAt"]?.stringValue.flatMap(Timestamp.parse)
            )
        ]
    }

    public func signWebhook(body: [UInt8], secret: String, eventId: String, topic: WebhookTopic, now: Date) -> [String: String] {
        [
            "Content-Type": "application/json",
            "X-Shelf-Event-Id": eventId,
            "X-Shelf-Signature": "sha256=" + WebhookCrypto.hex(WebhookCrypto.hmacSHA256(secret: secret, message: body)),
        ]
    }

    public func webhookBody(_ draft: WebhookDraft) throws -> [UInt8] {
        let lines: [JSONValue] = draft.lines.map { line in
            .object([
                "externalId": line.externalId.map { .string($0) } ?? .null,
                "sku": line.sku.map { .string($0) } ?? .null,
                "quantity": .int(line.quantity),
            ])
        }
        return JSONValue.object([
            "eventId": .string(draft.eventId),
            "type": .string(Self.typeName(draft.topic)),
            "orderId": draft.orderId.map { .string($0) } ?? .null,
            "occurredAt": .string(Timestamp.format(draft.occurredAt)),
            "lines": .array(lines),
        ]).serializedBytes
    }
}
