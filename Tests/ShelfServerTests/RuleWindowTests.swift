import Foundation
import HTTPTypes
import HummingbirdTesting
import ShelfCore
import ShelfLedger
import ShelfServer
import Testing

@Suite("Windowed rule conditions, measured from the ledger at the event's time")
struct RuleWindowTests {
    @Test("more than 3 orders within 15 minutes counts only the orders inside the window ending at each order")
    func orderCountWindow() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            try await server.createSKU(client, "WIN-1", onHand: 100)
            let id = try await server.createRule(client, "When more than 3 orders for WIN-1 come in within 15 minutes, pause it on Amazon.")
            var seen = server.lastSequence
            let order = #"{"type":"order.confirmed","sku":"WIN-1","qty":5,"channel":"ebay"}"#
            for minutes in [0, 5, 5, 6] {  // orders at t+0, t+5, t+10, t+16: never four inside 15 minutes
                server.clock.advance(by: Double(minutes) * 60)
                try await server.post(client, order)
                #expect(try await server.evaluateRules(after: &seen) == 0)
            }
            server.clock.advance(by: 60)  // t+17: t+5, t+10, t+16, t+17 are four within 15 minutes
            try await server.post(client, order)
            #expect(try await server.evaluateRules(after: &seen) == 1)
            let events = try await server.events(of: id)
            #expect(events.map(\.event.type) == [.listingPaused])
            #expect(events.first?.event.channel == "amazon")
        }
    }

    @Test("units sold in the last hour sums the quantities of this SKU's orders inside the hour")
    func unitsSoldWindow() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            try await server.createSKU(client, "WIN-2", onHand: 100)
            try await server.createSKU(client, "WIN-3", onHand: 100)
            let id = try await server.createRule(
                client, "Each time an order for WIN-2 is confirmed, if we've sold more than 10 units of it in the past hour, notify ops.")
            var seen = server.lastSequence
            try await server.post(client, #"{"type":"order.confirmed","sku":"WIN-2","qty":6}"#)
            try await server.post(client, #"{"type":"order.confirmed","sku":"WIN-3","qty":20}"#)  // another SKU does not count
            #expect(try await server.evaluateRules(after: &seen) == 0)
            server.clock.advance(by: 3601)
            try await server.post(client, #"{"type":"order.confirmed","sku":"WIN-2","qty":6}"#)  // the first 6 fell out of the hour
            #expect(try await server.evaluateRules(after: &seen) == 0)
            server.clock.advance(by: 60)
            try await server.post(client, #"{"type":"order.confirmed","sku":"WIN-2","qty":5}"#)  // 11 in the hour
            #expect(try await server.evaluateRules(after: &seen) == 1)
            #expect(try await server.events(of: id).compactMap(\.event.note).first?.hasPrefix("notify default ops:") == true)
        }
    }

    @Test("a price drop of more than 15% compares with the price before the change, in minor units")
    func priceChangePercent() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            try await server.createSKU(client, "WIN-4", onHand: 10, price: 2000)
            let id = try await server.createRule(client, "When the price of WIN-4 drops by more than 15%, notify ops.")
            var seen = server.lastSequence
            try await server.post(client, #"{"type":"price.changed","sku":"WIN-4","price":{"amount":1800,"currency":"USD"}}"#)  // −10 %
            #expect(try await server.evaluateRules(after: &seen) == 0)
            try await server.post(client, #"{"type":"price.changed","sku":"WIN-4","price":{"amount":1500,"currency":"USD"}}"#)  // −16.7 %
            #expect(try await server.evaluateRules(after: &seen) == 1)
            #expect(try await server.events(of: id).count == 1)
        }
    }
}
