import ShelfConnectors
import ShelfCore

/// WooCommerce REST v3: `POST /wp-json/wc/v3/products/batch`, `POST …/products/{parent}/variations/batch`,
/// `GET /wp-json/wc/v3/products` (with `X-WP-Total`, `X-WP-TotalPages` and `Link`).
struct WooCommerceEndpoints: ChannelEndpoints {
    func operation(for call: ChannelCall) -> ChannelOperation? {
        let segments = call.segments
        guard segments.count >= 4, Array(segments.prefix(3)) == ["wp-json", "wc", "v3"], segments[3] == "products" else { return nil }
        if call.method == "POST", segments.count == 5, segments[4] == "batch" { return .push }
        if call.method == "POST", segments.count == 7, segments[5] == "variations", segments[6] == "batch" { return .push }
        if call.method == "GET", segments.count == 4 { return .poll }
        return nil
    }

    func throttled(retryAfter: Int, budget: RateBudget) -> ChannelReply {
        .json(
            429,
            .object(["code": .string("rest_too_many_requests"), "message": .string("Too many requests."), "data": .object(["status": .int(429)])]),
            headers: ["Retry-After": String(retryAfter)]
        )
    }

    func handle(_ call: ChannelCall, state: SimulatorState) async throws(ChannelReply) -> ChannelReply {
        call.method == "POST" ? try await batch(call, state: state) : await products(call, state: state)
    }

    private func product(_ item: SimItem) -> JSONValue {
        .object([
            "id": .number(String(ConnectorsIds.number(item.externalId))),
            "sku": .string(item.sku),
            "price": .string(item.price?.decimalString ?? ""),
            "regular_price": .string(item.price?.decimalString ?? ""),
            "manage_stock": .bool(true),
            "stock_quantity": .int(item.quantity),
            "stock_status": .string(item.quantity > 0 ? "instock" : "outofstock"),
            "date_modified_gmt": .string(String(item.updatedAt.prefix(19))),
        ])
    }

    private func batch(_ call: ChannelCall, state: SimulatorState) async throws(ChannelReply) -> ChannelReply {
        let updates = try call.json()["update"]?.arrayValue ?? []
        guard updates.count <= WooCommerceConnector.maxUpdatesPerBatch else {
            return .json(
                413,
                .object(["code": .string("woocommerce_rest_request_entity_too_large"), "message": .string("Unable to accept more than 100 items.")])
            )
        }
        var changes: [SimulatorState.PushChange] = []
        for update in updates {
            let id = update["id"]?.stringValue ?? ""
            let currency = await state.item(call.connection.id, id)?.price?.currency ?? "USD"
            changes.append(
                SimulatorState.PushChange(
                    externalId: id,
                    quantity: update["stock_quantity"]?.intValue,
                    price: update["regular_price"]?.decimalText.flatMap { Money(decimal: $0, currency: currency) }
                )
            )
        }
        let results = await state.applyPush(
            connection: call.connection.id,
            changes: changes,
            atomic: false,
            receivedAt: call.receivedAt,
            receivedAtNanos: call.receivedAtNanos
        )
        let answers: [JSONValue] = zip(updates, results).map { update, result in
            if case .applied(let item, _) = result { return product(item) }
            return .object([
                "id": update["id"] ?? .null,
                "error": .object([
                    "code": .string("woocommerce_rest_product_invalid_id"),
                    "message": .string("Invalid ID."),
                    "data": .object(["status": .int(400)]),
                ]),
            ])
        }
        return .json(200, .object(["update": .array(answers)]))
    }

    private func products(_ call: ChannelCall, state: SimulatorState) async -> ChannelReply {
        let perPage = PageSlice<SimItem>.limit(call.query["per_page"], default: 10, max: 100)
        let pageNumber = max(Int(call.query["page"] ?? "1") ?? 1, 1)
        let all = await state.items(call.connection.id)
        let page = PageSlice(all, offset: (pageNumber - 1) * perPage, limit: perPage)
        let totalPages = max(1, (all.count + perPage - 1) / perPage)
        let link = { (number: Int, rel: String) in "<\(call.baseURL)/wp-json/wc/v3/products?per_page=\(perPage)&page=\(number)>; rel=\"\(rel)\"" }
        var links: [String] = []
        if pageNumber > 1 { links.append(link(pageNumber - 1, "prev")) }
        if pageNumber < totalPages { links.append(link(pageNumber + 1, "next")) }
        var headers = ["X-WP-Total": String(all.count), "X-WP-TotalPages": String(totalPages)]
        if !links.isEmpty { headers["Link"] = links.joined(separator: ", ") }
        return .json(200, .array(page.elements.map(product)), headers: headers)
    }
}
