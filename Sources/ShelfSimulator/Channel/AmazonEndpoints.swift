import ShelfConnectors
import ShelfCore

/// Amazon SP-API: `PATCH /listings/2021-08-01/items/{sellerId}/{sku}` and `GET /fba/inventory/v1/summaries`.
struct AmazonEndpoints: ChannelEndpoints {
    func operation(for call: ChannelCall) -> ChannelOperation? {
        let segments = call.segments
        if call.method == "PATCH", segments.count == 5, segments[0] == "listings", segments[1] == "2021-08-01", segments[2] == "items" {
            return .push
        }
        if call.method == "GET", segments == ["fba", "inventory", "v1", "summaries"] { return .poll }
        return nil
    }

    func throttled(retryAfter: Int, budget: RateBudget) -> ChannelReply {
        .json(
            429,
            .object([
                "errors": .array([
                    .object(["code": .string("QuotaExceeded"), "message": .string("You exceeded your quota for the requested resource.")])
                ])
            ]),
            headers: ["Retry-After": String(retryAfter), "x-amzn-RateLimit-Limit": String(budget.perSecond)]
        )
    }

    func handle(_ call: ChannelCall, state: SimulatorState) async throws(ChannelReply) -> ChannelReply {
        call.method == "PATCH" ? try await patchListing(call, state: state) : await summaries(call, state: state)
    }

    private func patchListing(_ call: ChannelCall, state: SimulatorState) async throws(ChannelReply) -> ChannelReply {
        let sku = call.segments[4]
        let json = try call.json()
        let existing = await state.item(call.connection.id, sku)
        var change = SimulatorState.PushChange(externalId: sku)
        for patch in json["patches"]?.arrayValue ?? [] {
            let value = patch["value"]?.arrayValue?.first
            switch patch["path"]?.stringValue {
            case "/attributes/fulfillment_availability":
                change.quantity = value?["quantity"]?.intValue
            case "/attributes/purchasable_offer":
                let currency = value?["currency"]?.stringValue ?? existing?.price?.currency ?? "USD"
                let amount = value?["our_price"]?.arrayValue?.first?["schedule"]?.arrayValue?.first?["value_with_tax"]
                change.price = amount?.decimalText.flatMap { Money(decimal: $0, currency: currency) }
            default:
                continue
            }
        }
        let results = await state.applyPush(
            connection: call.connection.id,
            changes: [change],
            atomic: true,
            receivedAt: call.receivedAt,
            receivedAtNanos: call.receivedAtNanos
        )
        let submission = JSONValue.string(WebhookCrypto.derivedUUID(Array("\(sku):\(call.receivedAtNanos)".utf8)))
        guard case .applied = results.first else {
            return .json(
                200,
                .object([
                    "sku": .string(sku),
                    "status": .string("INVALID"),
                    "submissionId": submission,
                    "issues": .array([
                        .object([
                            "code": .string("4000001"),
                            "message": .string("The SKU \(sku) does not exist for this seller."),
                            "severity": .string("ERROR"),
                        ])
                    ]),
                ])
            )
        }
        return .json(200, .object(["sku": .string(sku), "status": .string("ACCEPTED"), "submissionId": submission, "issues": .array([])]))
    }

    private func summaries(_ call: ChannelCall, state: SimulatorState) async -> ChannelReply {
        let marketplace = call.query["marketplaceIds"] ?? AmazonConnector.defaultMarketplaceId
        let page = PageSlice(await state.items(call.connection.id), offset: PageSlice<SimItem>.offset(ofToken: call.query["nextToken"]), limit: 50)
        let summaries: [JSONValue] = page.elements.map { item in
            .object([
                "asin": .string("B0" + String(WebhookCrypto.hex(WebhookCrypto.sha256(Array(item.externalId.utf8))).prefix(8)).uppercased()),
                "fnSku": .string("X0" + String(WebhookCrypto.hex(WebhookCrypto.sha256(Array(item.sku.utf8))).prefix(8)).uppercased()),
                "sellerSku": .string(item.externalId),
                "condition": .string("NewItem"),
                "inventoryDetails": .object([
                    "fulfillableQuantity": .int(item.quantity),
                    "inboundWorkingQuantity": .int(0),
                    "inboundShippedQuantity": .int(0),
                    "inboundReceivingQuantity": .int(0),
                ]),
                "lastUpdatedTime": .string(item.updatedAt),
                "productName": .string(item.sku),
                "totalQuantity": .int(item.quantity),
            ])
        }
        var body: [String: JSONValue] = [
            "payload": .object([
                "granularity": .object(["granularityType": .string("Marketplace"), "granularityId": .string(marketplace)]),
                "inventorySummaries": .array(summaries),
            ])
        ]
        if let next = page.nextOffset { body["pagination"] = .object(["nextToken": .string(PageSlice<SimItem>.token(next))]) }
        return .json(200, .object(body))
    }
}
