import ShelfConnectors
import ShelfCore

/// Shopify Admin GraphQL at `POST /admin/api/{version}/graphql.json`: `inventorySetQuantities`,
/// `productVariantsBulkUpdate` and the `inventoryItems` poll query (recognised by name, read from `variables`).
struct ShopifyEndpoints: ChannelEndpoints {
    var etagPolls: Bool { false }

    func operation(for call: ChannelCall) -> ChannelOperation? {
        guard call.method == "POST", call.segments.count == 4, call.segments[0] == "admin", call.segments[1] == "api",
            call.segments[3] == "graphql.json"
        else { return nil }
        let text = String(decoding: call.body, as: UTF8.self)
        return text.contains("inventoryItems(") ? .poll : .push
    }

    private func cost(_ actual: Int) -> JSONValue {
        .object([
            "cost": .object([
                "requestedQueryCost": .int(actual),
                "actualQueryCost": .int(actual),
                "throttleStatus": .object([
                    "maximumAvailable": .number("1000.0"),
                    "currentlyAvailable": .int(1000 - actual),
                    "restoreRate": .number("100.0"),
                ]),
            ])
        ])
    }

    func throttled(retryAfter: Int, budget: RateBudget) -> ChannelReply {
        .json(
            429,
            .object([
                "errors": .string(
                    "Exceeded \(Int(budget.perSecond)) calls per second for api client. Reduce request rates to resume uninterrupted service."
                )
            ]),
            headers: ["Retry-After": "\(retryAfter).0"]
        )
    }

    func handle(_ call: ChannelCall, state: SimulatorState) async throws(ChannelReply) -> ChannelReply {
        let json = try call.json()
        let query = json["query"]?.stringValue ?? ""
        let variables = json["variables"] ?? .object([:])
        if query.contains("inventorySetQuantities") {
            return await setQuantities(call, variables: variables, state: state)
        }
        if query.contains("productVariantsBulkUpdate") {
            return await setPrices(call, variables: variables, state: state)
        }
        if query.contains("inventoryItems(") {
            return await poll(call, variables: variables, state: state)
        }
        return .json(200, .object(["errors": .array([.object(["message": .string("shelf-sim: unsupported operation")])])]))
    }

    private func setQuantities(_ call: ChannelCall, variables: JSONValue, state: SimulatorState) async -> ChannelReply {
        let quantities = variables["input"]?["quantities"]?.arrayValue ?? []
        let changes = quantities.map { entry in
            SimulatorState.PushChange(
                externalId: ShopifyConnectorIds.legacy(entry["inventoryItemId"]?.stringValue ?? ""),
                quantity: entry["quantity"]?.intValue,
                price: nil,
                expectedQuantity: entry["changeFromQuantity"]?.intValue
            )
        }
        let results = await state.applyPush(
            connection: call.connection.id,
            changes: changes,
            atomic: true,
            receivedAt: call.receivedAt,
            receivedAtNanos: call.receivedAtNanos
        )
        var userErrors: [JSONValue] = []
        var deltas: [JSONValue] = []
        for (index, result) in results.enumerated() {
            let field: JSONValue = .array([.string("input"), .string("quantities"), .string(String(index)), .string("inventoryItemId")])
            switch result {
            case .applied(_, let delta):
                deltas.append(.object(["name": .string("available"), "delta": .int(delta)]))
            case .notFound(let id):
                userErrors.append(
                    .object([
                        "code": .string("INVALID_INVENTORY_ITEM"), "field": field,
                        "message": .string("The specified inventory item \(id) could not be found."),
                    ])
                )
            case .stale(let id, let current):
                userErrors.append(
                    .object([
                        "code": .string("CHANGE_FROM_QUANTITY_STALE"),
                        "field": field,
                        "message": .string("The quantity of item \(id) has changed to \(current) since changeFromQuantity was read."),
                    ])
                )
            }
        }
        let group: JSONValue = userErrors.isEmpty ? .object(["reason": .string("correction"), "changes": .array(deltas)]) : .null
        return .json(
            200,
            .object([
                "data": .object(["inventorySetQuantities": .object(["inventoryAdjustmentGroup": group, "userErrors": .array(userErrors)])]),
                "extensions": cost(10),
            ])
        )
    }

    private func setPrices(_ call: ChannelCall, variables: JSONValue, state: SimulatorState) async -> ChannelReply {
        var changes: [SimulatorState.PushChange] = []
        var userErrors: [JSONValue] = []
        for (index, variant) in (variables["variants"]?.arrayValue ?? []).enumerated() {
            let variantId = ShopifyConnectorIds.legacy(variant["id"]?.stringValue ?? "")
            guard let item = await state.item(call.connection.id, reference: "variantId", equals: variantId) else {
                userErrors.append(
                    .object([
                        "code": .string("PRODUCT_VARIANT_DOES_NOT_EXIST"),
                        "field": .array([.string("variants"), .string(String(index)), .string("id")]),
                        "message": .string("Product variant does not exist"),
                    ])
                )
                continue
            }
            let currency = item.price?.currency ?? "USD"
            guard let text = variant["price"]?.decimalText, let price = Money(decimal: text, currency: currency) else {
                userErrors.append(
                    .object([
                        "code": .string("INVALID"), "field": .array([.string("variants"), .string(String(index)), .string("price")]),
                        "message": .string("Price is invalid"),
                    ])
                )
                continue
            }
            changes.append(SimulatorState.PushChange(externalId: item.externalId, quantity: nil, price: price, expectedQuantity: nil))
        }
        var variants: [JSONValue] = []
        if userErrors.isEmpty {
            let results = await state.applyPush(
                connection: call.connection.id,
                changes: changes,
                atomic: true,
                receivedAt: call.receivedAt,
                receivedAtNanos: call.receivedAtNanos
            )
            for result in results {
                if case .applied(let item, _) = result {
                    variants.append(
                        .object([
                            "id": .string("gid://shopify/ProductVariant/\(item.references?["variantId"] ?? "")"),
                            "price": .string(item.price?.decimalString ?? "0.00"),
                        ])
                    )
                }
            }
        }
        return .json(
            200,
            .object([
                "data": .object([
                    "productVariantsBulkUpdate": .object([
                        "productVariants": userErrors.isEmpty ? .array(variants) : .null,
                        "userErrors": .array(userErrors),
                    ])
                ]),
                "extensions": cost(10),
            ])
        )
    }

    private func poll(_ call: ChannelCall, variables: JSONValue, state: SimulatorState) async -> ChannelReply {
        let first = min(max(variables["first"]?.intValue ?? 50, 1), 250)
        let offset = PageSlice<SimItem>.offset(ofToken: variables["after"]?.stringValue)
        let items = await state.items(call.connection.id)
        let page = PageSlice(items, offset: offset, limit: first)
        let currency = items.compactMap(\.price?.currency).first ?? "USD"
        let nodes: [JSONValue] = page.elements.map { item in
            .object([
                "id": .string("gid://shopify/InventoryItem/\(item.externalId)"),
                "sku": .string(item.sku),
                "updatedAt": .string(item.updatedAt),
                "variant": .object([
                    "id": .string("gid://shopify/ProductVariant/\(item.references?["variantId"] ?? item.externalId)"),
                    "price": item.price.map { .string($0.decimalString) } ?? .null,
                ]),
                "inventoryLevel": .object([
                    "quantities": .array([.object(["name": .string("available"), "quantity": .int(item.quantity)])])
                ]),
            ])
        }
        let endCursor = PageSlice<SimItem>.token(page.offset + page.elements.count)
        return .json(
            200,
            .object([
                "data": .object([
                    "shop": .object(["currencyCode": .string(currency)]),
                    "inventoryItems": .object([
                        "pageInfo": .object([
                            "hasNextPage": .bool(page.nextOffset != nil),
                            "endCursor": page.elements.isEmpty ? .null : .string(endCursor),
                        ]),
                        "nodes": .array(nodes),
                    ]),
                ]),
                "extensions": cost(2 + page.elements.count),
            ])
        )
    }
}

/// Shopify gid helpers for the simulator.
enum ShopifyConnectorIds {
    /// `gid://shopify/InventoryItem/123` → `123` (a bare id passes through).
    static func legacy(_ gid: String) -> String {
        let withoutQuery = gid.split(separator: "?", maxSplits: 1).first.map(String.init) ?? gid
        return withoutQuery.split(separator: "/").last.map(String.init) ?? gid
    }
}
