import Foundation
import GRDB
import HTTPTypes
import HummingbirdTesting
import NIOCore
import ShelfChannels
import ShelfConnectors
import ShelfCore
import ShelfLedger
import ShelfServer
import Testing
import ShelfTestSupport

@Suite("Channels: webhooks, propagation, retries and DLQ with shelf-sim and libcurl", .serialized)
struct ChannelTests {
    static let sku = "TEE-RED-M"

    static func orderWebhook(_ h: ChannelHarness, connection: String, orderId: String, qty: Int, duplicates: Int = 0,
                             sku: String = ChannelTests.sku) async throws -> Int {
        let listing = try #require(h.server.env.snapshot.seller("demo")?.sku(sku)?.listing(on: String(connection.split(separator: "-")[0])))
        let json = #"{"topic":"order","orderId":"\#(orderId)","duplicates":\#(duplicates),"lines":[{"sku":"\#(sku)","externalId":"\#(listing.externalId)","quantity":\#(qty)}]}"#
        return try await h.sim("POST", "/_sim/connections/\(connection)/webhooks", json: json).status
    }

    static func available(_ h: ChannelHarness) -> Int {
        h.server.env.snapshot.seller("demo")!.sku(sku)!.available(now: Date())
    }

    @Test("an order webhook on one channel lowers stock and every other channel receives the new quantity")
    func webhookPropagates() async throws {
        try await ChannelHarness.run { h in
            let before = Self.available(h)
            #expect(try await Self.orderWebhook(h, connection: "shopify-main", orderId: "1001", qty: 2) == 200)
            #expect(Self.available(h) == before - 2)
            for connection in ["amazon-us", "ebay-us", "walmart-us", "etsy-shop", "tiktok-shop"] {
                let buffer = connection == "ebay-us" ? 1 : 0
                try await h.eventually("\(connection) push of \(before - 2 - buffer)") {
                    let last = try await h.pushes(sku: Self.sku, connection: connection).last
                    return last?["quantity"] as? Int == before - 2 - buffer
                }
            }
            let events = try await h.server.env.ledger.events(seller: "demo", sku: Self.sku).filter { $0.source == "webhook:shopify-main" }
            #expect(events.map(\.event.type) == [.orderConfirmed])
        }
    }

    @Test("a bad signature is refused with 401 and records nothing; a duplicate delivery has one effect")
    func signaturesAndDuplicates() async throws {
        try await ChannelHarness.run(propagate: false) { h in
            let before = h.server.env.snapshot.seller("demo")!.lastSequence
            let forged = try await h.shelf.send(.post, "/v1/webhooks/shopify-main", json: #"{"id":1}"#,
                                                headers: ["X-Shopify-Hmac-Sha256": "AAAA", "X-Shopify-Topic": "orders/create"])
            #expect(forged.status == .unauthorized)
            #expect(h.server.env.snapshot.seller("demo")!.lastSequence == before)
            let available = Self.available(h)
            #expect(try await Self.orderWebhook(h, connection: "amazon-us", orderId: "AMZ-1", qty: 1, duplicates: 3) == 200)
            #expect(Self.available(h) == available - 1)
            #expect(try await Self.orderWebhook(h, connection: "amazon-us", orderId: "AMZ-1", qty: 1) == 200)
            #expect(Self.available(h) == available - 1)
        }
    }

    @Test("a Shopify delivery with every header present but an HMAC from the wrong secret is refused as a signature failure; the same delivery signed right is applied")
    func wrongSecretIsComparedAndRefused() async throws {
        try await ChannelHarness.run(propagate: false) { h in
            let shopify = ShopifyConnector()
            let listing = try #require(h.server.env.snapshot.seller("demo")?.sku(Self.sku)?.listing(on: "shopify"))
            let draft = WebhookDraft(topic: .order, eventId: "sig-1", orderId: "7001",
                                     lines: [.init(sku: Self.sku, externalId: listing.externalId, quantity: 2)], occurredAt: Date(),
                                     accountId: "demo.myshopify.com")
            let body = try shopify.webhookBody(draft)
            func deliver(secret: String) async throws -> TestResponse {
                let headers = shopify.signWebhook(body: body, secret: secret, eventId: "sig-1", topic: .order, now: Date())
                return try await h.shelf.send(.post, "/v1/webhooks/shopify-main", json: String(decoding: body, as: UTF8.self), headers: headers)
            }
            let before = h.server.env.snapshot.seller("demo")!.lastSequence
            let available = Self.available(h)
            let forged = try await deliver(secret: "not-the-connection-secret")
            #expect(forged.status == .unauthorized)
            #expect(String(buffer: forged.body).contains("signature-invalid"))
            #expect(h.server.env.snapshot.seller("demo")!.lastSequence == before)
            #expect(Self.available(h) == available)
            // The same bytes and headers, signed with the connection's secret, are accepted: only the HMAC differed.
            let genuine = try await deliver(secret: "demo-secret-shopify-main")
            #expect(genuine.status == .ok)
            #expect(Self.available(h) == available - 2)
        }
    }

    @Test("a change committed while a push is in flight is pushed after it (its outbox row is not deleted with the older one), and a burst coalesces")
    func changeDuringPushIsNotLost() async throws {
        try await ChannelHarness.run { h in
            let start = Self.available(h)
            // Amazon answers its next push slowly: the first push stays in flight for 800 ms.
            #expect(try await h.sim("POST", "/_sim/faults", json: #"{"connection":"amazon-us","mode":"slow_body","durationMs":800,"count":1}"#).status < 300)
            #expect(try await Self.orderWebhook(h, connection: "shopify-main", orderId: "INFLIGHT-1", qty: 1) == 200)
            try await h.eventually("amazon receives the first value") {
                try await h.pushes(sku: Self.sku, connection: "amazon-us").last?["quantity"] as? Int == start - 1
            }
            // While that response trickles in, five more orders land.
            for i in 2...6 { #expect(try await Self.orderWebhook(h, connection: "shopify-main", orderId: "INFLIGHT-\(i)", qty: 1) == 200) }
            #expect(Self.available(h) == start - 6)
            try await h.eventually("amazon receives the final value") {
                try await h.pushes(sku: Self.sku, connection: "amazon-us").last?["quantity"] as? Int == start - 6
            }
            // Six changes, coalesced: the first push, then the latest value (at most one intermediate if a pass ran between orders).
            let amazon = try await h.pushes(sku: Self.sku, connection: "amazon-us").compactMap { $0["quantity"] as? Int }
            #expect(amazon.count >= 2 && amazon.count <= 3, "amazon pushes: \(amazon)")
            #expect(amazon.first == start - 1 && amazon.last == start - 6)
            try await h.eventually("the outbox drains once every connection has the final value") {
                try await h.server.env.ledger.database.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox") } == 0
            }
        }
    }

    @Test("channels whose price is a request of its own get it once: a quantity change sends the quantity alone, a price change sends the price again")
    func unchangedPriceIsNotPushedAgain() async throws {
        try await ChannelHarness.run { h in
            // Price-only pushes the simulator recorded for the SKU on a connection (the harness's `pushes` leaves them out).
            func prices(_ connection: String) async throws -> [Int] {
                let all = try await h.sim("GET", "/_sim/pushes?sku=\(Self.sku)&connection=\(connection)").body["pushes"] as? [[String: Any]] ?? []
                return all.filter { !($0["quantity"] is Int) }.compactMap { ($0["price"] as? [String: Any])?["amount"] as? Int }
            }
            let separate = ["shopify-main", "walmart-us", "tiktok-shop"]
            func settled() async throws {
                try await h.eventually("every worker idle") {
                    h.server.env.propagator.gauges(now: Date()).allSatisfy { $0.inFlight == 0 && $0.queueDepth == 0 }
                }
            }
            let start = Self.available(h)
            #expect(try await Self.orderWebhook(h, connection: "amazon-us", orderId: "PRICE-1", qty: 1) == 200)
            for connection in separate {
                try await h.eventually("\(connection) has the first change") {
                    try await h.pushes(sku: Self.sku, connection: connection).last?["quantity"] as? Int == start - 1
                }
            }
            try await settled()
            var before: [String: [Int]] = [:]
            for connection in separate {
                before[connection] = try await prices(connection)
                // The worker's first push of the SKU carries its price.
                #expect(before[connection]?.isEmpty == false, "\(connection) never received the price")
            }
            #expect(try await Self.orderWebhook(h, connection: "amazon-us", orderId: "PRICE-2", qty: 1) == 200)
            for connection in separate {
                try await h.eventually("\(connection) has the second change") {
                    try await h.pushes(sku: Self.sku, connection: connection).last?["quantity"] as? Int == start - 2
                }
            }
            try await settled()
            for connection in separate {
                #expect(try await prices(connection) == before[connection], "\(connection) was sent its unchanged price again")
            }
            // Shopify shows the item's own price (the others have per-channel prices): changing it is pushed again.
            let changed = await h.server.env.ledger.submit(Command(seller: "demo", source: "test", draft: ShelfEvent(
                type: .priceChanged, sku: Self.sku, price: Money(amount: 2345, currency: "USD"), occurredAt: Date())))
            if case .failure(let error) = changed { Issue.record("price change refused: \(error)") }
            try await h.eventually("shopify receives the new price") { try await prices("shopify-main").last == 2345 }
        }
    }

    @Test("an acknowledged price is sent again with the first push after the refresh interval (a price edited on the channel is repaired)")
    func acknowledgedPriceIsRefreshed() async throws {
        let policy = PushPolicy(maxAttempts: 4, baseDelay: 0.05, maxDelay: 0.3, requestTimeout: .seconds(2), priceRefresh: 0.5)
        try await ChannelHarness.run(policy: policy) { h in
            func prices(_ connection: String) async throws -> Int {
                let all = try await h.sim("GET", "/_sim/pushes?sku=\(Self.sku)&connection=\(connection)").body["pushes"] as? [[String: Any]] ?? []
                return all.filter { !($0["quantity"] is Int) && $0["price"] != nil }.count
            }
            let start = Self.available(h)
            #expect(try await Self.orderWebhook(h, connection: "amazon-us", orderId: "REFRESH-1", qty: 1) == 200)
            try await h.eventually("shopify has the first change") {
                try await h.pushes(sku: Self.sku, connection: "shopify-main").last?["quantity"] as? Int == start - 1
            }
            try await h.eventually("every worker idle") {
                h.server.env.propagator.gauges(now: Date()).allSatisfy { $0.inFlight == 0 && $0.queueDepth == 0 }
            }
            let first = try await prices("shopify-main")
            #expect(first >= 1, "the first push carries the price")
            // Past the refresh interval, the next quantity change carries the unchanged price again.
            try await Task.sleep(for: .milliseconds(700))
            #expect(try await Self.orderWebhook(h, connection: "amazon-us", orderId: "REFRESH-2", qty: 1) == 200)
            try await h.eventually("shopify is sent its price again") { try await prices("shopify-main") > first }
        }
    }

    @Test("a channel that takes many SKUs per request gets the changes made while its push is in flight together, in one request")
    func batchingChannelSendsChangesTogether() async throws {
        try await ChannelHarness.run { h in
            func ebay() -> WorkerGauges? { h.server.env.propagator.gauges(now: Date()).first { $0.connection == "ebay-us" } }
            try await h.eventually("every worker idle") {
                h.server.env.propagator.gauges(now: Date()).allSatisfy { $0.inFlight == 0 && $0.queueDepth == 0 }
            }
            let before = try #require(ebay()).stats.requests
            // eBay answers its next push slowly; five other SKUs change while that push is in flight.
            #expect(try await h.sim("POST", "/_sim/faults", json: #"{"connection":"ebay-us","mode":"slow_body","durationMs":1500,"count":1,"operation":"push"}"#).status < 300)
            #expect(try await Self.orderWebhook(h, connection: "amazon-us", orderId: "BATCH-0", qty: 1) == 200)
            try await h.eventually("the slow eBay push is in flight") { ebay()?.inFlight == 1 }
            let others = ["TEE-RED-S", "TEE-RED-L", "TEE-RED-XL", "HOOD-RED-S", "HOOD-RED-M"]
            for (i, sku) in others.enumerated() {
                #expect(try await Self.orderWebhook(h, connection: "amazon-us", orderId: "BATCH-\(i + 1)", qty: 1, sku: sku) == 200)
            }
            #expect(ebay()?.inFlight == 1, "the slow push ended before the five changes were in; the test proves nothing")
            for sku in [Self.sku] + others {
                let state = try #require(h.server.env.snapshot.seller("demo")?.sku(sku))
                let want = try #require(state.listing(on: "ebay")).publishedQuantity(available: state.available(now: Date()))
                try await h.eventually("eBay shows \(sku) at \(want)") {
                    try await h.pushes(sku: sku, connection: "ebay-us").last?["quantity"] as? Int == want
                }
            }
            try await h.eventually("eBay idle") { ebay().map { $0.inFlight == 0 && $0.queueDepth == 0 } ?? false }
            // The slow request, then one bulk update with the five changes (not one request each).
            #expect(try #require(ebay()).stats.requests - before == 2)
        }
    }

    @Test("a channel that is down gets retries, then the DLQ; a replay delivers the current value")
    func outageRetriesDLQReplay() async throws {
        try await ChannelHarness.run { h in
            #expect(try await h.sim("POST", "/_sim/faults", json: #"{"connection":"walmart-us","mode":"status","status":503,"count":100}"#).status < 300)
            let before = Self.available(h)
            #expect(try await Self.orderWebhook(h, connection: "amazon-us", orderId: "AMZ-2", qty: 3) == 200)
            try await h.eventually("dead letter") {
                let list = try await h.shelf.send(.get, "/v1/dlq", token: h.server.admin).object()["deadLetters"] as? [[String: Any]] ?? []
                return list.contains { $0["connection"] as? String == "walmart-us" && $0["sku"] as? String == Self.sku }
            }
            #expect(h.server.env.propagator.stats.retried >= 3)
            #expect(try await h.pushes(sku: Self.sku, connection: "walmart-us").isEmpty)
            #expect(try await h.sim("DELETE", "/_sim/faults").status < 300)
            let replay = try await h.shelf.send(.post, "/v1/dlq:replay-all", token: h.server.admin)
            #expect(value(try replay.object(), "replayed") as? Int ?? 0 >= 1)
            try await h.eventually("walmart push after replay") {
                try await h.pushes(sku: Self.sku, connection: "walmart-us").last?["quantity"] as? Int == before - 3
            }
            let after = try await h.shelf.send(.get, "/v1/dlq", token: h.server.admin).object()["deadLetters"] as? [Any]
            #expect(after?.isEmpty == true)
        }
    }

    @Test("429 with Retry-After is honoured before the next push to that channel")
    func rateLimitHonoured() async throws {
        try await ChannelHarness.run { h in
            #expect(try await h.sim("POST", "/_sim/faults", json: #"{"connection":"etsy-shop","mode":"rate_limit","retryAfterSeconds":1,"count":1}"#).status < 300)
            let started = ContinuousClock.now
            #expect(try await Self.orderWebhook(h, connection: "amazon-us", orderId: "AMZ-3", qty: 1) == 200)
            try await h.eventually("etsy push after Retry-After") { !(try await h.pushes(sku: Self.sku, connection: "etsy-shop").isEmpty) }
            #expect(ContinuousClock.now - started >= .milliseconds(900))
            #expect(h.server.env.propagator.stats.deadLettered == 0)
        }
    }

    @Test("a burst of 500 orders on one SKU becomes far fewer pushes, and the last pushed value is right")
    func burstCoalesces() async throws {
        try await ChannelHarness.run { h in
            let body = #"{"productId":"P-BURST","title":"Burst","price":{"amount":500,"currency":"USD"},"levels":[{"location":"reno","onHand":1000}],"listings":[{"channel":"amazon"}]}"#
            #expect(try await h.shelf.send(.put, "/v1/skus/BURST-1", token: h.server.admin, json: body).status == .ok)
            #expect(try await h.sim("PUT", "/_sim/connections/amazon-us/items/BURST-1", json: #"{"sku":"BURST-1","quantity":1000}"#).status < 300)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<500 {
                    group.addTask {
                        let r = try await h.shelf.send(.post, "/v1/events", token: h.server.ingest,
                                                       json: #"{"type":"order.confirmed","sku":"BURST-1","qty":1,"channel":"shopify"}"#,
                                                       headers: ["Idempotency-Key": "burst-\(i)"])
                        let status = r.status
                        #expect(status == .accepted)
                    }
                }
                try await group.waitForAll()
            }
            try await h.eventually("final push") {
                try await h.pushes(sku: "BURST-1", connection: "amazon-us").last?["quantity"] as? Int == 500
            }
            let pushes = try await h.pushes(sku: "BURST-1", connection: "amazon-us").count
            #expect(pushes < 100, "\(pushes) pushes for 500 orders")
        }
    }

    @Test("a count changed behind Shelf's back is detected by reconciliation, recorded, and healed by a push")
    func reconciliationHeals() async throws {
        try await ChannelHarness.run { h in
            let expected = Self.available(h)
            #expect(try await h.sim("PUT", "/_sim/connections/amazon-us/items/\(Self.sku)", json: #"{"sku":"\#(Self.sku)","quantity":3}"#).status < 300)
            let run = try await h.shelf.send(.post, "/v1/reconciliation:run", token: h.server.admin).object()
            let variances = try #require(run["variances"] as? [[String: Any]])
            #expect(variances.contains { $0["sku"] as? String == Self.sku && $0["connection"] as? String == "amazon-us" && $0["reported"] as? Int == 3 })
            #expect(variances.count == 1)
            #expect(run["skusChecked"] as? Int ?? 0 >= 1000)
            try await h.eventually("healing push") {
                try await h.pushes(sku: Self.sku, connection: "amazon-us").last?["quantity"] as? Int == expected
            }
            let events = try await h.server.env.ledger.events(seller: "demo", sku: Self.sku).map(\.event.type)
            #expect(events.contains(.inventoryVarianceDetected))
            let latest = try await h.shelf.send(.get, "/v1/reconciliation", token: h.server.admin).object()
            #expect(latest["variancesFound"] as? Int == 1)
            let again = try await h.shelf.send(.post, "/v1/reconciliation:run", token: h.server.admin).object()
            #expect(again["variancesFound"] as? Int == 0)
        }
    }

    @Test("the reported oversell end to end: a channel order for more than any one location holds leaves 0 everywhere and every listing connection is pushed 0")
    func splitOrderIsPushedAsZeroEverywhere() async throws {
        try await ChannelHarness.run { h in
            let state = try #require(h.server.env.snapshot.seller("demo")?.sku(Self.sku))
            let listed = Set(state.listings.filter(\.listed).map(\.channel))
            let connections = try await h.server.env.ledger.connections(seller: "demo").filter { $0.pushEnabled && listed.contains($0.channel) }
            #expect(connections.count >= 2)
            let locations = state.stock.map(\.location)
            #expect(locations.count >= 2)
            #expect(locations.allSatisfy { state.available(at: $0, now: Date()) < Self.available(h) })
            let qty = Self.available(h) + 5
            let order = #"{"type":"order.confirmed","sku":"\#(Self.sku)","qty":\#(qty),"channel":"amazon","orderId":"split-e2e"}"#
            let reply = try await h.shelf.send(.post, "/v1/events", token: h.server.ingest, json: order, headers: ["Idempotency-Key": "split-e2e"])
            #expect(reply.status == .accepted)
            #expect(try reply.object()["oversold"] as? Int == 5)
            let after = try #require(h.server.env.snapshot.seller("demo")?.sku(Self.sku))
            #expect(locations.allSatisfy { after.available(at: $0, now: Date()) == 0 })
            for connection in connections {
                try await h.eventually("\(connection.id) pushed 0") {
                    try await h.pushes(sku: Self.sku, connection: connection.id).last?["quantity"] as? Int == 0
                }
            }
        }
    }

    @Test("a polled count outside Limits is kept as input.rejected with the reason, never recorded as a variance, and healed by a push")
    func polledCountOutsideLimitsIsRejected() async throws {
        try await ChannelHarness.run { h in
            let expected = Self.available(h)
            let item = #"{"sku":"\#(Self.sku)","quantity":2000000000}"#
            #expect(try await h.sim("PUT", "/_sim/connections/amazon-us/items/\(Self.sku)", json: item).status < 300)
            let run = try await h.shelf.send(.post, "/v1/reconciliation:run", token: h.server.admin).object()
            let variances = try #require(run["variances"] as? [[String: Any]])
            #expect(variances.contains { $0["sku"] as? String == Self.sku && $0["reported"] as? Int == 2_000_000_000 })
            let events = try await h.server.env.ledger.events(seller: "demo", sku: Self.sku)
            let rejected = events.filter { $0.event.type == .inputRejected }
            #expect(rejected.count == 1)
            #expect(rejected.first?.source == "poll:amazon-us")
            #expect(rejected.first?.event.note?.contains("polled count 2000000000 is outside") == true)
            #expect(!events.contains { $0.event.type == .inventoryVarianceDetected })
            #expect(Self.available(h) == expected)
            try await h.eventually("healing push") {
                try await h.pushes(sku: Self.sku, connection: "amazon-us").last?["quantity"] as? Int == expected
            }
        }
    }

    /// Parses Prometheus text: every sample line is `name{labels} value`; returns samples by their full name with labels.
    static func metrics(_ h: ChannelHarness) async throws -> [String: Double] {
        let text = try await h.shelf.send(.get, "/metrics").text
        var out: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            #expect(parts.count == 2, "not a sample line: \(line)")
            guard parts.count == 2, let value = Double(parts[1]) else { continue }
            out[String(parts[0])] = value
        }
        return out
    }

    @Test("/metrics parses as Prometheus text and the sync-lag histogram moves when a channel is slowed")
    func metricsMove() async throws {
        try await ChannelHarness.run { h in
            let before = try await Self.metrics(h)
            #expect(before.keys.contains { $0.hasPrefix("shelf_outbox_depth") })
            #expect(before.keys.contains { $0.hasPrefix("shelf_snapshot_skus") })
            #expect(try await h.sim("POST", "/_sim/faults", json: #"{"connection":"etsy-shop","mode":"slow_body","durationMs":600,"count":5}"#).status < 300)
            #expect(try await Self.orderWebhook(h, connection: "amazon-us", orderId: "AMZ-M1", qty: 1) == 200)
            try await h.eventually("etsy push") { !(try await h.pushes(sku: Self.sku, connection: "etsy-shop").isEmpty) }
            try await h.eventually("sync lag recorded") {
                (try await Self.metrics(h))["shelf_sync_lag_seconds_count{connection=\"etsy-shop\"}"] ?? 0 >= 1
            }
            let after = try await Self.metrics(h)
            let sumKey = "shelf_sync_lag_seconds_sum{connection=\"etsy-shop\"}"
            #expect((after[sumKey] ?? 0) - (before[sumKey] ?? 0) >= 0.5)
            #expect(after.keys.contains { $0.hasPrefix("shelf_events_ingested_total{") && $0.contains("order.confirmed") })
            #expect(after.keys.contains { $0.hasPrefix("shelf_http_request_duration_seconds_bucket{") })
        }
    }

    @Test("an outbox row newer than the snapshot is left for the next pass, never pushed stale and deleted")
    func outboxAheadOfSnapshotWaits() async throws {
        try await ChannelHarness.run(propagate: false) { h in
            let state = try #require(h.server.env.snapshot.seller("demo")?.sku(Self.sku))
            // As if the ledger had committed this row and not yet published the state it stands for.
            try await h.server.env.ledger.database.pool.write { db in
                try db.execute(sql: "INSERT INTO outbox (seller, sku, sequence) VALUES ('demo', ?, ?)", arguments: [Self.sku, state.lastSequence + 1])
            }
            #expect(await h.server.env.propagator.drainOnce() == 0)
            let left = try await h.server.env.ledger.database.pool.read { db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE sku = ?", arguments: [Self.sku])
            }
            #expect(left == 1)
            #expect(try await h.pushes(sku: Self.sku).isEmpty)
        }
    }

    @Test("a restart in the middle of propagation loses no push")
    func restartLosesNothing() async throws {
        let database = FileManager.default.temporaryDirectory.appendingPathComponent("shelf-restart-\(UUID().uuidString).sqlite").path
        // First life: events are committed while no propagator runs (as if it crashed before pushing).
        try await ChannelHarness.run(propagate: false, database: database) { (h: ChannelHarness) async throws -> Void in
            let status = try await Self.orderWebhook(h, connection: "amazon-us", orderId: "AMZ-9", qty: 4)
            #expect(status == 200)
            let pushed = try await h.pushes(sku: Self.sku)
            #expect(pushed.isEmpty)
        }
        // Second life on the same database: the durable outbox is pushed.
        try await ChannelHarness.run(database: database) { h in
            let expected = Self.available(h)
            try await h.eventually("pushes after restart") {
                try await h.pushes(sku: Self.sku, connection: "shopify-main").last?["quantity"] as? Int == expected
            }
        }
    }
}
