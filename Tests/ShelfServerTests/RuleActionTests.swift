import Foundation
import HTTPTypes
import HummingbirdTesting
import ShelfAutomation
import ShelfCore
import ShelfLedger
import ShelfServer
import Testing

@Suite("Rule actions through the ledger, with the rule's provenance")
struct RuleActionTests {
    @Test("set price and adjust price record price.changed events in minor units, percentages rounded half away from zero")
    func priceActions() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            try await server.createSKU(client, "PRC-1", onHand: 10, price: 1999)
            try await server.createSKU(client, "PRC-2", onHand: 10, price: 1999)
            let raise = try await server.createRule(client, "When an order for PRC-1 comes in, raise the price of PRC-1 by 12.5%.")
            let set = try await server.createRule(client, "When PRC-2 drops below 5 units, set the price to $29.99 on Amazon and eBay.")
            let cut = try await server.createRule(client, "When an order for PRC-2 comes in, cut the price by $2.50.")
            var seen = server.lastSequence
            try await server.post(client, #"{"type":"order.confirmed","sku":"PRC-1","qty":1}"#)
            #expect(try await server.evaluateRules(after: &seen) == 1)
            // 1999 × 1.125 = 2248.875 → 2249
            let raised = try await server.events(of: raise)
            #expect(raised.map(\.event.type) == [.priceChanged])
            #expect(raised.first?.event.price == Money(amount: 2249, currency: "USD"))
            #expect(raised.first?.event.channel == nil && raised.first?.source == "rule:\(raise)")
            let prices = try await client.send(.get, "/v1/prices/PRC-1", token: server.read).object()
            #expect(value(prices, "price.amount") as? Int == 2249)
            try await server.post(client, #"{"type":"order.confirmed","sku":"PRC-2","qty":6}"#)  // 4 left: both PRC-2 rules fire
            #expect(try await server.evaluateRules(after: &seen) == 2)
            let channelPrices = try await server.events(of: set).filter { $0.event.type == .priceChanged }
            #expect(Set(channelPrices.compactMap(\.event.channel)) == ["amazon", "ebay"])
            #expect(channelPrices.allSatisfy { $0.event.price == Money(amount: 2999, currency: "USD") })
            let state = try #require(server.env.snapshot.seller("demo")?.sku("PRC-2"))
            #expect(state.listing(on: "amazon")?.price?.amount == 2999)
            #expect(state.item.price.amount == 1999 - 250)
            #expect(try await server.events(of: cut).first?.event.price?.amount == 1749)
        }
    }

    @Test("percent rounding is exact integer arithmetic")
    func percentRounding() {
        #expect(RuleEngine.adjusted(1999, percent: 12.5) == 2249)    // 2248.875
        #expect(RuleEngine.adjusted(1000, percent: -15) == 850)
        #expect(RuleEngine.adjusted(1005, percent: -10) == 905)      // 904.5 → 905 (half away from zero)
        #expect(RuleEngine.adjusted(999, percent: 0.05) == 999)      // 999.4995
        #expect(RuleEngine.adjusted(-1005, percent: -10) == -905)
    }

    @Test("reroute moves the order's committed units to the named location; tag_order records the tag on the order")
    func rerouteAndTag() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let body = #"{"productId":"P-RR","title":"RR","price":{"amount":500,"currency":"USD"},"#
                + #""levels":[{"location":"reno","onHand":10},{"location":"dallas-3pl","onHand":10}],"listings":[{"channel":"amazon"}]}"#
            #expect(try await client.send(.put, "/v1/skus/RR-1", token: server.admin, json: body).status == .ok)
            let reroute = try await server.createRule(client, "When an order for RR-1 comes in, reroute it to Dallas unless it's from Amazon.")
            let tag = try await server.createRule(client, "When an order for RR-1 is placed on Amazon, tag the order amazon-priority.")
            var seen = server.lastSequence
            try await server.post(client, #"{"type":"order.confirmed","sku":"RR-1","qty":3,"channel":"ebay","location":"reno","orderId":"EB-1"}"#)
            try await server.post(client, #"{"type":"order.confirmed","sku":"RR-1","qty":2,"channel":"amazon","location":"reno","orderId":"AZ-1"}"#)
            #expect(try await server.evaluateRules(after: &seen) == 2)
            let moved = try await server.events(of: reroute)
            #expect(moved.map(\.event.type) == [.orderRerouted])
            #expect(moved.first?.event.fromLocation == "reno" && moved.first?.event.location == "dallas-3pl" && moved.first?.event.qty == 3)
            let state = try #require(server.env.snapshot.seller("demo")?.sku("RR-1"))
            #expect(state.level(at: "reno", now: server.clock.now()).committed == 2)
            #expect(state.level(at: "dallas-3pl", now: server.clock.now()).committed == 3)
            let tagged = try await server.events(of: tag)
            #expect(tagged.count == 1)
            #expect(tagged.first?.event.orderId == "AZ-1" && tagged.first?.event.note == "tag_order amazon-priority")
            // The audit trail shows the move with its provenance, over HTTP.
            let audit = try await client.send(.get, "/v1/audit?sku=RR-1", token: server.admin).object()
            let rerouted = (audit["events"] as? [[String: Any]] ?? []).first { value($0, "event.type") as? String == "order.rerouted" }
            #expect(value(rerouted ?? [:], "event.ruleId") as? String == reroute)
            #expect(value(rerouted ?? [:], "event.fromLocation") as? String == "reno")
        }
    }

    @Test("a safety-stock multiplier is relative to the configured base, so firing twice does not compound")
    func multiplierDoesNotCompound() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let body = #"{"productId":"P-MUL","title":"MUL","price":{"amount":500,"currency":"USD"},"#
                + #""levels":[{"location":"reno","onHand":100,"safetyStock":3}],"listings":[{"channel":"amazon"}]}"#
            #expect(try await client.send(.put, "/v1/skus/MUL-1", token: server.admin, json: body).status == .ok)
            let id = try await server.createRule(client, "Whenever an order for MUL-1 comes in, set a safety stock multiplier of 2.5.")
            var seen = server.lastSequence
            for _ in 0..<2 {
                try await server.post(client, #"{"type":"order.confirmed","sku":"MUL-1","qty":1}"#)
                _ = try await server.evaluateRules(after: &seen)
            }
            #expect(server.env.snapshot.seller("demo")?.sku("MUL-1")?.level(at: "reno", now: server.clock.now()).safetyStock == 8)  // ⌈3 × 2.5⌉
            #expect(try await server.events(of: id).filter { $0.event.type == .safetyStockSet }.count == 1)
        }
    }

    @Test("an action with its own item scope acts on those SKUs, and 'everywhere' pauses every listing")
    func actionScopeAndEverywhere() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            try await server.createSKU(client, "SCP-1", onHand: 10, channels: ["amazon", "ebay", "etsy"], tags: ["scoped-test"])
            try await server.createSKU(client, "SCP-2", onHand: 10, channels: ["amazon", "ebay"], tags: ["scoped-test"])
            try await server.createSKU(client, "SCP-3", onHand: 3, channels: ["amazon"])
            let id = try await server.createRule(client, "When SCP-3 sells out, pause every SKU tagged scoped-test everywhere.")
            var seen = server.lastSequence
            try await server.post(client, #"{"type":"order.confirmed","sku":"SCP-3","qty":3}"#)
            #expect(try await server.evaluateRules(after: &seen) == 1)
            let paused = try await server.events(of: id).filter { $0.event.type == .listingPaused }
                .map { "\($0.event.sku ?? "") \($0.event.channel ?? "")" }
            #expect(Set(paused) == ["SCP-1 amazon", "SCP-1 ebay", "SCP-1 etsy", "SCP-2 amazon", "SCP-2 ebay"])
        }
    }
}
