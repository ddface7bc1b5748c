import Foundation
import HTTPTypes
import HummingbirdTesting
import ShelfAutomation
import ShelfCore
import ShelfLedger
import ShelfServer
import Testing

@Suite("Demand spikes over live HTTP")
struct SpikeTests {
    @Test("a burst at 10× baseline multiplies safety stock, and the multiplier is lifted when the pace falls back")
    func spikeStartsAndEnds() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let body = #"{"productId":"P-SPIKE","title":"Spike","price":{"amount":500,"currency":"USD"},"levels":[{"location":"reno","onHand":200,"safetyStock":5}],"listings":[{"channel":"amazon"}]}"#
            #expect(try await client.send(.put, "/v1/skus/SPIKE-1", token: server.admin, json: body).status == .ok)
            var n = 0
            func order() async throws {
                n += 1
                let r = try await client.send(.post, "/v1/events", token: server.ingest,
                                              json: #"{"type":"order.confirmed","sku":"SPIKE-1","qty":1,"channel":"amazon"}"#,
                                              headers: ["Idempotency-Key": "spike-\(n)"])
                #expect(r.status == .accepted)
            }
            // Baseline: one order every 5 minutes for an hour (12/h).
            for _ in 0..<12 {
                try await order()
                #expect(await server.env.spikes.check(seller: "demo", sku: "SPIKE-1") == nil)
                server.clock.advance(by: 300)
            }
            // Burst: 10 orders in a minute (120/h recent pace ≈ 10× baseline).
            var started = false
            for _ in 0..<10 {
                try await order()
                if await server.env.spikes.check(seller: "demo", sku: "SPIKE-1") == .demandSpikeStarted { started = true }
                server.clock.advance(by: 6)
            }
            #expect(started)
            let during = try await client.send(.get, "/v1/stock/SPIKE-1", token: server.read).object()
            #expect(during["spikeMultiplier"] as? Int == 2)
            #expect(value(during, "total.safetyStock") as? Int == 10)
            #expect(value(during, "total.available") as? Int == 200 - 22 - 10)
            let offer = try await client.send(.get, "/v1/offers/SPIKE-1", token: server.read).object()
            #expect((offer["reasons"] as? [String])?.contains("high_velocity") == true)
            // Twenty quiet minutes: the pace is back under half the threshold.
            server.clock.advance(by: 1200)
            #expect(await server.env.spikes.check(seller: "demo", sku: "SPIKE-1") == .demandSpikeEnded)
            let after = try await client.send(.get, "/v1/stock/SPIKE-1", token: server.read).object()
            #expect(after["spikeMultiplier"] as? Int == 1)
            #expect(value(after, "total.available") as? Int == 200 - 22 - 5)
            let audit = try await client.send(.get, "/v1/audit?sku=SPIKE-1&limit=1000", token: server.admin).object()
            let types = (audit["events"] as? [[String: Any]] ?? []).compactMap { value($0, "event.type") as? String }
            #expect(types.filter { $0 == "demand.spike_started" }.count == 1)
            #expect(types.last == "demand.spike_ended")
        }
    }

    @Test("spike thresholds are set per seller and validated")
    func perSellerThresholds() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let body = #"{"productId":"P-SP2","title":"Spike two","price":{"amount":500,"currency":"USD"},"levels":[{"location":"reno","onHand":100}]}"#
            #expect(try await client.send(.put, "/v1/skus/SPIKE-2", token: server.admin, json: body).status == .ok)
            let bad = try await client.send(.put, "/v1/settings/spikes", token: server.admin, json: #"{"factor":0.5}"#)
            #expect(value(try bad.object(), "field") as? String == "factor")
            let set = try await client.send(.put, "/v1/settings/spikes", token: server.admin, json: #"{"minimumUnits":2,"multiplier":3}"#)
            #expect(set.status == .ok)
            #expect(value(try await client.send(.get, "/v1/settings/spikes", token: server.admin).object(), "multiplier") as? Int == 3)
            // Another seller keeps the defaults.
            #expect(value(try await client.send(.get, "/v1/settings/spikes", token: server.otherAdmin).object(), "multiplier") as? Int == 2)
            // Two quick orders are a spike under this seller's minimum of 2 units (the default needs 5).
            for i in 0..<2 {
                _ = try await client.send(.post, "/v1/events", token: server.ingest, json: #"{"type":"order.confirmed","sku":"SPIKE-2","qty":1}"#,
                                          headers: ["Idempotency-Key": "sp2-\(i)"])
            }
            #expect(await server.env.spikes.check(seller: "demo", sku: "SPIKE-2") == .demandSpikeStarted)
            let stock = try await client.send(.get, "/v1/stock/SPIKE-2", token: server.read).object()
            #expect(stock["spikeMultiplier"] as? Int == 3)
        }
    }
}
