import Foundation
import GRDB
import HTTPTypes
import HummingbirdTesting
import ShelfChannels
import ShelfCore
import ShelfLedger
import ShelfServer
import Testing
import ShelfTestSupport

/// One channel failing every push and another hanging each push for five seconds must not hold back the others: each
/// connection has its own worker. End to end: real server over HTTP, shelf-sim as the six channels, real libcurl, SQLite file.
@Suite("Push isolation: a failing channel and a hanging channel delay nobody else", .serialized)
struct PushIsolationTests {
    static let sku = ChannelTests.sku
    static let healthy = ["amazon-us", "ebay-us", "shopify-main", "tiktok-shop"]

    /// The quantity each channel should show for the SKU now (eBay keeps a buffer of one unit in the demo fixtures).
    static func expected(_ h: ChannelHarness, _ connection: String) -> Int {
        ChannelTests.available(h) - (connection == "ebay-us" ? 1 : 0)
    }

    @Test("with Walmart answering 503 to every push and Etsy hanging 5 s on each, the four healthy channels get every change promptly; the failed pushes are retried, dead-lettered and delivered on replay — none lost")
    func failingChannelsAreIsolated() async throws {
        // Two attempts per push, short backoff; the request timeout is above the hang, so Etsy's pushes each take the 5 s.
        let policy = PushPolicy(maxAttempts: 2, baseDelay: 0.05, maxDelay: 0.2, requestTimeout: .seconds(8))
        try await ChannelHarness.run(policy: policy) { h in
            #expect(try await h.sim("POST", "/_sim/faults", json: #"{"connection":"walmart-us","mode":"status","status":503,"operation":"push"}"#).status < 300)
            #expect(try await h.sim("POST", "/_sim/faults", json: #"{"connection":"etsy-shop","mode":"timeout","durationMs":5000,"operation":"push"}"#).status < 300)
            let started = ContinuousClock.now
            for i in 1...5 {
                #expect(try await ChannelTests.orderWebhook(h, connection: "shopify-main", orderId: "ISO-\(i)", qty: 1) == 200)
                // Each change reaches every healthy channel well before a single Etsy push could have come back: a bound of
                // 4 s, generous for loopback, that a pass waiting on the 5-s channel could never meet.
                for connection in Self.healthy {
                    let want = Self.expected(h, connection)
                    try await h.eventually("\(connection) has change \(i)", within: 4) {
                        try await h.pushes(sku: Self.sku, connection: connection).last?["quantity"] as? Int == want
                    }
                }
            }
            #expect(ContinuousClock.now - started < .seconds(20))
            #expect(try await h.pushes(sku: Self.sku, connection: "walmart-us").isEmpty)
            #expect(try await h.pushes(sku: Self.sku, connection: "etsy-shop").isEmpty)

            // Walmart's push was retried, then dead-lettered; the failure is in the audit trail.
            try await h.eventually("walmart dead letter", within: 20) {
                try await DeadLetterQueue(database: h.server.env.ledger.database).list(seller: "demo")
                    .contains { $0.connection == "walmart-us" && $0.sku == Self.sku }
            }
            #expect(h.server.env.propagator.stats.retried >= 1)
            // Etsy's push is accounted for at every moment: in flight or waiting in its worker, in the retry queue, or dead-lettered.
            let etsy = try #require(h.server.env.propagator.gauges(now: Date()).first { $0.connection == "etsy-shop" })
            let etsyStored = try await h.server.env.ledger.database.pool.read { db in
                try Int.fetchOne(db, sql: "SELECT (SELECT COUNT(*) FROM deliveries WHERE connection = 'etsy-shop') + (SELECT COUNT(*) FROM dlq WHERE connection = 'etsy-shop') + (SELECT COUNT(*) FROM outbox WHERE sku = ?)", arguments: [Self.sku]) ?? 0
            }
            #expect(etsy.inFlight + etsy.queueDepth + etsyStored >= 1, "etsy gauges \(etsy), stored \(etsyStored)")

            // The per-connection gauges are in /metrics for every connection.
            let metrics = try await ChannelTests.metrics(h)
            for connection in Self.healthy + ["walmart-us", "etsy-shop"] {
                #expect(metrics.keys.contains { $0.hasPrefix("shelf_push_queue_depth{") && $0.contains("connection=\"\(connection)\"") })
                #expect(metrics.keys.contains { $0.hasPrefix("shelf_push_in_flight{") && $0.contains("connection=\"\(connection)\"") })
                #expect(metrics.keys.contains { $0.hasPrefix("shelf_push_lag_seconds{") && $0.contains("connection=\"\(connection)\"") })
            }

            // The channels recover: wait until Etsy's push has settled (retried to the end, or dead-lettered), replay the dead
            // letters, and every channel ends at the SKU's final value.
            #expect(try await h.sim("DELETE", "/_sim/faults").status < 300)
            try await h.eventually("etsy settled", within: 30) {
                let g = h.server.env.propagator.gauges(now: Date()).first { $0.connection == "etsy-shop" }
                return g?.inFlight == 0 && g?.queueDepth == 0
            }
            let replay = try await h.shelf.send(.post, "/v1/dlq:replay-all", token: h.server.admin)
            #expect(replay.status == .ok)
            for connection in Self.healthy + ["walmart-us", "etsy-shop"] {
                let want = Self.expected(h, connection)
                try await h.eventually("\(connection) final value", within: 20) {
                    try await h.pushes(sku: Self.sku, connection: connection).last?["quantity"] as? Int == want
                }
            }
            try await h.eventually("DLQ empty and outbox drained", within: 20) {
                try await h.server.env.ledger.database.pool.read { db in
                    try Int.fetchOne(db, sql: "SELECT (SELECT COUNT(*) FROM dlq) + (SELECT COUNT(*) FROM outbox) + (SELECT COUNT(*) FROM deliveries)") ?? -1
                } == 0
            }
        }
    }
}
