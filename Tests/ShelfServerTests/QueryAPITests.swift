import Foundation
import HTTPTypes
import HummingbirdTesting
import ShelfCore
import ShelfLedger
import ShelfServer
import Testing
import ShelfTestSupport

@Suite("Query API over live HTTP")
struct QueryAPITests {
    @Test("health and readiness answer; the demo data is in the snapshot")
    func healthAndReady() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let health = try await client.send(.get, "/healthz")
            #expect(health.status == .ok)
            let ready = try await client.send(.get, "/readyz")
            #expect(ready.status == .ok)
            #expect(value(try ready.object(), "skus") as? Int == 202)
            #expect(ready.headers[HTTPField.Name("X-Request-Id")!] != nil)
        }
    }

    @Test("an order event lowers available in the very next read; qty above available is not purchasable")
    func orderLowersAvailable() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let before = try await client.send(.get, "/v1/offers/TEE-RED-M?qty=1", token: server.read).object()
            let available = try #require(value(before, "stock.available") as? Int)
            #expect(available > 3)
            let posted = try await client.send(
                .post, "/v1/events", token: server.ingest,
                json: #"{"type":"order.confirmed","sku":"TEE-RED-M","qty":3,"channel":"amazon","externalId":"amz-1"}"#,
                headers: ["Idempotency-Key": "amz-1"]
            )
            #expect(posted.status == .accepted)
            #expect(value(try posted.object(), "status") as? String == "accepted")
            let after = try await client.send(.get, "/v1/offers/TEE-RED-M", token: server.read).object()
            #expect(value(after, "stock.available") as? Int == available - 3)
            #expect(value(after, "stock.committed") as? Int == 3)
            let tooMany = try await client.send(.get, "/v1/offers/TEE-RED-M?qty=\(available - 2)", token: server.read).object()
            #expect(value(tooMany, "purchasable") as? Bool == false)
            #expect((value(tooMany, "reasons") as? [String])?.contains("insufficient_stock") == true)
            #expect(value(tooMany, "confidence") as? Double == 0)
            let exact = try await client.send(.get, "/v1/offers/TEE-RED-M?qty=\(available - 3)", token: server.read).object()
            #expect(value(exact, "purchasable") as? Bool == true)
        }
    }

    @Test("an idempotent replay returns the original answer; the key with another body is a 422 problem")
    func idempotency() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let body = #"{"type":"order.confirmed","sku":"MUG-RED-11OZ","qty":1,"channel":"ebay"}"#
            let first = try await client.send(.post, "/v1/events", token: server.ingest, json: body, headers: ["Idempotency-Key": "k-1"]).object()
            let again = try await client.send(.post, "/v1/events", token: server.ingest, json: body, headers: ["Idempotency-Key": "k-1"]).object()
            #expect(value(again, "status") as? String == "duplicate")
            #expect(value(again, "sequence") as? Int == value(first, "sequence") as? Int)
            let conflict = try await client.send(
                .post, "/v1/events", token: server.ingest, json: #"{"type":"order.confirmed","sku":"MUG-RED-11OZ","qty":2}"#,
                headers: ["Idempotency-Key": "k-1"])
            #expect(conflict.status == .unprocessableContent)
            #expect(conflict.headers[.contentType] == "application/problem+json")
            #expect(value(try conflict.object(), "field") as? String == "Idempotency-Key")
            let stock = try await client.send(.get, "/v1/stock/MUG-RED-11OZ", token: server.read).object()
            #expect(value(stock, "total.committed") as? Int == 1)
        }
    }

    @Test("delivery dates honour the cut-off in the location's zone, weekends and holidays", arguments: [
        // (instant, expected orderBy, earliest, latest)
        ("2026-11-25T18:59:00Z", "2026-11-25T19:00:00.000Z", "2026-11-30", "2026-12-01"),  // Wed 13:59 ET: before cut-off; Thu is a holiday
        ("2026-11-25T19:01:00Z", "2026-11-27T19:00:00.000Z", "2026-12-01", "2026-12-02"),  // Wed 14:01 ET: after cut-off → Fri
        ("2026-11-28T15:00:00Z", "2026-11-30T19:00:00.000Z", "2026-12-02", "2026-12-03"),  // Saturday → Monday
    ])
    func deliveryCalendar(instant: String, orderBy: String, earliest: String, latest: String) async throws {
        let server = try await TestServer.make(at: Timestamp.parse(instant)!)
        try await server.run { client in
            let location = #"""
                {"id":"test-dc","name":"Test DC","timeZone":"America/New_York","cutoff":"14:00","handlingDays":1,"holidays":["2026-11-26"],
                 "country":"US","postalCode":"07102","priority":9,"aliases":[],
                 "services":[{"carrier":"ups","service":"ground","transit":{"US:1":{"min":2,"max":3}}}]}
                """#
            #expect(try await client.send(.put, "/v1/locations/test-dc", token: server.admin, json: location).status == .ok)
            let sku = #"{"productId":"P-CAL","title":"Calendar test","price":{"amount":500,"currency":"USD"},"levels":[{"location":"test-dc","onHand":5}]}"#
            #expect(try await client.send(.put, "/v1/skus/CAL-1", token: server.admin, json: sku).status == .ok)
            let answer = try await client.send(.get, "/v1/delivery/CAL-1?country=US&postalCode=10001&qty=2", token: server.read).object()
            let options = try #require(value(answer, "options") as? [[String: Any]])
            #expect(options.count == 1)
            #expect(options.first?["orderBy"] as? String == orderBy)
            #expect(options.first?["earliestDate"] as? String == earliest)
            #expect(options.first?["latestDate"] as? String == latest)
            #expect(options.first?["location"] as? String == "test-dc")
            let none = try await client.send(.get, "/v1/delivery/CAL-1?country=US&postalCode=10001&qty=6", token: server.read).object()
            #expect((value(none, "options") as? [Any])?.isEmpty == true)
        }
    }

    @Test("confidence falls as a fast-selling channel goes quiet and stays high for a slow mover")
    func confidenceModel() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let admin = server.admin
            for (sku, onHand) in [("FAST-1", 100), ("SLOW-1", 100)] {
                let body = #"{"productId":"P-\#(sku)","title":"\#(sku)","price":{"amount":900,"currency":"USD"},"levels":[{"location":"reno","onHand":\#(onHand)}],"listings":[{"channel":"amazon"}]}"#
                #expect(try await client.send(.put, "/v1/skus/\(sku)", token: admin, json: body).status == .ok)
            }
            for i in 0..<30 {
                let r = try await client.send(.post, "/v1/events", token: server.ingest,
                                              json: #"{"type":"order.confirmed","sku":"FAST-1","qty":1,"channel":"amazon"}"#,
                                              headers: ["Idempotency-Key": "f\(i)"])
                #expect(r.status == .accepted)
                server.clock.advance(by: 1)
            }
            _ = try await client.send(.post, "/v1/events", token: server.ingest,
                                      json: #"{"type":"order.confirmed","sku":"SLOW-1","qty":1,"channel":"amazon"}"#,
                                      headers: ["Idempotency-Key": "s1"])
            let fresh = try await client.send(.get, "/v1/offers/FAST-1?qty=50", token: server.read).object()
            let freshConfidence = try #require(value(fresh, "confidence") as? Double)
            #expect(freshConfidence > 0.99)
            server.clock.advance(by: 600)  // ten quiet minutes on every channel
            let stale = try await client.send(.get, "/v1/offers/FAST-1?qty=50", token: server.read).object()
            let staleConfidence = try #require(value(stale, "confidence") as? Double)
            #expect(staleConfidence < 0.9)
            #expect((value(stale, "reasons") as? [String])?.contains("stale_channel") == true)
            #expect(value(stale, "freshness.freshnessScore") as? Double == 0)
            let slow = try await client.send(.get, "/v1/offers/SLOW-1?qty=20", token: server.read).object()
            #expect(try #require(value(slow, "confidence") as? Double) > 0.99)
        }
    }

    @Test("a token never sees or changes another seller's data")
    func tenancy() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let mine = try await client.send(.get, "/v1/offers/TEE-RED-M", token: server.read).object()
            let theirs = try await client.send(.get, "/v1/offers/TEE-RED-M", token: server.otherAdmin).object()
            #expect(value(theirs, "stock.available") as? Int == 7)
            #expect(value(mine, "stock.available") as? Int != 7)
            #expect(try await client.send(.get, "/v1/offers/OTHER-ONLY", token: server.read).status == .notFound)
            #expect(try await client.send(.get, "/v1/stock/OTHER-ONLY", token: server.admin).status == .notFound)
            let write = try await client.send(.post, "/v1/events", token: server.ingest,
                                              json: #"{"type":"order.confirmed","sku":"OTHER-ONLY","qty":1}"#, headers: ["Idempotency-Key": "x"])
            #expect(write.status == .notFound)
            let after = try await client.send(.get, "/v1/offers/OTHER-ONLY", token: server.otherAdmin).object()
            #expect(value(after, "stock.available") as? Int == 3)
            let page = try await client.send(.get, "/v1/catalog?limit=500", token: server.otherAdmin).object()
            #expect((value(page, "items") as? [Any])?.count == 2)
        }
    }

    @Test("missing, revoked and expired tokens get 401 with WWW-Authenticate; scopes are enforced")
    func tokens() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let missing = try await client.send(.get, "/v1/offers/TEE-RED-M")
            #expect(missing.status == .unauthorized)
            #expect(missing.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
            #expect(try await client.send(.get, "/v1/offers/TEE-RED-M", token: "shelf_nope_nope").status == .unauthorized)
            let created = try await client.send(.post, "/v1/tokens", token: server.admin, json: #"{"scopes":["read"],"ttlSeconds":3600}"#)
            #expect(created.status == .created)
            let obj = try created.object()
            let token = try #require(obj["token"] as? String)
            let id = try #require(value(obj, "info.id") as? String)
            #expect(try await client.send(.get, "/v1/offers/TEE-RED-M", token: token).status == .ok)
            #expect(try await client.send(.post, "/v1/events", token: token, json: "{}", headers: ["Idempotency-Key": "z"]).status == .forbidden)
            #expect(try await client.send(.delete, "/v1/tokens/\(id)", token: server.admin).status == .noContent)
            #expect(try await client.send(.get, "/v1/offers/TEE-RED-M", token: token).status == .unauthorized)
            // Another seller cannot revoke this seller's token.
            #expect(try await client.send(.delete, "/v1/tokens/\(id)", token: server.otherAdmin).status == .notFound)
            let short = try await client.send(.post, "/v1/tokens", token: server.admin, json: #"{"scopes":["read"],"ttlSeconds":60}"#).object()
            let shortToken = try #require(short["token"] as? String)
            #expect(try await client.send(.get, "/v1/catalog", token: shortToken).status == .ok)
            server.clock.advance(by: 61)
            #expect(try await client.send(.get, "/v1/catalog", token: shortToken).status == .unauthorized)
        }
    }

    @Test("a token created by another process (shelf token create) is accepted on the next request")
    func tokenFromAnotherProcess() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let other = TokenStore(database: server.env.ledger.database, clock: server.clock)
            let (_, token) = try await other.create(seller: "demo", scopes: [.read], ttl: nil)
            #expect(try await client.send(.get, "/v1/catalog?limit=1", token: token).status == .ok)
        }
    }

    @Test("reads carry strong ETags and answer 304 to If-None-Match")
    func conditionalGet() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            for path in ["/v1/offers/TEE-RED-M", "/v1/stock/TEE-RED-M", "/v1/prices/TEE-RED-M", "/v1/delivery/TEE-RED-M", "/v1/catalog"] {
                let first = try await client.send(.get, path, token: server.read)
                let tag = try #require(first.headers[.eTag])
                #expect(!tag.hasPrefix("W/"))
                let second = try await client.send(.get, path, token: server.read, headers: ["If-None-Match": tag])
                #expect(second.status == .notModified, "\(path)")
            }
            let tag = try #require(try await client.send(.get, "/v1/stock/TEE-RED-M", token: server.read).headers[.eTag])
            _ = try await client.send(.post, "/v1/events", token: server.ingest, json: #"{"type":"stock.received","sku":"TEE-RED-M","qty":4}"#,
                                      headers: ["Idempotency-Key": "r1"])
            #expect(try await client.send(.get, "/v1/stock/TEE-RED-M", token: server.read, headers: ["If-None-Match": tag]).status == .ok)
        }
    }

    @Test("the catalog pages through every SKU once and filters by q")
    func catalogPaging() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            var cursor: String?
            var seen: [String] = []
            repeat {
                let page = try await client.send(.get, "/v1/catalog?limit=37" + (cursor.map { "&cursor=\($0)" } ?? ""), token: server.read).object()
                seen += (page["items"] as? [[String: Any]] ?? []).compactMap { $0["sku"] as? String }
                cursor = page["nextCursor"] as? String
            } while cursor != nil
            #expect(seen.count == 200)
            #expect(Set(seen).count == 200)
            #expect(seen == seen.sorted())
            let mugs = try await client.send(.get, "/v1/catalog?q=mug&limit=500", token: server.read).object()
            let items = try #require(mugs["items"] as? [[String: Any]])
            #expect(!items.isEmpty)
            #expect(items.allSatisfy { ($0["sku"] as? String)?.hasPrefix("MUG") == true })
        }
    }

    @Test("stock per location and channel, replay at an instant, and prices per channel")
    func stockAndPrices() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let before = try await client.send(.get, "/v1/stock/TEE-RED-M", token: server.read).object()
            let instant = Timestamp.format(server.clock.now())
            server.clock.advance(by: 5)
            _ = try await client.send(.post, "/v1/events", token: server.ingest, json: #"{"type":"order.confirmed","sku":"TEE-RED-M","qty":2}"#,
                                      headers: ["Idempotency-Key": "o1"])
            let then = try await client.send(.get, "/v1/stock/TEE-RED-M?at=\(instant)", token: server.read).object()
            #expect(value(then, "total.available") as? Int == value(before, "total.available") as? Int)
            let now = try await client.send(.get, "/v1/stock/TEE-RED-M", token: server.read).object()
            #expect(value(now, "total.committed") as? Int == 2)
            let channels = try #require(now["channels"] as? [[String: Any]])
            #expect(channels.count == 6)
            let ebay = try #require(channels.first { $0["channel"] as? String == "ebay" })
            #expect(ebay["publishedQuantity"] as? Int == (value(now, "total.available") as? Int ?? 0) - 1)
            let prices = try await client.send(.get, "/v1/prices/TEE-RED-M", token: server.read).object()
            #expect(prices["consistent"] as? Bool == false)
            #expect((prices["differingChannels"] as? [String])?.contains("amazon") == true)
            #expect(value(prices, "price.amount") as? Int == 1999)
            #expect(try await client.send(.get, "/v1/stock/TEE-RED-M?at=yesterday", token: server.read).status == .unprocessableContent)
        }
    }

    @Test("batch offers sum lines per SKU, report unknown SKUs and refuse more than the limit with 413")
    func batch() async throws {
        let server = try await TestServer.make(maxBatchSKUs: 3)
        try await server.run { client in
            let ok = try await client.send(.post, "/v1/offers:batch", token: server.read,
                                           json: #"{"items":[{"sku":"TEE-RED-M","qty":1},{"sku":"TEE-RED-M","qty":2},{"sku":"NOPE"}]}"#)
            #expect(ok.status == .ok)
            let obj = try ok.object()
            #expect(value(obj, "offers.0.qty") as? Int == 3)
            #expect(obj["notFound"] as? [String] == ["NOPE"])
            let big = try await client.send(.post, "/v1/offers:batch", token: server.read,
                                            json: #"{"items":[{"sku":"A"},{"sku":"B"},{"sku":"C"},{"sku":"D"}]}"#)
            #expect(big.status == .contentTooLarge)
            #expect(big.headers[.contentType] == "application/problem+json")
        }
    }

    @Test("bad input gets a clear problem naming the field and changes nothing")
    func badInput() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let before = server.env.ledger.snapshot.seller("demo")!.lastSequence
            func post(_ json: String, key: String = "b", contentType: String? = nil) async throws -> TestResponse {
                var headers = ["Idempotency-Key": key]
                if let contentType { headers["Content-Type"] = contentType }
                return try await client.send(.post, "/v1/events", token: server.ingest, json: json, headers: headers)
            }
            let malformed = try await post(#"{"type": "order.confirmed", "#)
            #expect(malformed.status == .badRequest)
            #expect(value(try malformed.object(), "type") as? String == "https://shelf.dev/problems/malformed-json")
            let unknown = try await post(#"{"type":"order.confirmed","sku":"TEE-RED-M","qty":1,"colour":"red"}"#)
            #expect(unknown.status == .unprocessableContent)
            #expect(value(try unknown.object(), "field") as? String == "colour")
            let negative = try await post(#"{"type":"order.confirmed","sku":"TEE-RED-M","qty":-4}"#)
            #expect(value(try negative.object(), "field") as? String == "qty")
            let wrongType = try await post(#"{"type":"order.confirmed","sku":"TEE-RED-M","qty":"many"}"#)
            #expect(value(try wrongType.object(), "field") as? String == "qty")
            let badType = try await post(#"{"type":"order.shipped","sku":"TEE-RED-M","qty":1}"#)
            #expect(value(try badType.object(), "field") as? String == "type")
            let unicode = try await post(#"{"type":"order.confirmed","sku":"ТЕЕ-😀","qty":1}"#)
            #expect(unicode.status == .notFound)
            let text = try await post("hello", contentType: "text/plain")
            #expect(text.status == .unsupportedMediaType)
            let huge = try await post(#"{"type":"order.confirmed","sku":""# + String(repeating: "x", count: 2 << 20) + #"","qty":1}"#)
            #expect(huge.status == .contentTooLarge)
            let noKey = try await client.send(.post, "/v1/events", token: server.ingest, json: #"{"type":"order.confirmed","sku":"TEE-RED-M","qty":1}"#)
            #expect(value(try noKey.object(), "field") as? String == "Idempotency-Key")
            #expect(server.env.ledger.snapshot.seller("demo")!.lastSequence == before)
            let route = try await client.send(.get, "/v1/nothing-here", token: server.read)
            #expect(route.status == .notFound)
            #expect(route.headers[.contentType] == "application/problem+json")
        }
    }
}
