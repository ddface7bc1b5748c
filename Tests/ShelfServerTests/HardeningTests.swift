import Foundation
import HTTPTypes
import HummingbirdTesting
import PropertyBased
import ShelfAutomation
import ShelfCore
import ShelfLedger
import ShelfServer
import Testing

/// Numbers a caller sends can never stop Shelf: rules are bounded when they are written, actions are checked when they run, and
/// a rule that keeps failing is paused with its reason while the others keep running.
@Suite("Hardening: bounded numbers and failing automations")
struct HardeningTests {
    @Test("a percentage beyond the limit is E_OUT_OF_RANGE at the percentage, and nothing is stored")
    func hugePercentIsRefusedAtParseTime() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let text = "When an order for TEE-RED-M comes in, raise the price of TEE-RED-M by 99999999999999999999%."
            let json = String(decoding: try JSONSerialization.data(withJSONObject: ["text": text]), as: UTF8.self)
            let response = try await client.send(.post, "/v1/rules", token: server.admin, json: json)
            #expect(response.status == .unprocessableContent, "\(response.text)")
            let body = try response.object()
            #expect(value(body, "error.code") as? String == "E_OUT_OF_RANGE", "\(body)")
            let start = try #require(value(body, "error.span.start") as? Int)
            #expect(Array(text.unicodeScalars)[start] == "9")
            let rules = try await client.send(.get, "/v1/rules", token: server.admin).object()
            #expect((rules["rules"] as? [Any])?.isEmpty == true)
        }
    }

    @Test("a price action that would overflow is a failed firing; five in a row pause the rule with the reason; others keep running")
    func overflowingPriceActionPausesTheRule() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            try await server.createSKU(client, "BIG-1", onHand: 100, price: 90_000_000_000_000)
            try await server.createSKU(client, "SMALL-1", onHand: 100, price: 1000)
            let big = try await server.createRule(client, "When an order for BIG-1 comes in, raise the price of BIG-1 by 50%.")
            let small = try await server.createRule(client, "When an order for SMALL-1 comes in, raise the price of SMALL-1 by 10%.")
            var seen = server.lastSequence
            for i in 1...5 {
                try await server.post(client, #"{"type":"order.confirmed","sku":"BIG-1","qty":1}"#)
                try await server.post(client, #"{"type":"order.confirmed","sku":"SMALL-1","qty":1}"#)
                _ = try await server.evaluateRules(after: &seen)
                let notes = try await server.events(of: big).compactMap(\.event.note)
                #expect(notes.filter { $0.hasPrefix("action failed") }.count == i, "\(notes)")
            }
            #expect(server.env.snapshot.seller("demo")?.sku("BIG-1")?.item.price.amount == 90_000_000_000_000)
            // The other rule applied every time: 1000 → 1100 → 1210 → 1331 → 1464 → 1610 (10% each, rounded half away from zero).
            #expect(server.env.snapshot.seller("demo")?.sku("SMALL-1")?.item.price.amount == 1610)
            let stored = try await client.send(.get, "/v1/rules/\(big)", token: server.admin).object()
            #expect(stored["enabled"] as? Bool == false)
            let reason = try #require(stored["pausedReason"] as? String)
            #expect(reason.contains("5 failed firings") && reason.contains("exceed"), "\(reason)")
            #expect(try await client.send(.get, "/v1/rules/\(small)", token: server.admin).object()["enabled"] as? Bool == true)
            // Paused: a sixth order records no firing; enabling it again clears the reason.
            try await server.post(client, #"{"type":"order.confirmed","sku":"BIG-1","qty":1}"#)
            _ = try await server.evaluateRules(after: &seen)
            #expect(try await server.events(of: big).filter { $0.event.note?.hasPrefix("action failed") == true }.count == 5)
            let enabled = try await client.send(.patch, "/v1/rules/\(big)", token: server.admin, json: #"{"enabled":true}"#).object()
            #expect(enabled["enabled"] as? Bool == true && enabled["pausedReason"] == nil)
        }
    }

    @Test("quantities beyond 10⁹ are refused on the events API with the field")
    func eventsAPIQuantityBounds() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            for (json, field) in [
                (#"{"type":"order.confirmed","sku":"TEE-RED-M","qty":1000000001}"#, "qty"),
                (#"{"type":"stock.received","sku":"TEE-RED-M","qty":9223372036854775807}"#, "qty"),
                (#"{"type":"stock.adjusted","sku":"TEE-RED-M","qty":-9223372036854775808}"#, "qty"),
                (#"{"type":"price.changed","sku":"TEE-RED-M","price":{"amount":9223372036854775807,"currency":"USD"}}"#, "price.amount"),
            ] {
                let response = try await client.send(.post, "/v1/events", token: server.ingest, json: json,
                                                     headers: ["Idempotency-Key": UUID().uuidString])
                #expect(response.status == .unprocessableContent, "\(json): \(response.text)")
                #expect(try response.object()["field"] as? String == field, "\(json): \(response.text)")
            }
        }
    }

    @Test("percent adjustments over the whole Int64 range never trap and match exact 128-bit arithmetic")
    func adjustedMatchesWideArithmetic() async {
        let amounts = Gen.oneOf(Gen.int64(in: Int64.min...Int64.max), Gen.int64(in: -10_000...10_000))
        let percents = Gen.oneOf(Gen.double(in: -20_000...20_000), Gen<Double?>.element(of: [.infinity, -.infinity, .nan, 1e20, -100, 0])
            .map { $0 ?? 0 })
        await propertyCheck(count: 2000, input: amounts, percents) { amount, percent in
            let result = RuleEngine.adjusted(amount, percent: percent)
            guard percent.isFinite, abs(percent) <= Limits.maxPercent else {
                #expect(result == nil)
                return
            }
            let basisPoints = Int128((percent * 100).rounded())
            let scaled = Int128(amount) * (10_000 + basisPoints)
            var expected = scaled / 10_000
            let remainder = scaled % 10_000
            if remainder.magnitude * 2 >= 10_000 { expected += scaled < 0 ? -1 : 1 }
            if let result {
                #expect(Int128(result) == expected)
            } else {
                #expect(expected > Int128(Int64.max) || expected < Int128(Int64.min) || scaled > Int128(Int64.max) || scaled < Int128(Int64.min))
            }
        }
    }
}
