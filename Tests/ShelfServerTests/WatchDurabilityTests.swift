import Foundation
import Hummingbird
import HummingbirdTesting
import ShelfCore
import ShelfServer
import Synchronization
import Testing

/// Commits changes through a server on `database` whose watch delivery service does not run (as another process writing
/// the same file while the watching server is down).
func withoutWatchService(database: String, _ body: @Sendable @escaping (TestServer, any TestClientProtocol) async throws -> Void) async throws {
    let server = try await TestServer.make(clock: SystemWallClock(), database: database)
    try await server.run { client in try await body(server, client) }
}

func temporaryDatabase() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("shelf-watch-\(UUID().uuidString)/shelf.sqlite").path
}

@Suite("Watches: durable deliveries and catalog queries", .serialized)
struct WatchDurabilityTests {
    /// Many attempts with long backoff: a failing delivery stays pending (not dead-lettered) for the length of a test.
    static let patient = WatchPolicy(maxWatchesPerToken: 20, maxSKUsPerWatch: 10, maxAttempts: 100, baseDelay: 5, maxDelay: 30,
                                     requestTimeout: .seconds(2), pauseAfter: 3600)

    @Test("deliveries pending when the server stops are made after the restart, each once, with the delivery id it had")
    func pendingDeliveriesSurviveRestart() async throws {
        let database = temporaryDatabase()
        let skus = (0..<5).map { "W-DUR-\($0)" }
        let port = Mutex<Int>(0)
        let ids = Mutex<[String: String]>([:])
        let watchId = Mutex<String>("")
        try await WatchReceiver.run(policy: Self.patient, database: database) { receiver, server, client in
            port.withLock { $0 = receiver.port.withLock { $0 }! }
            for sku in skus { try await client.putSKU(sku, onHand: 0, token: server.admin) }
            receiver.set("/dur", status: 503)
            let w = try await client.watch(watchJSON(skus: skus, conditions: #"[{"type":"back_in_stock"}]"#, url: receiver.url("/dur")),
                                           token: server.read)
            watchId.withLock { $0 = w["id"] as? String ?? "" }
            for sku in skus { try await client.stockSet(sku, 3, token: server.ingest) }
            // Every SKU fired; the lane's first delivery has been attempted (and refused) and waits for its next attempt, the
            // others wait behind it.
            let id = watchId.withLock { $0 }
            try await eventually("every SKU queued, the first attempted") {
                let queued = try await client.send(.get, "/v1/watches/\(id)", token: server.read).object()["queued"] as? Int
                return queued == skus.count && !receiver.attempts("/dur").isEmpty
            }
            ids.withLock { ids in for d in receiver.attempts("/dur") { ids[d.object["sku"] as? String ?? ""] = d.id } }
            #expect(receiver.accepted("/dur").isEmpty)
        }
        // Second life: same file, the receiver back on the same port and answering.
        try await WatchReceiver.run(policy: Self.patient, database: database, receiverPort: port.withLock { $0 }) { receiver, server, client in
            let id = watchId.withLock { $0 }
            try await eventually("every pending delivery made") { receiver.accepted("/dur").count == skus.count }
            try await eventually("lane idle") {
                try await client.send(.get, "/v1/watches/\(id)", token: server.read).object()["queued"] as? Int == 0
            }
            let delivered = receiver.accepted("/dur")
            #expect(delivered.compactMap { $0.object["sku"] as? String }.sorted() == skus)
            #expect(delivered.allSatisfy { $0.object["type"] as? String == "product_availability_updated" })
            #expect(delivered.allSatisfy { value($0.object, "offer.stock.available") as? Int == 3 })
            // The attempted delivery is made with the id its refused attempts carried (receivers deduplicate on it).
            let before = ids.withLock { $0 }
            #expect(!before.isEmpty)
            let after = Dictionary(uniqueKeysWithValues: delivered.map { ($0.object["sku"] as? String ?? "", $0.id) })
            for (sku, id) in before { #expect(after[sku] == id, "\(sku)") }
            #expect(Set(after.values).count == skus.count)
            let page = try await client.send(.get, "/v1/watches/\(id)/deliveries", token: server.read).object()
            #expect((page["deadLetters"] as? [Any])?.isEmpty == true)
        }
    }

    @Test("a change committed while the watching server was down fires after the restart; back in stock does not fire again")
    func changesWhileDownAreJudgedOnce() async throws {
        let database = temporaryDatabase()
        let port = Mutex<Int>(0)
        let watchId = Mutex<String>("")
        try await WatchReceiver.run(policy: Self.patient, database: database) { receiver, server, client in
            port.withLock { $0 = receiver.port.withLock { $0 }! }
            try await client.putSKU("W-DOWN-A", onHand: 0, token: server.admin)
            try await client.putSKU("W-DOWN-B", onHand: 0, token: server.admin)
            let w = try await client.watch(watchJSON(skus: ["W-DOWN-A", "W-DOWN-B"], conditions: #"[{"type":"back_in_stock"}]"#,
                                                     url: receiver.url("/back")), token: server.read)
            watchId.withLock { $0 = w["id"] as? String ?? "" }
            try await client.stockSet("W-DOWN-A", 5, token: server.ingest)
            try await eventually("A back in stock") { receiver.accepted("/back").count == 1 }
        }
        // While no server watches: A stays in stock (5 → 7), B comes back (0 → 4).
        try await withoutWatchService(database: database) { server, client in
            try await client.stockSet("W-DOWN-A", 7, token: server.ingest)
            try await client.stockSet("W-DOWN-B", 4, token: server.ingest)
        }
        try await WatchReceiver.run(policy: Self.patient, database: database, receiverPort: port.withLock { $0 }) { receiver, server, client in
            let id = watchId.withLock { $0 }
            try await eventually("B back in stock, judged from the ledger") { receiver.accepted("/back").count == 1 }
            let b = receiver.accepted("/back")[0].object
            #expect(b["sku"] as? String == "W-DOWN-B")
            #expect(value(b, "offer.stock.available") as? Int == 4)
            // After the restart: A changes while in stock (no firing), B sells out and comes back (a new transition).
            try await client.stockSet("W-DOWN-A", 9, token: server.ingest)
            try await client.stockSet("W-DOWN-B", 0, token: server.ingest)
            try await client.stockSet("W-DOWN-B", 2, token: server.ingest)
            try await eventually("B's second transition") { receiver.accepted("/back").count == 2 }
            try await eventually("lane idle") {
                try await client.send(.get, "/v1/watches/\(id)", token: server.read).object()["queued"] as? Int == 0
            }
            #expect(receiver.accepted("/back").compactMap { $0.object["sku"] as? String } == ["W-DOWN-B", "W-DOWN-B"])
            #expect(receiver.attempts("/back").count == 2)
        }
    }

    @Test("a catalog-query watch fires for SKUs that satisfy the query, including SKUs created after it; bad queries are 422s")
    func catalogQueryWatches() async throws {
        var policy = WatchPolicy(maxWatchesPerToken: 20, maxSKUsPerWatch: 3, maxAttempts: 4, baseDelay: 0.02, maxDelay: 0.1)
        policy.maxQueryWatchesPerToken = 2
        try await WatchReceiver.run(policy: policy) { receiver, server, client in
            try await client.putSKU("W-QRY-1", onHand: 0, token: server.admin)
            try await client.putSKU("W-NOPE-1", onHand: 0, token: server.admin)
            let url = receiver.url("/query")
            func create(_ query: String, conditions: String = #"[{"type":"back_in_stock"}]"#) async throws -> TestResponse {
                try await client.send(.post, "/v1/watches", token: server.read,
                                      json: #"{"query":\#(query),"conditions":\#(conditions),"target":{"url":"\#(url)","secret":"test-secret-0123456789"}}"#)
            }
            let created = try await create(#"{"q":"qry","maxPrice":5000}"#)
            #expect(created.status == .created, "\(created.text)")
            let watch = try created.object()
            #expect(value(watch, "query.q") as? String == "qry")
            #expect(value(watch, "query.maxPrice") as? Int == 5000)
            #expect((watch["skus"] as? [Any])?.isEmpty == true)
            let id = try #require(watch["id"] as? String)

            // Created after the watch: at 0 then restocked (fires), created in stock (enters the query: fires), priced above the
            // band (never satisfies it), and a SKU the words do not find.
            try await client.putSKU("W-QRY-2", onHand: 0, token: server.admin)
            try await client.stockSet("W-QRY-2", 3, token: server.ingest)
            try await client.putSKU("W-QRY-3", onHand: 6, token: server.admin)
            try await client.putSKU("W-QRY-4", onHand: 0, price: 9000, token: server.admin)
            try await client.stockSet("W-QRY-4", 8, token: server.ingest)
            try await client.stockSet("W-NOPE-1", 8, token: server.ingest)
            try await client.stockSet("W-QRY-1", 2, token: server.ingest)
            try await eventually("three deliveries") { receiver.accepted("/query").count == 3 }
            try await eventually("lane idle") {
                try await client.send(.get, "/v1/watches/\(id)", token: server.read).object()["queued"] as? Int == 0
            }
            #expect(receiver.accepted("/query").compactMap { $0.object["sku"] as? String } == ["W-QRY-2", "W-QRY-3", "W-QRY-1"])
            #expect(receiver.attempts("/query").count == 3)

            func problem(_ query: String) async throws -> (Int, String?) {
                let r = try await create(query)
                return (Int(r.status.code), try r.object()["field"] as? String)
            }
            #expect(try await problem("{}") == (422, "query"))
            #expect(try await problem(#"{"q":"   "}"#) == (422, "query"))
            #expect(try await problem(#"{"q":"\#(String(repeating: "a", count: 201))"}"#) == (422, "query.q"))
            #expect(try await problem(#"{"tags":[\#((0..<21).map { "\"t\($0)\"" }.joined(separator: ","))]}"#) == (422, "query.tags"))
            #expect(try await problem(#"{"tags":[""]}"#) == (422, "query.tags[0]"))
            #expect(try await problem(#"{"minPrice":500,"maxPrice":100}"#) == (422, "query.minPrice"))
            #expect(try await problem(#"{"maxPrice":-1}"#) == (422, "query.maxPrice"))
            #expect(try await problem(#"{"q":"qry","bogus":1}"#).0 == 422)
            // More SKUs match than a watch may watch (3 here).
            #expect(try await problem(#"{"q":"w"}"#) == (422, "query"))
            let both = try await client.send(.post, "/v1/watches", token: server.read,
                                             json: #"{"skus":["W-QRY-1"],"query":{"q":"qry"},"conditions":[{"type":"any_change"}],"target":{"url":"\#(url)"}}"#)
            #expect(both.status.code == 422)
            #expect(try both.object()["field"] as? String == "query")
            // Catalog-query watches per token (2 here): the second is accepted, the third refused.
            #expect(try await create(#"{"q":"nope"}"#).status == .created)
            #expect(try await problem(#"{"q":"nope","inStockOnly":true}"#) == (422, "query"))
        }
    }
}
