import Foundation
import ShelfCore
import Testing

@testable import ShelfLedger

@Suite("FastJSON")
struct FastJSONTests {
    @Test("the fast event encoding is byte-identical to ShelfJSON's, including escapes", arguments: [
        ShelfEvent(type: .orderConfirmed, sku: "TEE-RED-M", location: "reno", channel: "amazon", qty: 2, orderId: "A\"1\\\n\u{1}é😀",
                   occurredAt: Date(timeIntervalSince1970: 1_795_413_600.123)),
        ShelfEvent(type: .demandSpikeStarted, sku: "S", spikeMultiplier: 2, note: "recent 2/h", occurredAt: Date(timeIntervalSince1970: 0)),
        ShelfEvent(type: .ruleActed, sku: "S", ruleId: "rule_1", note: "tab\there", occurredAt: Date(timeIntervalSince1970: 86_399.999)),
    ])
    func eventMatches(_ event: ShelfEvent) throws {
        let fast = try #require(FastJSON.event(event))
        #expect(fast == (try ShelfJSON.string(event)))
        var decoded = try ShelfJSON.decode(ShelfEvent.self, from: Data(fast.utf8))
        #expect(abs(decoded.occurredAt.timeIntervalSince(event.occurredAt)) < 0.001)
        decoded.occurredAt = event.occurredAt
        #expect(decoded == event)
    }

    @Test func outcomeMatches() throws {
        for outcome in [CommandOutcome(status: .accepted, sequence: 7, oversold: 1, available: 0), CommandOutcome(status: .duplicate, sequence: 1)] {
            #expect(FastJSON.outcome(outcome) == (try ShelfJSON.string(outcome)))
        }
        #expect(FastJSON.event(ShelfEvent(type: .priceChanged, sku: "S", price: Money(amount: 1, currency: "USD"), occurredAt: Date())) == nil)
    }
}
