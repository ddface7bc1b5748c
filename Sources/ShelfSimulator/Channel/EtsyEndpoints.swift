import ShelfConnectors
import ShelfCore

/// Etsy Open API v3: `PUT /v3/application/listings/{listing_id}/inventory`,
/// `GET /v3/application/shops/{shop_id}/listings`, `GET /v3/application/shops/{shop_id}/receipts/{receipt_id}`.
struct EtsyEndpoints: ChannelEndpoints {
    func operation(for call: ChannelCall) -> ChannelOperation? {
        let segments = call.segments
        guard segments.count >= 4, segments[0] == "v3", segments[1] == "application" else { return nil }
        if call.method == "PUT", segments.count == 5, segments[2] == "listings", segments[4] == "inventory" { return .push }
        if call.method == "GET", segments.count == 5, segments[2] == "shops", segments[4] == "listings" { return .poll }
        if call.method == "GET", segments.count == 6, segments[2] == "shops", segments[4] == "receipts" { return .order }
        return nil
    }

    func throttled(retryAfter: Int, budget: RateBudget) -> ChannelReply {
        .json(
            429,
            .object(["error": .string("You have exceeded your rate limit of \(Int(budget.perSecond)) requests per second.")]),
            headers: ["Retry-After": String(retryAfter), "x-limit-per-second": String(Int(budget.perSecond)), "x-remaining-this-second": "0"]
        )
    }

    static func money(_ price: Money?) -> JSONValue {
        guard let price else { return .null }
        var divisor: Int64 = 1
        for _ in 0..<Money.minorUnitDigits(price.currency) { divisor *= 10 }
        return .object(["amount": .int(price.amount), "divisor": .int(divisor), "currency_code": .string(price.currency)])
    }

    func handle(_ call: ChannelCall, state: SimulatorState) async throws(ChannelReply) -> ChannelReply {
        switch operation(for: call) {
        case .push: return try await updateInventory(call, state: state)
        case .poll: return await listings(call, state: state)
        default: return await receipt(call, state: state)
        }
    }

    private func updateInventory(_ call: ChannelCall, state: SimulatorState) async throws(ChannelReply) -> ChannelReply {
        let listingId = call.segments[3]
        let json = try call.json()
        guard let product = json["products"]?.arrayValue?.first, let offering = product["offerings"]?.arrayValue?.first else {
            return .json(400, .object(["error": .string("products[0].offerings[0] is required")]))
        }
        let existing = await state.item(call.connection.id, listingId)
        let currency = existing?.price?.currency ?? "USD"
        guard let priceText = offering["price"]?.decimalText, let price = Money(decimal: priceText, currency: currency) else {
            return .json(400, .object(["error": .string("offerings[0].price is required")]))
        }
        let results = await state.applyPush(
            connection: call.connection.id,
            changes: [SimulatorState.PushChange(externalId: listingId, quantity: offering["quantity"]?.intValue, price: price)],
            atomic: true,
            receivedAt: call.receivedAt,
            receivedAtNanos: call.receivedAtNanos
        )
        guard case .applied(let item, _) = results.first else {
            return .json(404, .object(["error": .string("Listing \(listingId) not found")]))
        }
        let listingNumber = ConnectorsIds.number(listingId)
        return .json(
            200,
            .object([
                "products": .array([
                    .object([
                        "product_id": .int(listingNumber &* 10 &+ 1),
                        "sku": .string(item.sku),
                        "is_deleted": .bool(false),
                        "offerings": .array([
                            .object([
                                "offering_id": .int(listingNumber &* 10 &+ 2),
                                "quantity": .int(item.quantity),
                                "is_enabled": offering["is_enabled"] ?? .bool(true),
                                "is_deleted": .bool(false),
                                "price": Self.money(item.price),
                            ])
                        ]),
                        "property_values": .array([]),
                    ])
                ]),
                "price_on_property": .array([]),
                "quantity_on_property": .array([]),
                "sku_on_property": .array([]),
            ])
        )
    }

    private func listings(_ call: ChannelCall, state: SimulatorState) async -> ChannelReply {
        let limit = PageSlice<SimItem>.limit(call.query["limit"], default: 25, max: 100)
        let page = PageSlice(await state.items(call.connection.id), offset: Int(call.query["offset"] ?? "0") ?? 0, limit: limit)
        let results: [JSONValue] = page.elements.map { item in
            let seconds = JSONValue.int(Timestamp.parse(item.updatedAt).map(Timestamp.epochSeconds) ?? 0)
            return .object([
                "listing_id": .number(String(ConnectorsIds.number(item.externalId))),
                "shop_id": .number(String(ConnectorsIds.number(call.segments[3]))),
                "title": .string(item.sku),
                "state": .string("active"),
                "quantity": .int(item.quantity),
                "skus": .array([.string(item.sku)]),
                "price": Self.money(item.price),
                "updated_timestamp": seconds,
                "last_modified_timestamp": seconds,
            ])
        }
        return .json(200, .object(["count": .int(page.total), "results": .array(results)]))
    }

    private func receipt(_ call: ChannelCall, state: SimulatorState) async -> ChannelReply {
        let receiptId = call.segments[5]
        guard let order = await state.order(call.connection.id, receiptId) else {
            return .json(404, .object(["error": .string("Receipt \(receiptId) not found")]))
        }
        let transactions: [JSONValue] = order.lines.enumerated().map { index, line in
            .object([
                "transaction_id": .int(ConnectorsIds.number(receiptId) &* 100 &+ Int64(index + 1)),
                "listing_id": .number(String(ConnectorsIds.number(line.externalId ?? "0"))),
                "sku": .string(line.sku ?? ""),
                "quantity": .int(line.quantity),
            ])
        }
        return .json(
            200,
            .object([
                "receipt_id": .number(String(ConnectorsIds.number(receiptId))),
                "status": .string(order.cancelled ? "Canceled" : "Paid"),
                "is_paid": .bool(true),
                "create_timestamp": .int(order.createdAtEpochSeconds),
                "transactions": .array(transactions),
            ])
        )
    }
}

/// Numeric ids for channels whose ids are integers.
enum ConnectorsIds {
    static func number(_ id: String) -> Int64 {
        Int64(ChannelKind.etsy.wireOrderId(id)) ?? 0
    }
}
