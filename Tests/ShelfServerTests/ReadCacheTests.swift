import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import ShelfCore
import ShelfLedger
import Testing

@testable import ShelfServer
import ShelfTestSupport

/// The read caches (encoded offers, delivery plans and answers) over live HTTP: what is served from them is byte for byte
/// what computing afresh gives at the same instant, and nothing stale or foreign ever comes out of them.
@Suite("Read caches over live HTTP")
struct ReadCacheTests {
    /// The offer as the uncached path writes it at the server's current instant.
    static func uncachedOffer(_ server: TestServer, seller: String = "demo", sku: String, qty: Int = 1, country: String? = nil,
                              postalCode: String? = nil, channel: String? = nil) throws -> [UInt8] {
        let desk = AgentDesk(env: server.env)
        let snapshot = try #require(server.env.snapshot.seller(seller))
        let destination = try AgentDesk.destination(country: country, postalCode: postalCode)
        return OfferJSON.encode(try desk.offer(snapshot, sku: sku, qty: qty, destination: destination, channel: channel))
    }

    /// The delivery answer as the uncached path writes it at the server's current instant.
    static func uncachedDelivery(_ server: TestServer, sku: String, qty: Int = 1, country: String? = nil, postalCode: String? = nil) throws -> [UInt8] {
        let desk = AgentDesk(env: server.env)
        let snapshot = try #require(server.env.snapshot.seller("demo"))
        let destination = try AgentDesk.destination(country: country, postalCode: postalCode)
        return Array(try ShelfJSON.encode(try desk.delivery(snapshot, sku: sku, qty: qty, destination: destination)))
    }

    static func bytes(_ response: TestResponse) -> [UInt8] { Array(response.body.readableBytesView) }

    @Test("offers from the cache are byte for byte the uncached answer, for every parameter that changes the answer")
    func cachedBytesAreExact() async throws {
        let server = try await TestServer.make()
        server.clock.advance(by: 1)
        try await server.run { client in
            let questions: [(sku: String, query: String, qty: Int, country: String?, postal: String?, channel: String?)] = [
                ("TEE-RED-M", "", 1, nil, nil, nil),
                ("TEE-RED-M", "?qty=3", 3, nil, nil, nil),
                ("TEE-RED-M", "?qty=1000000", 1_000_000, nil, nil, nil),
                ("TEE-RED-M", "?channel=amazon", 1, nil, nil, "amazon"),
                ("TEE-RED-M", "?country=CA", 1, "CA", nil, nil),
                ("TEE-RED-M", "?country=US&postalCode=10001", 1, "US", "10001", nil),
                ("TEE-RED-M", "?country=US&postalCode=94105", 1, "US", "94105", nil),
                ("MUG-RED-11OZ", "?qty=2&channel=ebay&postalCode=60601", 2, nil, "60601", "ebay"),
            ]
            let hitsBefore = server.env.reads.offerHits
            for q in questions {
                let expected = try Self.uncachedOffer(server, sku: q.sku, qty: q.qty, country: q.country, postalCode: q.postal, channel: q.channel)
                let first = try await client.send(.get, "/v1/offers/\(q.sku)\(q.query)", token: server.read)
                let second = try await client.send(.get, "/v1/offers/\(q.sku)\(q.query)", token: server.read)
                #expect(first.status == .ok)
                #expect(Self.bytes(first) == expected, "first read of \(q.sku)\(q.query)")
                #expect(Self.bytes(second) == expected, "cached read of \(q.sku)\(q.query)")
                #expect(first.headers[.eTag] == second.headers[.eTag])
            }
            // Each second read was answered from the cache.
            #expect(server.env.reads.offerHits - hitsBefore >= questions.count)
        }
    }

    @Test("two reads of an unchanged SKU 50 ms apart: the same cached basis, ageMs grows by 50, confidence does not rise")
    func freshnessMovesWithTheClock() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            // Sales on a channel, so confidence depends on the unseen sales that grow with silence.
            for i in 0..<4 {
                let order = #"{"type":"order.confirmed","sku":"TEE-RED-M","qty":1,"channel":"amazon","externalId":"age-\#(i)"}"#
                #expect(try await client.send(.post, "/v1/events", token: server.ingest, json: order,
                                              headers: ["Idempotency-Key": "age-\(i)"]).status == .accepted)
            }
            server.clock.advance(by: 40)
            // Asking for every available unit: any unseen sale would leave too few, so confidence is below 1 and moves.
            let available = try #require(value(try await client.send(.get, "/v1/offers/TEE-RED-M", token: server.read).object(),
                                               "stock.available") as? Int)
            let path = "/v1/offers/TEE-RED-M?qty=\(available)"
            let first = try await client.send(.get, path, token: server.read).object()
            let hitsBefore = server.env.reads.offerHits
            server.clock.advance(by: 0.05)
            let second = try await client.send(.get, path, token: server.read).object()
            #expect(server.env.reads.offerHits == hitsBefore + 1, "the second read is served from the cache")
            let (age1, age2) = (try #require(value(first, "freshness.ageMs") as? Int), try #require(value(second, "freshness.ageMs") as? Int))
            // 50 ms later (the instants are Doubles, so the milliseconds may round down by one).
            #expect((49...50).contains(age2 - age1))
            #expect(value(first, "freshness.asOf") as? String == value(second, "freshness.asOf") as? String)
            let (c1, c2) = (try #require(first["confidence"] as? Double), try #require(second["confidence"] as? Double))
            #expect(c2 <= c1)
            #expect(c1 < 1, "confidence reflects the unseen sales")
            let (s1, s2) = (try #require(value(first, "freshness.freshnessScore") as? Double),
                            try #require(value(second, "freshness.freshnessScore") as? Double))
            #expect(s2 <= s1)
        }
    }

    @Test("a read right after an accepted event sees the new version, never the cached old bytes")
    func readAfterWriteIsFresh() async throws {
        let server = try await TestServer.make()
        server.clock.advance(by: 1)
        try await server.run { client in
            let before = try await client.send(.get, "/v1/offers/TEE-RED-M", token: server.read)
            _ = try await client.send(.get, "/v1/offers/TEE-RED-M", token: server.read)
            let onHand = try #require(value(try before.object(), "stock.onHand") as? Int)
            let event = #"{"type":"stock.received","sku":"TEE-RED-M","qty":4}"#
            #expect(try await client.send(.post, "/v1/events", token: server.ingest, json: event,
                                          headers: ["Idempotency-Key": "cache-stock"]).status == .accepted)
            let after = try await client.send(.get, "/v1/offers/TEE-RED-M", token: server.read)
            #expect(value(try after.object(), "stock.onHand") as? Int == onHand + 4)
            #expect(Self.bytes(after) == (try Self.uncachedOffer(server, sku: "TEE-RED-M")))
            // A hold placed through the API is seen by the very next read too.
            let available = try #require(value(try after.object(), "stock.available") as? Int)
            let hold = try await client.send(.post, "/v1/reservations", token: server.read, json: #"{"sku":"TEE-RED-M","qty":2,"ttlSeconds":60}"#,
                                             headers: ["Idempotency-Key": "cache-hold"])
            #expect(hold.status == .created)
            let held = try await client.send(.get, "/v1/offers/TEE-RED-M", token: server.read)
            #expect(value(try held.object(), "stock.available") as? Int == available - 2)
            // The hold expires with the clock alone (no event yet): the next read counts the units again.
            server.clock.advance(by: 61)
            let expired = try await client.send(.get, "/v1/offers/TEE-RED-M", token: server.read)
            #expect(value(try expired.object(), "stock.available") as? Int == available)
            #expect(Self.bytes(expired) == (try Self.uncachedOffer(server, sku: "TEE-RED-M")))
        }
    }

    @Test("offers for one seller never show another seller's SKU of the same code through the cache")
    func sellersNeverMix() async throws {
        let server = try await TestServer.make()
        server.clock.advance(by: 1)
        try await server.run { client in
            for _ in 0..<3 {
                let demo = try await client.send(.get, "/v1/offers/TEE-RED-M", token: server.read)
                let other = try await client.send(.get, "/v1/offers/TEE-RED-M", token: server.otherAdmin)
                #expect(Self.bytes(demo) == (try Self.uncachedOffer(server, sku: "TEE-RED-M")))
                #expect(Self.bytes(other) == (try Self.uncachedOffer(server, seller: "other", sku: "TEE-RED-M")))
                #expect(try other.object()["title"] as? String == "Other tee")
                #expect(try demo.object()["title"] as? String != "Other tee")
                #expect(value(try other.object(), "price.amount") as? Int == 100)
            }
            #expect(try await client.send(.get, "/v1/offers/OTHER-ONLY", token: server.otherAdmin).status == .ok)
            #expect(try await client.send(.get, "/v1/offers/OTHER-ONLY", token: server.read).status == .notFound)
        }
    }

    @Test("delivery answers follow the cut-off and location edits: always the uncached answer of the instant")
    func deliveryFollowsCutoffAndCalendar() async throws {
        // Monday 2026-11-23 21:30 UTC: 13:30 in Reno, half an hour before its 14:00 cut-off (the eastern ones have passed).
        let server = try await TestServer.make(at: Date(timeIntervalSince1970: 1_795_469_400))
        try await server.run { client in
            let path = "/v1/delivery/TEE-RED-M?country=US&postalCode=10001"
            let before = try await client.send(.get, path, token: server.read)
            #expect(Self.bytes(before) == (try Self.uncachedDelivery(server, sku: "TEE-RED-M", country: "US", postalCode: "10001")))
            #expect(Self.bytes(try await client.send(.get, path, token: server.read)) == Self.bytes(before))
            // Past the cut-off: the same SKU and catalog, but the processing day moved.
            server.clock.advance(by: 3600)
            let after = try await client.send(.get, path, token: server.read)
            #expect(Self.bytes(after) != Self.bytes(before))
            #expect(Self.bytes(after) == (try Self.uncachedDelivery(server, sku: "TEE-RED-M", country: "US", postalCode: "10001")))
            // Holidays today and tomorrow at every location (location edits) move every processing day again.
            for location in try #require(server.env.snapshot.seller("demo")?.catalog.locations) {
                var edited = location
                edited.holidays += [CivilDate(year: 2026, month: 11, day: 23), CivilDate(year: 2026, month: 11, day: 24)]
                let body = String(decoding: try ShelfJSON.encode(edited), as: UTF8.self)
                #expect(try await client.send(.put, "/v1/locations/\(location.id)", token: server.admin, json: body).status.code < 300)
            }
            let holiday = try await client.send(.get, path, token: server.read)
            #expect(Self.bytes(holiday) != Self.bytes(after))
            #expect(Self.bytes(holiday) == (try Self.uncachedDelivery(server, sku: "TEE-RED-M", country: "US", postalCode: "10001")))
            // The offer's delivery options moved with them.
            #expect(Self.bytes(try await client.send(.get, "/v1/offers/TEE-RED-M?postalCode=10001", token: server.read))
                == (try Self.uncachedOffer(server, sku: "TEE-RED-M", postalCode: "10001")))
        }
    }

    @Test("with reads on the event loop: hot reads, writes, holds, a token only the database knows and a replay all answer as before")
    func eventLoopExecution() async throws {
        let server = try await TestServer.make(readsOnEventLoop: true)
        server.clock.advance(by: 1)
        try await server.run { client in
            let offer = try await client.send(.get, "/v1/offers/TEE-RED-M?qty=2", token: server.read)
            #expect(Self.bytes(offer) == (try Self.uncachedOffer(server, sku: "TEE-RED-M", qty: 2)))
            #expect(try await client.send(.get, "/v1/delivery/TEE-RED-M", token: server.read).status == .ok)
            #expect(try await client.send(.get, "/v1/prices/TEE-RED-M", token: server.read).status == .ok)
            // A write (off the loop), then the hot read sees it.
            let event = #"{"type":"stock.received","sku":"TEE-RED-M","qty":5}"#
            #expect(try await client.send(.post, "/v1/events", token: server.ingest, json: event,
                                          headers: ["Idempotency-Key": "loop-stock"]).status == .accepted)
            let after = try await client.send(.get, "/v1/offers/TEE-RED-M?qty=2", token: server.read)
            #expect(value(try after.object(), "stock.onHand") as? Int == (value(try offer.object(), "stock.onHand") as? Int).map { $0 + 5 })
            // A token created by another process is known to the database only: looked up off the loop, then accepted.
            let (_, outside) = try await TokenStore(database: server.env.ledger.database, clock: server.clock).create(seller: "demo", scopes: [.read], ttl: nil)
            #expect(try await client.send(.get, "/v1/offers/TEE-RED-M", token: outside).status == .ok)
            #expect(try await client.send(.get, "/v1/offers/TEE-RED-M", token: "shelf_000000000000_unknown").status == .unauthorized)
            // Stock at an instant replays the ledger (off the loop).
            let at = Timestamp.format(server.clock.now())
            #expect(try await client.send(.get, "/v1/stock/TEE-RED-M?at=\(at)", token: server.read).status == .ok)
            // Streams and other routes run off the loop as before.
            #expect(try await client.send(.get, "/v1/catalog?limit=2", token: server.read).status == .ok)
        }
    }

    @Test("a revoked token is refused on the very next read of a cached offer")
    func revocationBeatsTheCaches() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let created = try await client.send(.post, "/v1/tokens", token: server.admin, json: #"{"scopes":["read"]}"#).object()
            let token = try #require(created["token"] as? String)
            let id = try #require(value(created, "info.id") as? String)
            #expect(try await client.send(.get, "/v1/offers/TEE-RED-M", token: token).status == .ok)
            #expect(try await client.send(.get, "/v1/offers/TEE-RED-M", token: token).status == .ok)
            #expect(try await client.send(.delete, "/v1/tokens/\(id)", token: server.admin).status == .noContent)
            #expect(try await client.send(.get, "/v1/offers/TEE-RED-M", token: token).status == .unauthorized)
            #expect(try await client.send(.get, "/v1/offers/TEE-RED-M", token: server.read).status == .ok)
        }
    }
}

@Suite("Answer cache")
struct AnswerCacheTests {
    static let t0 = Date(timeIntervalSince1970: 1_795_413_600)

    static func stamp(_ sequence: Int64, until: Date = .distantFuture) -> AnswerStamp {
        AnswerStamp(skuSequence: sequence, catalogVersion: 1, computedAt: t0, validUntil: until)
    }

    @Test("an answer is reused only for the same SKU version, catalog version and within its time window")
    func stampsDecide() {
        let cache = AnswerCache<String, Int>(budget: 1 << 20)
        cache.store("a", 1, stamp: Self.stamp(7, until: Self.t0.addingTimeInterval(10)), bytes: 8)
        #expect(cache.value("a", skuSequence: 7, catalogVersion: 1, now: Self.t0) == 1)
        #expect(cache.value("a", skuSequence: 8, catalogVersion: 1, now: Self.t0) == nil)
        #expect(cache.value("a", skuSequence: 7, catalogVersion: 2, now: Self.t0) == nil)
        #expect(cache.value("a", skuSequence: 7, catalogVersion: 1, now: Self.t0.addingTimeInterval(10)) == nil)
        #expect(cache.value("a", skuSequence: 7, catalogVersion: 1, now: Self.t0.addingTimeInterval(-1)) == nil)
        // Never past the UTC midnight after it was computed (t0 is 06:00 UTC).
        #expect(Self.stamp(7).validUntil == Self.t0.addingTimeInterval(18 * 3600))
    }

    @Test("memory stays within the budget; the oldest answers go first")
    func bounded() {
        let budget = 64 * 1024
        let cache = AnswerCache<Int, [UInt8]>(budget: budget)
        for i in 0..<10_000 {
            cache.store(i, [UInt8](repeating: 1, count: 100), stamp: Self.stamp(1), bytes: 100)
            #expect(cache.bytes <= budget)
        }
        #expect(cache.count > 0)
        #expect(cache.count <= budget / (100 + AnswerCache<Int, [UInt8]>.entryOverhead))
        #expect(cache.value(9_999, skuSequence: 1, catalogVersion: 1, now: Self.t0) != nil)
        #expect(cache.value(0, skuSequence: 1, catalogVersion: 1, now: Self.t0) == nil)
        // Replacing one key again and again keeps one entry.
        let single = AnswerCache<Int, Int>(budget: budget)
        for i in 0..<10_000 { single.store(1, i, stamp: Self.stamp(Int64(i)), bytes: 8) }
        #expect(single.count == 1)
        #expect(single.value(1, skuSequence: 9_999, catalogVersion: 1, now: Self.t0) == 9_999)
    }
}
