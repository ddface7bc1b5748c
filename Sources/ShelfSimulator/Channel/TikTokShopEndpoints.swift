import ShelfConnectors
import ShelfCore

/// TikTok Shop 202309: `POST /product/202309/products/{id}/inventory/update`, `…/prices/update`,
/// `POST /product/202309/products/search`, `GET /order/202309/orders?ids=`. Every response is `{code, message, data}`.
/// Calls must carry `app_key`, `timestamp` and `sign` (the signature itself is not checked: the simulator has no app secret).
struct TikTokShopEndpoints: ChannelEndpoints {
    var etagPolls: Bool { false }

    func operation(for call: ChannelCall) -> ChannelOperation? {
        let segments = call.segments
        if call.method == "POST", segments.count == 6, segments[0] == "product", segments[2] == "products",
            segments[4] == "inventory" || segments[4] == "prices", segments[5] == "update"
        {
            return .push
        }
        if call.method == "POST", segments.count == 4, segments[0] == "product", segments[2] == "products", segments[3] == "search" { return .poll }
        if call.method == "GET", segments.count == 3, segments[0] == "order", segments[2] == "orders" { return .order }
        return nil
    }

    private func envelope(_ data: JSONValue, code: Int = 0, message: String = "Success", call: ChannelCall) -> ChannelReply {
        .json(
            200,
            .object([
                "code": .int(code),
                "message": .string(message),
                "request_id": .string(String(WebhookCrypto.hex(WebhookCrypto.sha256(Array("\(call.receivedAtNanos)".utf8))).prefix(24))),
                "data": data,
            ])
        )
    }

    func throttled(retryAfter: Int, budget: RateBudget) -> ChannelReply {
        .json(
            429,
            .object(["code": .int(36_009_004), "message": .string("Too many requests. Please try again later."), "data": .object([:])]),
            headers: ["Retry-After": String(retryAfter)]
        )
    }

    func handle(_ call: ChannelCall, state: SimulatorState) async throws(ChannelReply) -> ChannelReply {
        guard call.query["app_key"] != nil, call.query["timestamp"] != nil, call.query["sign"] != nil else {
            return envelope(.object([:]), code: 106_001, message: "Invalid request: app_key, timestamp and sign are required", call: call)
        }
        switch operation(for: call) {
        case .push: return try await update(call, state: state)
        case .poll: return await search(call, state: state)
        default: return await orders(call, state: state)
        }
    }

    private func update(_ call: ChannelCall, state: SimulatorState) async throws(ChannelReply) -> ChannelReply {
        let productId = call.segments[3]
        let isPrice = call.segments[4] == "prices"
        let skus = try call.json()["skus"]?.arrayValue ?? []
        guard let first = skus.first else { return envelope(.object([:]), code: 12_052_001, message: "skus is required", call: call) }
        var change = SimulatorState.PushChange(externalId: productId)
        if isPrice {
            let price = first["price"]
            change.price = price?["amount"]?.decimalText.flatMap { Money(decimal: $0, currency: price?["currency"]?.stringValue ?? "USD") }
        } else {
            change.quantity = (first["inventory"]?.arrayValue ?? []).reduce(0) { $0 + ($1["quantity"]?.intValue ?? 0) }
        }
        let results = await state.applyPush(
            connection: call.connection.id,
            changes: [change],
            atomic: true,
            receivedAt: call.receivedAt,
            receivedAtNanos: call.receivedAtNanos
        )
        guard case .applied = results.first else {
            return envelope(.object([:]), code: 12_052_700, message: "The product \(productId) does not exist.", call: call)
        }
        return envelope(.object([:]), call: call)
    }

    private func search(_ call: ChannelCall, state: SimulatorState) async -> ChannelReply {
        let size = PageSlice<SimItem>.limit(call.query["page_size"], default: 10, max: 100)
        let page = PageSlice(await state.items(call.connection.id), offset: PageSlice<SimItem>.offset(ofToken: call.query["page_token"]), limit: size)
        let products: [JSONValue] = page.elements.map { item in
            var sku: [String: JSONValue] = [
                "id": .string(item.references?["skuId"] ?? item.externalId + "1"),
                "seller_sku": .string(item.sku),
                "inventory": .array([.object(["warehouse_id": .string("WH-SIM-1"), "quantity": .int(item.quantity)])]),
            ]
            if let price = item.price {
                sku["price"] = .object([
                    "currency": .string(price.currency),
                    "sale_price": .string(price.decimalString),
                    "tax_exclusive_price": .string(price.decimalString),
                ])
            }
            return .object([
                "id": .string(item.externalId),
                "title": .string(item.sku),
                "status": .string("ACTIVATE"),
                "update_time": .int(Timestamp.parse(item.updatedAt).map(Timestamp.epochSeconds) ?? 0),
                "skus": .array([.object(sku)]),
            ])
        }
        let next = page.nextOffset.map { PageSlice<SimItem>.token($0) } ?? ""
        return envelope(.object(["total_count": .int(page.total), "next_page_token": .string(next), "products": .array(products)]), call: call)
    }

    private func orders(_ call: ChannelCall, state: SimulatorState) async -> ChannelReply {
        var found: [JSONValue] = []
        for id in (call.query["ids"] ?? "").split(separator: ",").map(String.init) {
            guard let order = await state.order(call.connection.id, id) else { continue }
            var items: [JSONValue] = []
            for (index, line) in order.lines.enumerated() {
                // TikTok lists one line item per unit.
                for unit in 0..<max(line.quantity, 0) {
                    items.append(
                        .object([
                            "id": .string("\(order.orderId)-\(index + 1)-\(unit + 1)"),
                            "product_id": .string(line.externalId ?? ""),
                            "sku_id": .string((line.externalId ?? "") + "1"),
                            "seller_sku": .string(line.sku ?? ""),
                        ])
                    )
                }
            }
            found.append(
                .object([
                    "id": .string(order.orderId),
                    "status": .string(order.cancelled ? "CANCELLED" : "AWAITING_SHIPMENT"),
                    "create_time": .int(order.createdAtEpochSeconds),
                    "line_items": .array(items),
                ])
            )
        }
        return envelope(.object(["orders": .array(found)]), call: call)
    }
}
