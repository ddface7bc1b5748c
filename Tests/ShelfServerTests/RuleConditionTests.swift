import Foundation
import HTTPTypes
import HummingbirdTesting
import ShelfCore
import ShelfLedger
import ShelfServer
import Testing

@Suite("Rule conditions measured in the right units and scope")
struct RuleConditionTests {
    @Test("stock at a location is that location's stock, not the SKU's total")
    func stockAtLocation() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let body = #"{"productId":"P-CND1","title":"CND-1","price":{"amount":500,"currency":"USD"},"#
                + #""levels":[{"location":"reno","onHand":3},{"location":"dallas-3pl","onHand":10}],"listings":[{"channel":"amazon"}]}"#
            #expect(try await client.send(.put, "/v1/skus/CND-1", token: server.admin, json: body).status == .ok)
            let id = try await server.createRule(client, "When CND-1 goes out of stock at the Reno warehouse, notify ops.")
            var seen = server.lastSequence
            try await server.post(client, #"{"type":"order.confirmed","sku":"CND-1","qty":4,"location":"dallas-3pl"}"#)
            #expect(try await server.evaluateRules(after: &seen) == 0)
            try await server.post(client, #"{"type":"order.confirmed","sku":"CND-1","qty":3,"location":"reno"}"#)  // 6 left in all
            #expect(try await server.evaluateRules(after: &seen) == 1)
            #expect(try await server.events(of: id).count == 1)
        }
    }

    @Test("a price threshold compares minor units with minor units")
    func priceInMinorUnits() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            try await server.createSKU(client, "CND-2", onHand: 5, price: 1500)
            let id = try await server.createRule(client, "When the price of CND-2 drops below $10, notify ops.")
            var seen = server.lastSequence
            try await server.post(client, #"{"type":"price.changed","sku":"CND-2","price":{"amount":1001,"currency":"USD"}}"#)
            #expect(try await server.evaluateRules(after: &seen) == 0)
            try await server.post(client, #"{"type":"price.changed","sku":"CND-2","price":{"amount":999,"currency":"USD"}}"#)
            #expect(try await server.evaluateRules(after: &seen) == 1)
            #expect(try await server.events(of: id).first?.event.note?.hasPrefix("notify default ops:") == true)
        }
    }

    @Test("variance units are the distance between what the channel reports and what Shelf publishes there")
    func varianceUnits() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            try await server.createSKU(client, "VAR-1", onHand: 20, channels: ["amazon"])
            let id = try await server.createRule(client, "When a variance of more than 5 units is detected for VAR-1, notify ops.")
            var seen = server.lastSequence
            func variance(_ reported: Int) async throws {
                let result = await server.env.ledger.submit(Command(seller: "demo", source: "poll:amazon-us", draft: ShelfEvent(
                    type: .inventoryVarianceDetected, sku: "VAR-1", channel: "amazon", qty: reported, occurredAt: server.clock.now())))
                _ = try result.get()
            }
            try await variance(18)  // 2 off
            #expect(try await server.evaluateRules(after: &seen) == 0)
            try await variance(10)  // 10 off
            #expect(try await server.evaluateRules(after: &seen) == 1)
            #expect(try await server.events(of: id).count == 1)
        }
    }
}
