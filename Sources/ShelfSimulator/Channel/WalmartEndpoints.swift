import ShelfConnectors
import ShelfCore

/// Walmart Marketplace: `PUT /v3/inventory?sku=`, `PUT /v3/price`, `GET /v3/inventories`.
struct WalmartEndpoints: ChannelEndpoints {
    func operation(for call: ChannelCall) -> ChannelOperation? {
        if call.method == "PUT", call.segments == ["v3", "inventory"] || call.segments == ["v3", "price"] { return .push }
        if call.method == "GET", call.segments == ["v3", "inventories"] { return .poll }
        return nil
    }

    func throttled(retryAfter: Int, budget: RateBudget) -> ChannelReply {
        .json(
            429,
            .object([
                "errors": .array([
                    .object([
                        "code": .string("REQUEST_THRESHOLD_VIOLATED.GMP_GATEWAY_API"),
                        "field": .string("REQUEST_THRESHOLD_VIOLATED"),
                        "description": .string("Request threshold violated"),
                        "category": .string("REQUEST"),
                        "severity": .string("ERROR"),
                    ])
                ])
            ]),
            headers: ["Retry-After": String(retryAfter), "x-current-token-count": "0", "x-next-replenishment-time": String(retryAfter * 1000)]
        )
    }

    private func notFound(_ sku: String) -> ChannelReply {
        .json(
            404,
            .object([
                "errors": .array([
                    .object([
                        "code": .string("CONTENT_NOT_FOUND.GMP_INVENTORY_API"), "field": .string("sku"),
                        "description": .string("Item not found: \(sku)"),
                    ])
                ])
            ])
        )
    }

    func handle(_ call: ChannelCall, state: SimulatorState) async throws(ChannelReply) -> ChannelReply {
        switch call.segments {
        case ["v3", "inventory"]:
            let json = try call.json()
            let sku = call.query["sku"] ?? json["sku"]?.stringValue ?? ""
            let quantity = json["quantity"]?["amount"]?.intValue
            let results = await state.applyPush(
                connection: call.connection.id,
                changes: [SimulatorState.PushChange(externalId: sku, quantity: quantity)],
                atomic: true,
                receivedAt: call.receivedAt,
                receivedAtNanos: call.receivedAtNanos
            )
            guard case .applied(let item, _) = results.first else { return notFound(sku) }
            return .json(200, .object(["sku": .string(sku), "quantity": .object(["unit": .string("EACH"), "amount": .int(item.quantity)])]))
        case ["v3", "price"]:
            let json = try call.json()
            let sku = json["sku"]?.stringValue ?? ""
            let current = json["pricing"]?.arrayValue?.first?["currentPrice"]
            let price = current.flatMap { price in
                price["amount"]?.decimalText.flatMap { Money(decimal: $0, currency: price["currency"]?.stringValue ?? "USD") }
            }
            guard let price else {
                return .json(
                    400,
                    .object([
                        "errors": .array([
                            .object(["code": .string("INVALID_REQUEST_CONTENT.GMP_PRICE_API"), "description": .string("Invalid price")])
                        ])
                    ])
                )
            }
            let results = await state.applyPush(
                connection: call.connection.id,
                changes: [SimulatorState.PushChange(externalId: sku, price: price)],
                atomic: true,
                receivedAt: call.receivedAt,
                receivedAtNanos: call.receivedAtNanos
            )
            guard case .applied = results.first else { return notFound(sku) }
            return .json(
                200,
                .object([
                    "ItemPriceResponse": .object([
                        "mart": .string("WALMART_US"),
                        "sku": .string(sku),
                        "message": .string(
                            "Thank you. Your price has been updated. Please allow up to five minutes for this change to be reflected on the site."
                        ),
                    ])
                ])
            )
        default:
            let limit = PageSlice<SimItem>.limit(call.query["limit"], default: 10, max: 50)
            let page = PageSlice(
                await state.items(call.connection.id),
                offset: PageSlice<SimItem>.offset(ofToken: call.query["nextCursor"]),
                limit: limit
            )
            let inventories: [JSONValue] = page.elements.map { item in
                let amount: JSONValue = .object(["unit": .string("EACH"), "amount": .int(item.quantity)])
                return .object([
                    "sku": .string(item.externalId),
                    "nodes": .array([
                        .object([
                            "shipNode": .string("SIM-NODE-1"),
                            "inputQty": amount,
                            "availToSellQty": amount,
                            "reservedQty": .object(["unit": .string("EACH"), "amount": .int(0)]),
                        ])
                    ]),
                ])
            }
            var meta: [String: JSONValue] = ["totalCount": .int(page.total)]
            if let next = page.nextOffset { meta["nextCursor"] = .string(PageSlice<SimItem>.token(next)) }
            return .json(200, .object(["meta": .object(meta), "elements": .object(["inventories": .array(inventories)])]))
        }
    }
}
