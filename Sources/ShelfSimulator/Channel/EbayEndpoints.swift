import ShelfConnectors
import ShelfCore

/// eBay: `POST /sell/inventory/v1/bulk_update_price_quantity`, `GET /sell/inventory/v1/inventory_item`,
/// `GET /sell/fulfillment/v1/order/{orderId}`.
struct EbayEndpoints: ChannelEndpoints {
    func operation(for call: ChannelCall) -> ChannelOperation? {
        let segments = call.segments
        if call.method == "POST", segments == ["sell", "inventory", "v1", "bulk_update_price_quantity"] { return .push }
        if call.method == "GET", segments == ["sell", "inventory", "v1", "inventory_item"] { return .poll }
        if call.method == "GET", segments.count == 5, Array(segments.prefix(4)) == ["sell", "fulfillment", "v1", "order"] { return .order }
        return nil
    }

    func throttled(retryAfter: Int, budget: RateBudget) -> ChannelReply {
        .json(
            429,
            .object([
                "errors": .array([
                    .object([
                        "errorId": .int(2001),
                        "domain": .string("ACCESS"),
                        "category": .string("REQUEST"),
                        "message": .string("Too many requests. The request limit has been reached for the resource."),
                    ])
                ])
            ]),
            headers: ["Retry-After": String(retryAfter)]
        )
    }

    func handle(_ call: ChannelCall, state: SimulatorState) async throws(ChannelReply) -> ChannelReply {
        switch operation(for: call) {
        case .push: return try await bulkUpdate(call, state: state)
        case .poll: return await inventoryItems(call, state: state)
        default: return await order(call, state: state)
        }
    }

    private func bulkUpdate(_ call: ChannelCall, state: SimulatorState) async throws(ChannelReply) -> ChannelReply {
        let requests = try call.json()["requests"]?.arrayValue ?? []
        guard requests.count <= EbayConnector.maxRequestsPerBulkUpdate else {
            return .json(400, .object(["errors": .array([.object(["errorId": .int(25709), "message": .string("Maximum 25 requests per call")])])]))
        }
        var changes: [SimulatorState.PushChange] = []
        for request in requests {
            let sku = request["sku"]?.stringValue ?? ""
            let offer = request["offers"]?.arrayValue?.first
            let quantity = request["shipToLocationAvailability"]?["quantity"]?.intValue ?? offer?["availableQuantity"]?.intValue
            let price = offer?["price"].flatMap { price in
                price["value"]?.decimalText.flatMap { Money(decimal: $0, currency: price["currency"]?.stringValue ?? "USD") }
            }
            changes.append(SimulatorState.PushChange(externalId: sku, quantity: quantity, price: price))
        }
        let results = await state.applyPush(
            connection: call.connection.id,
            changes: changes,
            atomic: false,
            receivedAt: call.receivedAt,
            receivedAtNanos: call.receivedAtNanos
        )
        let responses: [JSONValue] = zip(requests, results).map { request, result in
            let sku = request["sku"] ?? .null
            let offerId = request["offers"]?.arrayValue?.first?["offerId"] ?? .null
            if case .applied = result {
                return .object(["statusCode": .int(200), "sku": sku, "offerId": offerId, "errors": .array([]), "warnings": .array([])])
            }
            return .object([
                "statusCode": .int(404),
                "sku": sku,
                "offerId": offerId,
                "errors": .array([.object(["errorId": .int(25702), "domain": .string("API_INVENTORY"), "message": .string("SKU not found.")])]),
                "warnings": .array([]),
            ])
        }
        return .json(200, .object(["responses": .array(responses)]))
    }

    private func inventoryItems(_ call: ChannelCall, state: SimulatorState) async -> ChannelReply {
        let limit = PageSlice<SimItem>.limit(call.query["limit"], default: 25, max: 200)
        let offset = Int(call.query["offset"] ?? "0") ?? 0
        let page = PageSlice(await state.items(call.connection.id), offset: offset, limit: limit)
        let href = { (offset: Int) in "\(call.baseURL)/sell/inventory/v1/inventory_item?limit=\(limit)&offset=\(offset)" }
        let items: [JSONValue] = page.elements.map { item in
            .object([
                "sku": .string(item.externalId),
                "locale": .string("en_US"),
                "condition": .string("NEW"),
                "product": .object(["title": .string(item.sku)]),
                "availability": .object(["shipToLocationAvailability": .object(["quantity": .int(item.quantity)])]),
            ])
        }
        var body: [String: JSONValue] = [
            "href": .string(href(page.offset)),
            "limit": .int(limit),
            "size": .int(page.elements.count),
            "total": .int(page.total),
            "inventoryItems": .array(items),
        ]
        if let next = page.nextOffset { body["next"] = .string(href(next)) }
        if page.offset > 0 { body["prev"] = .string(href(max(0, page.offset - limit))) }
        return .json(200, .object(body))
    }

    private func order(_ call: ChannelCall, state: SimulatorState) async -> ChannelReply {
        let orderId = call.segments[4]
        guard let order = await state.order(call.connection.id, orderId) else {
            return .json(404, .object(["errors": .array([.object(["errorId": .int(32100), "message": .string("Invalid order ID: \(orderId)")])])]))
        }
        let lines: [JSONValue] = order.lines.enumerated().map { index, line in
            .object([
                "lineItemId": .string("\(orderId)-\(index + 1)"),
                "legacyItemId": .string(line.externalId ?? ""),
                "sku": .string(line.sku ?? line.externalId ?? ""),
                "quantity": .int(line.quantity),
                "lineItemFulfillmentStatus": .string("NOT_STARTED"),
            ])
        }
        return .json(
            200,
            .object([
                "orderId": .string(order.orderId),
                "creationDate": .string(order.createdAt),
                "orderFulfillmentStatus": .string("NOT_STARTED"),
                "orderPaymentStatus": .string("PAID"),
                "cancelStatus": .object(["cancelState": .string(order.cancelled ? "CANCELED" : "NONE_REQUESTED")]),
                "lineItems": .array(lines),
            ])
        )
    }
}
