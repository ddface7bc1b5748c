import Crypto
import Glibc
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import ServiceLifecycle
import ShelfCore
import ShelfLedger
@testable import ShelfServer
import Synchronization
import Testing

/// A webhook receiver on loopback: records every delivery, and answers each path with a status the test chooses (or holds
/// requests at a gate until the test opens it).
final class WatchReceiver: Sendable {
    /// One request as it arrived.
    struct Delivery: Sendable {
        var path: String
        var headers: [String: String]
        var body: [UInt8]
        var receivedAt: Date

        var object: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
        var id: String { headers["shelf-delivery-id"] ?? "" }
    }

    struct State {
        var deliveries: [Delivery] = []
        /// Status per path (200 when absent).
        var status: [String: Int] = [:]
        /// Requests to fail with 503 before answering `status`, per path.
        var failNext: [String: Int] = [:]
        /// Paths whose requests wait until the gate opens.
        var gated: Set<String> = []
    }

    let state = Mutex(State())
    let port = Mutex<Int?>(nil)

    func url(_ path: String) -> String { "http://127.0.0.1:\(port.withLock { $0 }!)\(path)" }

    /// Answered (not failed) deliveries to `path`, in arrival order.
    func accepted(_ path: String) -> [Delivery] {
        state.withLock { s in s.deliveries.filter { $0.path == path && $0.headers["x-answer"] == "200" } }
    }

    /// Every request to `path`, answered or failed.
    func attempts(_ path: String) -> [Delivery] { state.withLock { s in s.deliveries.filter { $0.path == path } } }

    func set(_ path: String, status: Int) { state.withLock { $0.status[path] = status } }
    func failNext(_ path: String, _ count: Int) { state.withLock { $0.failNext[path] = count } }
    func gate(_ path: String, closed: Bool) {
        state.withLock { s in
            if closed { s.gated.insert(path) } else { s.gated.remove(path) }
        }
    }

    func handle(_ request: Request) async throws -> HTTPResponse.Status {
        let path = request.uri.path
        while state.withLock({ $0.gated.contains(path) }) { try await Task.sleep(for: .milliseconds(5)) }
        let body = try await request.body.collect(upTo: 1 << 20)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let status = state.withLock { s -> Int in
            if let n = s.failNext[path], n > 0 {
                s.failNext[path] = n - 1
                return 503
            }
            return s.status[path] ?? 200
        }
        headers["x-answer"] = String(status)
        state.withLock { $0.deliveries.append(Delivery(path: path, headers: headers, body: Array(body.readableBytesView), receivedAt: Date())) }
        return HTTPResponse.Status(code: status)
    }

    /// Runs the receiver and a Shelf server with the watch service, then `body`.
    static func run(policy: WatchPolicy = WatchPolicy(maxWatchesPerToken: 20, maxSKUsPerWatch: 10, maxAttempts: 4, baseDelay: 0.02,
                                                      maxDelay: 0.1, requestTimeout: .seconds(2), pauseAfter: 3600),
                    database: String? = nil, receiverPort: Int = 0,
                    _ body: @Sendable @escaping (WatchReceiver, TestServer, any TestClientProtocol) async throws -> Void) async throws {
        let receiver = WatchReceiver()
        let router = Router()
        router.post("/**") { request, _ in try await receiver.handle(request) }
        let sink = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: receiverPort)),
                               onServerRunning: { channel in receiver.port.withLock { $0 = channel.localAddress?.port } })
        let sinkGroup = ServiceGroup(services: [sink], logger: Logger(label: "receiver"))
        let server = try await TestServer.make(clock: SystemWallClock(), database: database, watchPolicy: policy)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await sinkGroup.run() }
            for _ in 0..<500 where receiver.port.withLock({ $0 }) == nil { try await Task.sleep(for: .milliseconds(10)) }
            try #require(receiver.port.withLock { $0 } != nil)
            let services = ServiceGroup(services: [server.env.curl, server.env.watchDelivery], logger: Logger(label: "shelf"))
            group.addTask { try await services.run() }
            try await server.run { client in try await body(receiver, server, client) }
            await services.triggerGracefulShutdown()
            await sinkGroup.triggerGracefulShutdown()
            try await group.waitForAll()
        }
    }
}

/// Waits until `condition` holds (polling), failing after `seconds`.
func eventually(_ what: String, within seconds: Double = 20, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    Issue.record("timed out waiting for \(what)")
    throw CancellationError()
}

extension TestClientProtocol {
    /// Creates a SKU of the demo seller with `onHand` units at reno and a price in cents.
    func putSKU(_ sku: String, onHand: Int, price: Int = 2000, product: String = "P-WATCH", token: String) async throws {
        let body = #"{"productId":"\#(product)","title":"Watched","price":{"amount":\#(price),"currency":"USD"},"levels":[{"location":"reno","onHand":\#(onHand)}]}"#
        let r = try await send(.put, "/v1/skus/\(sku)", token: token, json: body)
        #expect(r.status == .ok, "\(r.text)")
    }

    /// Sets the on-hand count of a SKU at reno.
    func stockSet(_ sku: String, _ qty: Int, token: String) async throws {
        let r = try await send(.post, "/v1/events", token: token, json: #"{"type":"stock.set","sku":"\#(sku)","qty":\#(qty),"location":"reno"}"#,
                               headers: ["Idempotency-Key": UUID().uuidString])
        #expect(r.status.code < 300, "\(r.text)")
    }

    func priceSet(_ sku: String, _ amount: Int, token: String) async throws {
        let r = try await send(.post, "/v1/events", token: token,
                               json: #"{"type":"price.changed","sku":"\#(sku)","price":{"amount":\#(amount),"currency":"USD"}}"#,
                               headers: ["Idempotency-Key": UUID().uuidString])
        #expect(r.status.code < 300, "\(r.text)")
    }

    /// Creates a watch and returns its JSON.
    func watch(_ json: String, token: String) async throws -> [String: Any] {
        let r = try await send(.post, "/v1/watches", token: token, json: json)
        #expect(r.status == .created, "\(r.text)")
        return try r.object()
    }
}

/// The body of a watch on `skus` with `conditions` (JSON array text) delivering to `url`.
func watchJSON(skus: [String], conditions: String, url: String, secret: String = "test-secret-0123456789", extra: String = "") -> String {
    let list = skus.map { JSONText.quoted($0) }.joined(separator: ",")
    return #"{"skus":[\#(list)],"conditions":\#(conditions),"target":{"url":"\#(url)","secret":"\#(secret)"}\#(extra)}"#
}

@Suite("Watches: agents subscribe to changes", .serialized)
struct WatchTests {
    @Test("create, list, show, delete; another seller's watch is invisible; bad input and limits are clear problems")
    func lifecycleIsolationAndLimits() async throws {
        let policy = WatchPolicy(maxWatchesPerToken: 2, maxSKUsPerWatch: 2, maxAttempts: 2, baseDelay: 0.01, maxDelay: 0.05)
        try await WatchReceiver.run(policy: policy) { receiver, server, client in
            try await client.putSKU("W-LIFE-1", onHand: 0, token: server.admin)
            let url = receiver.url("/life")
            let created = try await client.watch(watchJSON(skus: ["W-LIFE-1", "W-LIFE-1"], conditions: #"[{"type":"back_in_stock"}]"#, url: url),
                                                 token: server.read)
            let id = try #require(created["id"] as? String)
            #expect(id.hasPrefix("watch_"))
            #expect(value(created, "target.secret") as? String == "test-secret-0123456789")
            #expect(created["skus"] as? [String] == ["W-LIFE-1"])
            #expect(value(created, "conditions.0.qty") as? Int == 1)
            #expect(created["status"] as? String == "active")

            let listed = try await client.send(.get, "/v1/watches", token: server.read).object()
            let watches = try #require(listed["watches"] as? [[String: Any]])
            #expect(watches.map { $0["id"] as? String } == [id])
            #expect(value(watches[0], "target.secret") == nil)
            #expect(try await client.send(.get, "/v1/watches/\(id)", token: server.read).status == .ok)

            // The other seller sees none of it, and cannot watch the demo seller's SKU.
            let other = try await client.send(.get, "/v1/watches", token: server.otherAdmin).object()
            #expect((other["watches"] as? [Any])?.isEmpty == true)
            #expect(try await client.send(.get, "/v1/watches/\(id)", token: server.otherAdmin).status == .notFound)
            #expect(try await client.send(.delete, "/v1/watches/\(id)", token: server.otherAdmin).status == .notFound)
            #expect(try await client.send(.get, "/v1/watches/\(id)/deliveries", token: server.otherAdmin).status == .notFound)
            let foreign = try await client.send(.post, "/v1/watches", token: server.otherAdmin,
                                                json: watchJSON(skus: ["W-LIFE-1"], conditions: #"[{"type":"any_change"}]"#, url: url))
            #expect(foreign.status.code == 422)
            #expect(try foreign.object()["field"] as? String == "skus[0]")

            // Bad input: the field and the reason.
            func problem(_ json: String) async throws -> (Int, String?) {
                let r = try await client.send(.post, "/v1/watches", token: server.read, json: json)
                return (Int(r.status.code), try r.object()["field"] as? String)
            }
            #expect(try await problem(watchJSON(skus: ["W-LIFE-1"], conditions: #"[{"type":"any_change"}]"#, url: "http://example.com/x")) == (422, "target.url"))
            #expect(try await problem(watchJSON(skus: ["W-LIFE-1"], conditions: #"[{"type":"any_change"}]"#, url: "ftp://127.0.0.1/x")) == (422, "target.url"))
            #expect(try await problem(watchJSON(skus: ["W-LIFE-1"], conditions: #"[{"type":"any_change"}]"#, url: url, secret: "short")) == (422, "target.secret"))
            #expect(try await problem(watchJSON(skus: ["W-LIFE-1"], conditions: "[]", url: url)) == (422, "conditions"))
            #expect(try await problem(watchJSON(skus: ["W-LIFE-1"], conditions: #"[{"type":"stock_below","qty":0}]"#, url: url)) == (422, "conditions[0].qty"))
            #expect(try await problem(watchJSON(skus: ["W-LIFE-1"], conditions: #"[{"type":"price_at_or_below"}]"#, url: url)) == (422, "conditions[0].price"))
            #expect(try await problem(watchJSON(skus: ["W-LIFE-1"], conditions: #"[{"type":"price_at_or_below","price":{"amount":5,"currency":"XXQ"}}]"#, url: url))
                    == (422, "conditions[0].price.currency"))
            #expect(try await problem(watchJSON(skus: ["W-LIFE-1"], conditions: #"[{"type":"delivery_window_changed"}]"#, url: url)) == (422, "destination"))
            #expect(try await problem(watchJSON(skus: ["W-LIFE-1"], conditions: #"[{"type":"any_change"},{"type":"any_change"}]"#, url: url))
                    == (422, "conditions[1].type"))
            #expect(try await problem(watchJSON(skus: ["NOPE"], conditions: #"[{"type":"any_change"}]"#, url: url)) == (422, "skus[0]"))
            #expect(try await problem(watchJSON(skus: ["W-LIFE-1"], conditions: #"[{"type":"any_change"}]"#, url: url, extra: #","productId":"P-WATCH""#))
                    == (422, "productId"))
            #expect(try await problem(#"{"conditions":[{"type":"any_change"}],"target":{"url":"\#(url)"},"bogus":1}"#).0 == 422)
            // Limits: SKUs per watch (413), watches per token (409); nothing is stored by a refused request.
            try await client.putSKU("W-LIFE-2", onHand: 1, token: server.admin)
            try await client.putSKU("W-LIFE-3", onHand: 1, product: "P-WATCH-3", token: server.admin)
            #expect(try await problem(watchJSON(skus: ["W-LIFE-1", "W-LIFE-2", "W-LIFE-3"], conditions: #"[{"type":"any_change"}]"#, url: url))
                    == (413, "skus"))
            let second = try await client.watch(#"{"productId":"P-WATCH","conditions":[{"type":"any_change"}],"target":{"url":"\#(url)"}}"#,
                                                token: server.read)
            #expect((value(second, "target.secret") as? String)?.hasPrefix("whsec_") == true)
            let third = try await client.send(.post, "/v1/watches", token: server.read,
                                              json: watchJSON(skus: ["W-LIFE-2"], conditions: #"[{"type":"any_change"}]"#, url: url))
            #expect(third.status == .conflict)
            #expect(try await client.send(.get, "/v1/watches", token: server.read).object()["watches"].map { ($0 as? [Any])?.count } == 2)
            // Another token of the same seller has its own allowance.
            #expect(try await client.send(.post, "/v1/watches", token: server.ingest,
                                          json: watchJSON(skus: ["W-LIFE-2"], conditions: #"[{"type":"any_change"}]"#, url: url)).status == .created)

            #expect(try await client.send(.delete, "/v1/watches/\(id)", token: server.read).status == .noContent)
            #expect(try await client.send(.get, "/v1/watches/\(id)", token: server.read).status == .notFound)
            #expect(try await client.send(.delete, "/v1/watches/\(id)", token: server.read).status == .notFound)
        }
    }

    @Test("each condition fires on its transition and not while its state lasts; any_change fires on every change")
    func conditionsFireOnTransitions() async throws {
        try await WatchReceiver.run { receiver, server, client in
            let (ingest, admin) = (server.ingest, server.admin)
            try await client.putSKU("W-COND-1", onHand: 0, price: 2000, token: admin)
            try await client.putSKU("W-COND-SENTINEL", onHand: 0, token: admin)
            let sentinel = #"{"type":"any_change"}"#
            _ = try await client.watch(watchJSON(skus: ["W-COND-1", "W-COND-SENTINEL"], conditions: "[\(sentinel)]",
                                                 url: receiver.url("/any")), token: server.read)
            _ = try await client.watch(watchJSON(skus: ["W-COND-1", "W-COND-SENTINEL"],
                                                 conditions: #"[{"type":"back_in_stock","qty":3}]"#, url: receiver.url("/back")), token: server.read)
            _ = try await client.watch(watchJSON(skus: ["W-COND-1"], conditions: #"[{"type":"stock_below","qty":2}]"#, url: receiver.url("/low")),
                                       token: server.read)
            _ = try await client.watch(watchJSON(skus: ["W-COND-1"],
                                                 conditions: #"[{"type":"price_at_or_below","price":{"amount":1500,"currency":"USD"}}]"#,
                                                 url: receiver.url("/price")), token: server.read)
            func types(_ path: String) -> [String] { receiver.accepted(path).compactMap { $0.object["type"] as? String } }

            // 0 → 2: below the back-in-stock quantity; any_change fires, back_in_stock does not.
            try await client.stockSet("W-COND-1", 2, token: ingest)
            try await eventually("any_change for 2") { receiver.accepted("/any").count == 1 }
            // 2 → 5: back in stock (crosses 3).
            try await client.stockSet("W-COND-1", 5, token: ingest)
            try await eventually("back in stock") { receiver.accepted("/back").count == 1 }
            let back = receiver.accepted("/back")[0].object
            #expect(back["type"] as? String == "product_availability_updated")
            #expect(back["sku"] as? String == "W-COND-1")
            #expect(value(back, "offer.stock.available") as? Int == 5)
            #expect(value(back, "offer.freshness.asOf") != nil && value(back, "offer.confidence") != nil)
            // 5 → 9: still in stock, back_in_stock does not fire again; then a sentinel change for the same watch proves the
            // lane has passed that point.
            try await client.stockSet("W-COND-1", 9, token: ingest)
            try await client.stockSet("W-COND-SENTINEL", 4, token: ingest)
            try await eventually("the sentinel on /back") { receiver.accepted("/back").count == 2 }
            #expect(receiver.accepted("/back").map { $0.object["sku"] as? String } == ["W-COND-1", "W-COND-SENTINEL"])
            try await eventually("any_change for 5, 9 and the sentinel") { receiver.accepted("/any").count == 4 }
            #expect(types("/any") == ["product_availability_updated", "product_inventory_updated", "product_inventory_updated",
                                      "product_availability_updated"])
            // 9 → 1: falls below 2.
            try await client.stockSet("W-COND-1", 1, token: ingest)
            try await eventually("stock below") { receiver.accepted("/low").count == 1 }
            #expect(types("/low") == ["product_inventory_updated"])
            #expect(value(receiver.accepted("/low")[0].object, "offer.stock.available") as? Int == 1)
            // Price 2000 → 1800: not at or below 1500; → 1500: fires; → 1200: stays below, no second firing; sentinel via /any.
            try await client.priceSet("W-COND-1", 1800, token: ingest)
            try await client.priceSet("W-COND-1", 1500, token: ingest)
            try await eventually("price at or below") { receiver.accepted("/price").count == 1 }
            let price = receiver.accepted("/price")[0].object
            #expect(price["type"] as? String == "product_price_updated")
            #expect(value(price, "offer.price.amount") as? Int == 1500)
            try await client.priceSet("W-COND-1", 1200, token: ingest)
            try await eventually("any_change saw the last price") {
                receiver.accepted("/any").last.flatMap { value($0.object, "offer.price.amount") as? Int } == 1200
            }
            // The price watch's lane is idle and nothing further fired on it.
            try await eventually("price lane idle") {
                let listed = try await client.send(.get, "/v1/watches", token: server.read).object()["watches"] as? [[String: Any]] ?? []
                return listed.allSatisfy { $0["queued"] as? Int == 0 }
            }
            #expect(receiver.accepted("/price").count == 1)
            #expect(receiver.accepted("/low").count == 1)
            #expect(receiver.accepted("/back").count == 2)
        }
    }

    @Test("a burst of 200 changes while the target is busy yields one more delivery, of the latest state")
    func burstCoalesces() async throws {
        // A long request timeout: the first delivery waits at the gate while the burst is sent.
        let policy = WatchPolicy(maxWatchesPerToken: 10, maxSKUsPerWatch: 10, maxAttempts: 2, baseDelay: 0.01, maxDelay: 0.05,
                                 requestTimeout: .seconds(120))
        try await WatchReceiver.run(policy: policy) { receiver, server, client in
            try await client.putSKU("W-BURST", onHand: 0, token: server.admin)
            try await client.putSKU("W-BURST-SENTINEL", onHand: 0, token: server.admin)
            receiver.gate("/burst", closed: true)
            let watch = try await client.watch(watchJSON(skus: ["W-BURST"], conditions: #"[{"type":"any_change"}]"#, url: receiver.url("/burst")),
                                               token: server.read)
            let id = try #require(watch["id"] as? String)
            _ = try await client.watch(watchJSON(skus: ["W-BURST-SENTINEL"], conditions: #"[{"type":"any_change"}]"#, url: receiver.url("/sentinel")),
                                       token: server.read)
            func queued() async throws -> Int? { try await client.send(.get, "/v1/watches/\(id)", token: server.read).object()["queued"] as? Int }
            try await client.stockSet("W-BURST", 1, token: server.ingest)
            // The first delivery is being attempted (held at the gate); the rest of the burst queues behind it.
            try await eventually("first delivery in flight") {
                let waiting = try await queued()
                return receiver.state.withLock { $0.deliveries.isEmpty } && waiting == 1
            }
            for qty in 2...200 { try await client.stockSet("W-BURST", qty, token: server.ingest) }
            // Changes are judged in commit order: once the sentinel's later change is delivered, the whole burst was judged.
            try await client.stockSet("W-BURST-SENTINEL", 1, token: server.ingest)
            try await eventually("sentinel") { receiver.accepted("/sentinel").count == 1 }
            #expect(try await queued() == 2)
            receiver.gate("/burst", closed: false)
            try await eventually("two deliveries") { receiver.accepted("/burst").count == 2 }
            try await eventually("lane idle") { try await queued() == 0 }
            #expect(value(receiver.accepted("/burst")[0].object, "offer.stock.available") != nil)
            #expect(value(receiver.accepted("/burst")[1].object, "offer.stock.available") as? Int == 200)
            #expect(receiver.attempts("/burst").count == 2)
        }
    }

    @Test("deliveries are signed: the HMAC over t.body verifies, a tampered body or an old timestamp does not")
    func signatures() async throws {
        try await WatchReceiver.run { receiver, server, client in
            try await client.putSKU("W-SIG", onHand: 0, token: server.admin)
            let secret = "sig-secret-abcdefghijklmnop"
            _ = try await client.watch(watchJSON(skus: ["W-SIG"], conditions: #"[{"type":"back_in_stock"}]"#, url: receiver.url("/sig"), secret: secret),
                                       token: server.read)
            try await client.stockSet("W-SIG", 4, token: server.ingest)
            try await eventually("signed delivery") { receiver.accepted("/sig").count == 1 }
            let delivery = receiver.accepted("/sig")[0]
            let header = try #require(delivery.headers["shelf-signature"])
            let parts = Dictionary(uniqueKeysWithValues: header.split(separator: ",").map { p -> (String, String) in
                let kv = p.split(separator: "=", maxSplits: 1)
                return (String(kv[0]), String(kv[1]))
            })
            let t = try #require(parts["t"].flatMap { Int64($0) })
            #expect(abs(Date().timeIntervalSince1970 - Double(t)) < WatchSignature.replayWindow)
            func mac(_ body: [UInt8]) -> String {
                let message = Array("\(t).".utf8) + body
                return HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Data(secret.utf8))).map { String(format: "%02x", $0) }.joined()
            }
            #expect(parts["v1"] == mac(delivery.body))
            var tampered = delivery.body
            tampered[tampered.count / 2] ^= 0x01
            #expect(parts["v1"] != mac(tampered))
            #expect(WatchSignature.verify(header: header, body: delivery.body, secret: secret, now: Date()))
            #expect(!WatchSignature.verify(header: header, body: tampered, secret: secret, now: Date()))
            #expect(!WatchSignature.verify(header: header, body: delivery.body, secret: secret + "x", now: Date()))
            #expect(!WatchSignature.verify(header: header, body: delivery.body, secret: secret, now: Date().addingTimeInterval(WatchSignature.replayWindow + 5)))
            #expect(delivery.headers["shelf-event"] == "product_availability_updated")
            #expect(delivery.headers["content-type"] == "application/json")
            #expect(delivery.object["id"] as? String == delivery.id)
            // Keys are sorted and the offer is the offers API's (same fields).
            let offer = try await client.send(.get, "/v1/offers/W-SIG", token: server.read).object()
            #expect(Set((delivery.object["offer"] as? [String: Any])?.keys.map { $0 } ?? []) == Set(offer.keys))
            #expect(String(decoding: delivery.body, as: UTF8.self).hasPrefix(#"{"changedAt":"#))
        }
    }

    @Test("a failing target is retried with the same delivery id until it answers 2xx")
    func retriesThenSuccess() async throws {
        try await WatchReceiver.run { receiver, server, client in
            try await client.putSKU("W-RETRY", onHand: 0, token: server.admin)
            receiver.failNext("/retry", 2)
            let watch = try await client.watch(watchJSON(skus: ["W-RETRY"], conditions: #"[{"type":"back_in_stock"}]"#, url: receiver.url("/retry")),
                                               token: server.read)
            try await client.stockSet("W-RETRY", 3, token: server.ingest)
            try await eventually("delivered after two failures") { receiver.accepted("/retry").count == 1 }
            let attempts = receiver.attempts("/retry")
            #expect(attempts.map { $0.headers["x-answer"] } == ["503", "503", "200"])
            #expect(Set(attempts.map(\.id)).count == 1)
            let id = try #require(watch["id"] as? String)
            let page = try await client.send(.get, "/v1/watches/\(id)/deliveries", token: server.read).object()
            #expect((page["deadLetters"] as? [Any])?.isEmpty == true)
            #expect(page["status"] as? String == "active")
        }
    }

    @Test("a target failing every attempt gets a dead letter; replay delivers the current state once the target is back")
    func deadLetterAndReplay() async throws {
        try await WatchReceiver.run { receiver, server, client in
            try await client.putSKU("W-DLQ", onHand: 0, token: server.admin)
            receiver.set("/dlq", status: 500)
            let watch = try await client.watch(watchJSON(skus: ["W-DLQ"], conditions: #"[{"type":"any_change"}]"#, url: receiver.url("/dlq")),
                                               token: server.read)
            let id = try #require(watch["id"] as? String)
            try await client.stockSet("W-DLQ", 3, token: server.ingest)
            var letters: [[String: Any]] = []
            try await eventually("dead letter") {
                letters = try await client.send(.get, "/v1/watches/\(id)/deliveries", token: server.read).object()["deadLetters"] as? [[String: Any]] ?? []
                return letters.count == 1
            }
            #expect(receiver.attempts("/dlq").count == 4)
            #expect(letters[0]["sku"] as? String == "W-DLQ")
            #expect(letters[0]["attempts"] as? Int == 4)
            #expect(letters[0]["lastError"] as? String == "HTTP 500")
            #expect(letters[0]["type"] as? String == "product_availability_updated")
            try await client.stockSet("W-DLQ", 7, token: server.ingest)
            try await eventually("second dead letter replaces the first") {
                let page = try await client.send(.get, "/v1/watches/\(id)/deliveries", token: server.read).object()
                let letters = page["deadLetters"] as? [[String: Any]] ?? []
                return letters.count == 1 && letters[0]["type"] as? String == "product_inventory_updated" && receiver.attempts("/dlq").count == 8
            }
            receiver.set("/dlq", status: 200)
            let replay = try await client.send(.post, "/v1/watches/\(id)/deliveries:replay", token: server.read)
            #expect(replay.status == .accepted)
            #expect(try replay.object()["replayed"] as? Int == 1)
            try await eventually("replayed delivery") { receiver.accepted("/dlq").count == 1 }
            #expect(value(receiver.accepted("/dlq")[0].object, "offer.stock.available") as? Int == 7)
            let after = try await client.send(.get, "/v1/watches/\(id)/deliveries", token: server.read).object()
            #expect((after["deadLetters"] as? [Any])?.isEmpty == true)
        }
    }

    @Test("a target that keeps failing is paused with a reason while another watch's target still gets every delivery")
    func failingTargetPausedOthersUnaffected() async throws {
        let policy = WatchPolicy(maxWatchesPerToken: 10, maxSKUsPerWatch: 10, maxAttempts: 3, baseDelay: 0.05, maxDelay: 0.1,
                                 requestTimeout: .seconds(2), pauseAfter: 0.3)
        try await WatchReceiver.run(policy: policy) { receiver, server, client in
            try await client.putSKU("W-PAUSE", onHand: 0, token: server.admin)
            receiver.set("/down", status: 503)
            let down = try #require(try await client.watch(watchJSON(skus: ["W-PAUSE"], conditions: #"[{"type":"any_change"}]"#, url: receiver.url("/down")),
                                                           token: server.read)["id"] as? String)
            _ = try await client.watch(watchJSON(skus: ["W-PAUSE"], conditions: #"[{"type":"any_change"}]"#, url: receiver.url("/up")), token: server.read)
            var qty = 1
            // Keep changing the SKU until the failing watch is paused; the healthy target sees each change.
            try await eventually("paused") {
                try await client.stockSet("W-PAUSE", qty, token: server.ingest)
                qty += 1
                try await Task.sleep(for: .milliseconds(50))
                let w = try await client.send(.get, "/v1/watches/\(down)", token: server.read).object()
                return w["status"] as? String == "paused"
            }
            let paused = try await client.send(.get, "/v1/watches/\(down)", token: server.read).object()
            #expect((paused["pausedReason"] as? String)?.contains("have failed since") == true)
            #expect(paused["pausedAt"] != nil)
            let attemptsWhenPaused = receiver.attempts("/down").count
            // Changes after the pause: the healthy target gets them; the paused one gets no attempts, only dead letters.
            try await client.stockSet("W-PAUSE", 1000, token: server.ingest)
            try await eventually("healthy target saw 1000") {
                receiver.accepted("/up").last.flatMap { value($0.object, "offer.stock.available") as? Int } == 1000
            }
            #expect(receiver.attempts("/up").allSatisfy { $0.headers["x-answer"] == "200" })
            try await eventually("the paused watch dead-lettered the change") {
                let page = try await client.send(.get, "/v1/watches/\(down)/deliveries", token: server.read).object()
                return (page["deadLetters"] as? [[String: Any]])?.first.map { ($0["lastError"] as? String)?.hasPrefix("paused") == true } == true
            }
            #expect(receiver.attempts("/down").count == attemptsWhenPaused)
            // Replay resumes it.
            receiver.set("/down", status: 200)
            #expect(try await client.send(.post, "/v1/watches/\(down)/deliveries:replay", token: server.read).status == .accepted)
            try await eventually("delivered after resume") { receiver.accepted("/down").count == 1 }
            #expect(try await client.send(.get, "/v1/watches/\(down)", token: server.read).object()["status"] as? String == "active")
        }
    }

    @Test("a watch never sees another seller's SKU of the same name")
    func sellerIsolationAndProductWatch() async throws {
        try await WatchReceiver.run { receiver, server, client in
            // Both sellers have a TEE-RED-M; the demo seller's watch names it.
            _ = try await client.watch(watchJSON(skus: ["TEE-RED-M"], conditions: #"[{"type":"any_change"}]"#, url: receiver.url("/mine")),
                                       token: server.read)
            let other = try await client.send(.post, "/v1/events", token: server.otherAdmin,
                                              json: #"{"type":"stock.set","sku":"TEE-RED-M","qty":123,"location":"main"}"#,
                                              headers: ["Idempotency-Key": UUID().uuidString])
            #expect(other.status.code < 300, "\(other.text)")
            try await client.stockSet("TEE-RED-M", 77, token: server.ingest)
            try await eventually("the demo seller's own change") { receiver.accepted("/mine").count == 1 }
            let delivered = receiver.accepted("/mine")[0].object
            #expect(value(delivered, "offer.stock.available") as? Int != 123)
            #expect(receiver.attempts("/mine").count == 1)
        }
    }

    @Test("a product watch fires for its variants, including one added after the watch")
    func productWatchCoversNewVariants() async throws {
        try await WatchReceiver.run { receiver, server, client in
            try await client.putSKU("W-PROD-A", onHand: 0, product: "P-PROD", token: server.admin)
            _ = try await client.watch(#"{"productId":"P-PROD","conditions":[{"type":"back_in_stock"}],"target":{"url":"\#(receiver.url("/p"))"}}"#,
                                       token: server.read)
            try await client.putSKU("W-PROD-B", onHand: 0, product: "P-PROD", token: server.admin)
            try await client.stockSet("W-PROD-B", 2, token: server.ingest)
            try await client.stockSet("W-PROD-A", 3, token: server.ingest)
            try await eventually("both variants back in stock") { receiver.accepted("/p").count == 2 }
            #expect(receiver.accepted("/p").map { $0.object["sku"] as? String } == ["W-PROD-B", "W-PROD-A"])
        }
    }

    @Test("through a target's outage every change is retried or dead-lettered, and a replay delivers every SKU")
    func outageLosesNothing() async throws {
        try await WatchReceiver.run { receiver, server, client in
            let skus = (0..<10).map { "W-OUT-\($0)" }
            for sku in skus { try await client.putSKU(sku, onHand: 0, token: server.admin) }
            receiver.set("/out", status: 503)
            let id = try #require(try await client.watch(watchJSON(skus: skus, conditions: #"[{"type":"any_change"}]"#, url: receiver.url("/out")),
                                                         token: server.read)["id"] as? String)
            for (i, sku) in skus.enumerated() { try await client.stockSet(sku, i + 1, token: server.ingest) }
            var lettered: Set<String> = []
            try await eventually("every change dead-lettered") {
                let page = try await client.send(.get, "/v1/watches/\(id)/deliveries", token: server.read).object()
                lettered = Set((page["deadLetters"] as? [[String: Any]] ?? []).compactMap { $0["sku"] as? String })
                return lettered.count == skus.count && page["queued"] as? Int == 0
            }
            #expect(lettered == Set(skus))
            #expect(receiver.accepted("/out").isEmpty)
            receiver.set("/out", status: 200)
            let replay = try await client.send(.post, "/v1/watches/\(id)/deliveries:replay", token: server.read)
            #expect(try replay.object()["replayed"] as? Int == skus.count)
            try await eventually("every SKU delivered") { receiver.accepted("/out").count == skus.count }
            let stocks = Dictionary(uniqueKeysWithValues: receiver.accepted("/out").map {
                ($0.object["sku"] as? String ?? "", value($0.object, "offer.stock.available") as? Int ?? -1)
            })
            #expect(stocks == Dictionary(uniqueKeysWithValues: skus.enumerated().map { ($1, $0 + 1) }))
        }
    }

    @Test("watches survive a restart and fire afterwards")
    func survivesRestart() async throws {
        let database = FileManager.default.temporaryDirectory.appendingPathComponent("shelf-watch-\(UUID().uuidString)/shelf.sqlite").path
        let id = Mutex<String?>(nil)
        let path = "/restart"
        try await WatchReceiver.run(database: database) { receiver, server, client in
            try await client.putSKU("W-RESTART", onHand: 0, token: server.admin)
            let w = try await client.watch(watchJSON(skus: ["W-RESTART"], conditions: #"[{"type":"back_in_stock","qty":2}]"#,
                                                     url: receiver.url(path)), token: server.read)
            id.withLock { $0 = w["id"] as? String }
        }
        try await WatchReceiver.run(database: database) { receiver, server, client in
            let watchId = try #require(id.withLock { $0 })
            let shown = try await client.send(.get, "/v1/watches/\(watchId)", token: server.read)
            #expect(shown.status == .ok)
            // The new receiver listens on another port: the stored target is the old one, so point a new watch here too and
            // check the old watch is still judged (its delivery fails and is dead-lettered, with few attempts).
            _ = try await client.watch(watchJSON(skus: ["W-RESTART"], conditions: #"[{"type":"back_in_stock","qty":2}]"#, url: receiver.url(path)),
                                       token: server.read)
            try await client.stockSet("W-RESTART", 5, token: server.ingest)
            try await eventually("the new watch fired") { receiver.accepted(path).count == 1 }
            try await eventually("the restored watch fired (and its old target is gone)") {
                let page = try await client.send(.get, "/v1/watches/\(watchId)/deliveries", token: server.read).object()
                return (page["deadLetters"] as? [[String: Any]])?.first?["sku"] as? String == "W-RESTART"
            }
        }
    }
    @Test("a change judged while a watch is being stored still fires for it, once")
    func watchStoredDuringAJudgedBatch() async throws {
        try await WatchReceiver.run { receiver, server, client in
            let sku = "W-RACE"
            try await client.putSKU(sku, onHand: 0, token: server.admin)
            // A watch made the usual way on the same SKU: its delivery shows the change below has been judged.
            let sentinel = try await client.watch(watchJSON(skus: [sku], conditions: #"[{"type":"back_in_stock"}]"#, url: receiver.url("/sentinel")),
                                                  token: server.read)
            let service = server.env.watchDelivery
            let sentinelId = try #require(sentinel["id"] as? String)
            let stored = try #require(try await server.env.watches.watch(id: sentinelId, seller: "demo"))
            var raced = stored
            raced.id = "watch_race0000000001"
            raced.url = receiver.url("/raced")
            // Stored with its baseline (out of stock) ...
            let seller = try #require(server.env.ledger.snapshot.seller("demo"))
            let position = seller.lastSequence
            let spec = try ShelfJSON.decoder().decode(WatchSpec.self, from: Data(raced.spec.utf8))
            let baseline = WatchDeliveryService.baseline(spec, filter: nil, seller: seller, now: Date())
            #expect(try await server.env.watches.insert(raced, observations: baseline, position: position, limitPerToken: 20))
            // ... then the SKU comes back in stock and that batch is judged before the watch is registered.
            try await client.stockSet(sku, 3, token: server.ingest)
            try await eventually("the sentinel fired") { receiver.accepted("/sentinel").count == 1 }
            await service.register(raced, baseline: baseline, at: position)
            try await eventually("the raced watch fired") { receiver.accepted("/raced").count == 1 }
            let first = try #require(receiver.accepted("/raced").first)
            #expect(value(first.object, "offer.stock.available") as? Int == 3)
            // Later transitions fire once each for both watches.
            try await client.stockSet(sku, 0, token: server.ingest)
            try await client.stockSet(sku, 5, token: server.ingest)
            try await eventually("both fired again") { receiver.accepted("/sentinel").count == 2 && receiver.accepted("/raced").count == 2 }
            try await Task.sleep(for: .milliseconds(200))
            #expect(receiver.accepted("/raced").count == 2)
            #expect(receiver.accepted("/sentinel").count == 2)
        }
    }

    @Test("non-public targets are refused at creation; a server not listening on loopback checks the connected address at delivery")
    func targetAddresses() async throws {
        let database = FileManager.default.temporaryDirectory.appendingPathComponent("shelf-watch-\(UUID().uuidString)/shelf.sqlite").path
        let id = Mutex<String?>(nil)
        // A loopback port whose connections the kernel completes but nobody reads: a delivery that got through the address
        // check would connect, send, and time out waiting for an answer.
        let listener = try LoopbackBacklog()
        defer { listener.close() }
        let target = "http://127.0.0.1:\(listener.port)/addresses"
        try await WatchReceiver.run(database: database) { receiver, server, client in
            func problem(_ url: String) async throws -> (Int, String?, String) {
                let r = try await client.send(.post, "/v1/watches", token: server.read,
                                              json: watchJSON(skus: ["W-ADDR"], conditions: #"[{"type":"any_change"}]"#, url: url))
                let object = try r.object()
                return (Int(r.status.code), object["field"] as? String, object["detail"] as? String ?? "")
            }
            try await client.putSKU("W-ADDR", onHand: 1, token: server.admin)
            for url in ["https://169.254.169.254/latest/meta-data", "https://10.1.2.3/hook", "https://172.20.0.1/hook", "https://192.168.1.1/hook",
                        "https://100.64.0.1/hook", "https://0.0.0.0/hook", "https://[fd00::1]/hook", "https://[fe80::1]/hook",
                        "https://[::ffff:10.0.0.1]/hook", "https://224.0.0.1/hook"] {
                let (status, field, detail) = try await problem(url)
                #expect(status == 422 && field == "target.url" && detail.contains("non-public"), "\(url): \(status) \(detail)")
            }
            // Public literals and names pass the creation check (nothing is sent until a change fires).
            let publicWatch = try await client.watch(watchJSON(skus: ["W-ADDR"], conditions: #"[{"type":"stock_below","qty":1}]"#,
                                                               url: "https://93.184.215.14/hook"), token: server.read)
            #expect(publicWatch["id"] is String)
            let w = try await client.watch(watchJSON(skus: ["W-ADDR"], conditions: #"[{"type":"any_change"}]"#, url: target), token: server.read)
            id.withLock { $0 = w["id"] as? String }
        }
        // The same database served by a server that does not allow loopback targets (as `shelf serve` on a public address).
        var closed = WatchPolicy(maxAttempts: 2, baseDelay: 0.01, maxDelay: 0.05)
        closed.allowLoopbackTargets = false
        try await WatchReceiver.run(policy: closed, database: database) { receiver, server, client in
            let r = try await client.send(.post, "/v1/watches", token: server.read,
                                          json: watchJSON(skus: ["W-ADDR"], conditions: #"[{"type":"any_change"}]"#, url: receiver.url("/addresses")))
            let detail = try r.object()["detail"] as? String ?? ""
            #expect(r.status.code == 422 && detail.contains("loopback"), "\(r.text)")
            // The watch stored while loopback was allowed now names a refused address: its delivery never connects through.
            let watchId = try #require(id.withLock { $0 })
            try await client.stockSet("W-ADDR", 4, token: server.ingest)
            try await eventually("the refused delivery dead-lettered") {
                let page = try await client.send(.get, "/v1/watches/\(watchId)/deliveries", token: server.read).object()
                let letter = (page["deadLetters"] as? [[String: Any]])?.first
                return (letter?["lastError"] as? String ?? "").contains("refused to send to 127.0.0.1")
            }
        }
    }
}

/// A listening socket on 127.0.0.1 that never accepts: connections complete in the kernel's backlog and are never read.
final class LoopbackBacklog: Sendable {
    let descriptor: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard fd >= 0, bound, listen(fd, 16) == 0 else { throw POSIXError(.EADDRNOTAVAIL) }
        descriptor = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { _ = Glibc.close(descriptor) }
}
