import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import ServiceLifecycle
import ShelfAutomation
import ShelfCore
import ShelfLedger
import ShelfServer
import Synchronization
import Testing

@Suite("Rule notifications go through a durable outbox, off the evaluation path", .serialized)
struct NotificationOutboxTests {
    /// A webhook sink: `POST /fast` answers at once and records the body; `POST /hang` never answers within any timeout.
    static func withSink(_ body: @Sendable @escaping (_ port: Int, _ received: Received) async throws -> Void) async throws {
        let received = Received()
        let router = Router()
        router.post("/fast") { request, _ -> HTTPResponse.Status in
            let body = try await request.body.collect(upTo: 1 << 16)
            received.bodies.withLock { $0.append(String(buffer: body)) }
            return .ok
        }
        router.post("/hang") { _, _ -> HTTPResponse.Status in
            try await Task.sleep(for: .seconds(60))
            return .ok
        }
        let portBox = Mutex<Int?>(nil)
        let sink = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                               onServerRunning: { channel in portBox.withLock { $0 = channel.localAddress?.port } })
        let sinkGroup = ServiceGroup(services: [sink], logger: Logger(label: "sink"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await sinkGroup.run() }
            var port = 0
            for _ in 0..<200 {
                if let p = portBox.withLock({ $0 }) { port = p; break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(port > 0)
            try await body(port, received)
            await sinkGroup.triggerGracefulShutdown()
            group.cancelAll()
        }
    }

    /// The bodies the sink received.
    final class Received: Sendable {
        let bodies = Mutex<[String]>([])
    }

    static func hook(_ url: String) -> NamedEntity { NamedEntity(id: "hook", name: "Hook", aliases: ["hook"], address: url) }

    @Test("one seller's notification webhook never answers; another seller's rule still fires and notifies promptly, and the stuck notification is retried and listed with its provenance")
    func hangingWebhookBlocksNobodyElse() async throws {
        try await Self.withSink { port, received in
            try await ChannelHarness.run { h in
                let server = h.server
                // Seller `other` sends its notifications to a webhook that never answers; `demo` to one that does.
                try await server.env.ledger.saveSellerFixture(SellerFixture(id: "other", name: "Other Co", currency: "USD", timeZone: "UTC",
                                                                      notifyTargets: [Self.hook("http://127.0.0.1:\(port)/hang")]))
                var demo = try #require(try await server.env.ledger.sellerFixture("demo"))
                demo.notifyTargets.append(Self.hook("http://127.0.0.1:\(port)/fast"))
                try await server.env.ledger.saveSellerFixture(demo)
                let otherIngest = try await server.env.tokens.create(seller: "other", scopes: [.ingest, .read], ttl: nil).1

                let otherRule = try await h.shelf.send(.post, "/v1/rules", token: server.otherAdmin,
                                                       json: #"{"text":"When available stock of OTHER-ONLY drops below 2, notify hook."}"#)
                #expect(otherRule.status == .created, "\(otherRule.text)")
                let otherRuleId = try #require(try otherRule.object()["id"] as? String)
                try await server.createSKU(h.shelf, "NOTE-1", onHand: 10, channels: [])
                let demoRuleId = try await server.createRule(h.shelf, "When available stock of NOTE-1 drops below 5, notify hook.")

                // `other` fires: its notification hangs in flight (the webhook holds it for the 5-s request timeout).
                let otherOrder = try await h.shelf.send(.post, "/v1/events", token: otherIngest,
                                                        json: #"{"type":"order.confirmed","sku":"OTHER-ONLY","qty":2}"#,
                                                        headers: ["Idempotency-Key": "note-other-1"])
                #expect(otherOrder.status == .accepted, "\(otherOrder.text)")
                try await h.eventually("other's notification in flight", within: 10) { server.env.ruleEngine.notifications.inFlight >= 1 }

                // `demo` fires meanwhile: its rule acts and its notification arrives well inside the hanging one's timeout.
                let demoOrder = try await h.shelf.send(.post, "/v1/events", token: server.ingest,
                                                       json: #"{"type":"order.confirmed","sku":"NOTE-1","qty":6,"channel":"shopify"}"#,
                                                       headers: ["Idempotency-Key": "note-demo-1"])
                #expect(demoOrder.status == .accepted)
                let trigger = "event:\(try #require(try demoOrder.object()["sequence"] as? Int))"
                try await h.eventually("demo's notification delivered", within: 3) {
                    received.bodies.withLock { $0.contains { $0.contains(demoRuleId) } }
                }
                #expect(server.env.ruleEngine.notifications.inFlight >= 1, "other's notification is still hanging")
                let body = try #require(received.bodies.withLock { $0.first { $0.contains(demoRuleId) } })
                let payload = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
                #expect(payload["seller"] as? String == "demo")
                #expect(payload["trigger"] as? String == trigger)
                // The rule's note in the audit trail carries its provenance: the rule id and, as its key, the triggering event.
                let acted = try await server.events(of: demoRuleId)
                #expect(acted.contains { $0.externalId?.hasPrefix("rule:\(demoRuleId)/\(trigger)/") == true })

                // The stuck notification is listed for its seller only, and after its timeout it is waiting for a retry.
                try await h.eventually("other's notification retried", within: 15) {
                    let list = try await h.shelf.send(.get, "/v1/notifications?state=pending", token: server.otherAdmin).object()
                    let pending = list["notifications"] as? [[String: Any]] ?? []
                    return pending.contains { ($0["attempts"] as? Int ?? 0) >= 1 && $0["lastError"] is String && $0["ruleId"] as? String == otherRuleId }
                }
                let mine = try await h.shelf.send(.get, "/v1/notifications", token: server.admin).object()["notifications"] as? [[String: Any]]
                #expect(mine?.contains { $0["seller"] as? String == "other" } == false)
                let metrics = try await ChannelTests.metrics(h)
                #expect(metrics["shelf_notifications{state=\"pending\"}"] ?? 0 >= 1)
                let bad = try await h.shelf.send(.get, "/v1/notifications?state=lost", token: server.admin)
                #expect(bad.status == .unprocessableContent)
                #expect(try bad.object()["field"] as? String == "state")
            }
        }
    }

    @Test("the outbox: due order, retry, dead after its attempts, listed by state, replayed by its seller only, counted")
    func outboxLifecycle() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("shelf-notifications-\(UUID().uuidString).sqlite").path
        let outbox = SQLiteNotificationOutbox(database: try LedgerDatabase(path: path))
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        let ids = try await outbox.enqueue([
            NotificationDraft(seller: "a", ruleId: "r1", trigger: "event:1", url: "http://127.0.0.1:1/x", body: "{}"),
            NotificationDraft(seller: "b", ruleId: "r2", trigger: "event:2", url: "http://127.0.0.1:1/y", body: "{}"),
        ], now: t0)
        #expect(ids.count == 2)
        #expect(try await outbox.due(now: t0, excluding: [], limit: 10).map(\.id) == ids)
        #expect(try await outbox.due(now: t0, excluding: [ids[0]], limit: 10).map(\.id) == [ids[1]])
        try await outbox.record(id: ids[0], attempts: 1, outcome: .retry(at: t0.addingTimeInterval(30), error: "HTTP 500"))
        #expect(try await outbox.due(now: t0.addingTimeInterval(29), excluding: [], limit: 10).map(\.id) == [ids[1]])
        #expect(try await outbox.nextDue() == Date(timeIntervalSince1970: 0))
        try await outbox.record(id: ids[1], attempts: 1, outcome: .delivered)
        #expect(try await outbox.nextDue() == t0.addingTimeInterval(30))
        try await outbox.record(id: ids[0], attempts: 8, outcome: .dead(error: "timed out"))
        #expect(try await outbox.due(now: t0.addingTimeInterval(3600), excluding: [], limit: 10).isEmpty)
        #expect(try await outbox.list(seller: "a", state: .dead, limit: 10).map(\.lastError) == ["timed out"])
        #expect(try await outbox.list(seller: "a", state: .pending, limit: 10).isEmpty)
        #expect(try await outbox.counts() == [.pending: 0, .dead: 1])
        #expect(try await !outbox.replay(id: ids[0], seller: "b"))
        #expect(try await outbox.replayDead(seller: "a") == 1)
        let replayed = try #require(try await outbox.list(seller: "a", state: nil, limit: 10).first)
        #expect(replayed.state == .pending && replayed.attempts == 0)
        #expect(try await outbox.due(now: t0, excluding: [], limit: 10).map(\.id) == [ids[0]])
    }
}
