import Foundation
import HTTPTypes
import HummingbirdTesting
import ShelfAutomation
import ShelfChannels
import ShelfCore
import ShelfServer
import Testing

@Suite("Calibrated confidence and one sales velocity")
struct CalibrationTests {
    /// Creates a SKU with `onHand` units at reno, listed on `channels`.
    static func put(_ client: any TestClientProtocol, _ server: TestServer, sku: String, onHand: Int, channels: [String]) async throws {
        let listings = channels.map { #"{"channel":"\#($0)"}"# }.joined(separator: ",")
        let body = #"{"productId":"P-\#(sku)","title":"\#(sku)","price":{"amount":900,"currency":"USD"},"levels":[{"location":"reno","onHand":\#(onHand)}],"listings":[\#(listings)]}"#
        #expect(try await client.send(.put, "/v1/skus/\(sku)", token: server.admin, json: body).status == .ok)
    }

    /// Posts one unit sold on `channel` that happened `lag` seconds before now.
    static func order(_ client: any TestClientProtocol, _ server: TestServer, sku: String, channel: String, lag: TimeInterval, key: String) async throws {
        let occurred = Timestamp.format(server.clock.now().addingTimeInterval(-lag))
        let r = try await client.send(.post, "/v1/events", token: server.ingest,
                                      json: #"{"type":"order.confirmed","sku":"\#(sku)","qty":1,"channel":"\#(channel)","occurredAt":"\#(occurred)"}"#,
                                      headers: ["Idempotency-Key": key])
        #expect(r.status == .accepted)
    }

    @Test("sales in flight on a channel that reports 10 s late lower confidence; the same pace reported at once does not")
    func inFlightSalesLowerConfidence() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            try await Self.put(client, server, sku: "LAG-1", onHand: 60, channels: ["amazon"])
            try await Self.put(client, server, sku: "NOW-1", onHand: 60, channels: ["ebay"])
            for i in 0..<30 {
                try await Self.order(client, server, sku: "LAG-1", channel: "amazon", lag: 10, key: "lag-\(i)")
                try await Self.order(client, server, sku: "NOW-1", channel: "ebay", lag: 0, key: "now-\(i)")
                server.clock.advance(by: 1)
            }
            // 30 left on each, asking for 26: a slack of 4 units against ~10 sold on amazon in the last 10 s, not yet reported.
            let lagging = try await client.send(.get, "/v1/offers/LAG-1?qty=26", token: server.read).object()
            let prompt = try await client.send(.get, "/v1/offers/NOW-1?qty=26", token: server.read).object()
            #expect(value(lagging, "stock.available") as? Int == 30)
            #expect(try #require(value(lagging, "confidence") as? Double) < 0.3)
            #expect(try #require(value(prompt, "confidence") as? Double) > 0.99)
            let amazon = (value(lagging, "freshness.channels") as? [[String: Any]] ?? []).first { $0["channel"] as? String == "amazon" }
            #expect(amazon?["reportingDelayMs"] as? Int == 10_000)
            #expect(try #require(amazon?["salesPerHour"] as? Double) > 1800)
        }
    }

    @Test("rates and reporting delays are rebuilt from the ledger when the server starts again")
    func velocitySurvivesRestart() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("shelf-restart-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("shelf.sqlite").path
        let clock = ManualWallClock(TestServer.monday)
        let first = try await TestServer.make(clock: clock, database: path)
        try await first.run { client in
            try await Self.put(client, first, sku: "RE-1", onHand: 100, channels: ["amazon"])
            for i in 0..<20 {
                try await Self.order(client, first, sku: "RE-1", channel: "amazon", lag: 4, key: "re-\(i)")
                clock.advance(by: 2)
            }
        }
        let before = first.env.velocity.rates(seller: "demo", sku: "RE-1", now: clock.now())
        let second = try await TestServer.make(clock: clock, database: path)
        let after = second.env.velocity.rates(seller: "demo", sku: "RE-1", now: clock.now())
        let rate = try #require(before.observed["amazon"])
        #expect(rate > 15)
        #expect(abs((after.observed["amazon"] ?? 0) - rate) < 0.01)
        #expect(abs(after.rate("amazon").mean - before.rate("amazon").mean) < 0.01)
        #expect(abs((after.delays["amazon"]?.mean ?? 0) - 4) < 0.01)
    }

    @Test("a burst on one SKU raises its velocity for the spike monitor, the offer and the propagator's push order alike")
    func oneVelocityForAllReaders() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            try await Self.put(client, server, sku: "ABC-CALM", onHand: 100, channels: ["amazon"])
            try await Self.put(client, server, sku: "ZED-HOT", onHand: 100, channels: ["amazon"])
            let env = server.env
            func readers() async throws -> (recentUnits: Int, salesPerHour: Double, first: String?) {
                let now = server.clock.now()
                let offer = try await client.send(.get, "/v1/offers/ZED-HOT", token: server.read).object()
                let amazon = (value(offer, "freshness.channels") as? [[String: Any]] ?? []).first { $0["channel"] as? String == "amazon" }
                return (await env.spikes.rates(seller: "demo", sku: "ZED-HOT", now: now).recentUnits, amazon?["salesPerHour"] as? Double ?? -1,
                        env.propagator.pushOrder(seller: "demo", skus: ["ABC-CALM", "ZED-HOT"], now: now).first)
            }
            try await Self.order(client, server, sku: "ABC-CALM", channel: "amazon", lag: 0, key: "calm-1")
            server.clock.advance(by: 5)
            let quiet = try await readers()
            #expect(quiet.recentUnits == 0)
            #expect(quiet.salesPerHour == 0)
            #expect(quiet.first == "ABC-CALM")
            for i in 0..<10 {
                try await Self.order(client, server, sku: "ZED-HOT", channel: "amazon", lag: 0, key: "hot-\(i)")
                server.clock.advance(by: 1)
            }
            let burst = try await readers()
            #expect(burst.recentUnits == 10)
            #expect(burst.salesPerHour > 1000)
            #expect(burst.first == "ZED-HOT")
        }
    }
}
