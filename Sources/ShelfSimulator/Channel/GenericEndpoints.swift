import ShelfConnectors
import ShelfCore

/// Shelf's generic channel: `POST /inventory/batch`, `GET /inventory?cursor=&limit=`.
struct GenericEndpoints: ChannelEndpoints {
    func operation(for call: ChannelCall) -> ChannelOperation? {
        if call.method == "POST", call.segments == ["inventory", "batch"] { return .push }
        if call.method == "GET", call.segments == ["inventory"] { return .poll }
        return nil
    }

    func handle(_ call: ChannelCall, state: SimulatorState) async throws(ChannelReply) -> ChannelReply {
        if call.method == "POST" {
            let items = try call.json()["items"]?.arrayValue ?? []
            let changes = items.map { item in
                SimulatorState.PushChange(
                    externalId: item["externalId"]?.stringValue ?? "",
                    quantity: item["quantity"]?.intValue,
                    price: item["price"].flatMap { price in
                        guard let amount = price["amount"]?.int64Value, let currency = price["currency"]?.stringValue else { return nil }
                        return Money(amount: amount, currency: currency)
                    }
                )
            }
            let results = await state.applyPush(
                connection: call.connection.id,
                changes: changes,
                atomic: false,
                receivedAt: call.receivedAt,
                receivedAtNanos: call.receivedAtNanos
            )
            let answers: [JSONValue] = zip(changes, results).map { change, result in
                if case .applied = result { return .object(["externalId": .string(change.externalId), "status": .string("ok")]) }
                return .object(["externalId": .string(change.externalId), "status": .string("not_found")])
            }
            return .json(200, .object(["results": .array(answers)]))
        }
        let limit = PageSlice<SimItem>.limit(call.query["limit"], default: 100, max: 500)
        let page = PageSlice(await state.items(call.connection.id), offset: PageSlice<SimItem>.offset(ofToken: call.query["cursor"]), limit: limit)
        let items: [JSONValue] = page.elements.map { item in
            .object([
                "externalId": .string(item.externalId),
                "sku": .string(item.sku),
                "quantity": .int(item.quantity),
                "price": item.price.map { .object(["amount": .int($0.amount), "currency": .string($0.currency)]) } ?? .null,
                "updatedAt": .string(item.updatedAt),
            ])
        }
        return .json(200, .object(["items": .array(items), "nextCursor": page.nextOffset.map { .string(PageSlice<SimItem>.token($0)) } ?? .null]))
    }
}
