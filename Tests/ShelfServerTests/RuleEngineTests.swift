import Foundation
import Hummingbird
import HummingbirdTesting
import ShelfAutomation
import ShelfCore
import ShelfLedger
import ShelfServer
import Synchronization
import Testing

@Suite("Rules over live HTTP with shelf-sim", .serialized)
struct RuleEngineTests {
    @Test("parse dry run answers the canonical rule, or a 422 problem with the parser's error object")
    func parseAPI() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let ok = try await client.send(.post, "/v1/rules:parse", token: server.admin,
                                           json: #"{"text":"When stock of SKU-123 drops below 10, notify ops and pause the Amazon listing."}"#)
            #expect(ok.status == .ok)
            let obj = try ok.object()
            #expect(obj["ok"] as? Bool == true)
            #expect(value(obj, "rule.trigger.event") as? String == "stock.changed")
            #expect(value(obj, "rule.actions.1.channels.0") as? String == "amazon")
            let bad = try await client.send(.post, "/v1/rules:parse", token: server.admin,
                                            json: #"{"text":"When stock of SKU-123 drops below 10, pause the Amazn listing."}"#)
            #expect(bad.status == .unprocessableContent)
            #expect(bad.headers[.contentType] == "application/problem+json")
            let error = try bad.object()
            #expect(value(error, "error.code") as? String == "E_UNKNOWN_CHANNEL")
            #expect((value(error, "error.suggestions") as? [String])?.first == "Amazon")
            #expect(try await client.send(.post, "/v1/rules:parse", token: server.read, json: #"{"text":"x"}"#).status == .forbidden)
        }
    }

    @Test("?recent=N dry-runs a parsed rule over the latest events: an edge fires on its crossing only, every matching order fires a level rule, nothing is written")
    func dryRunOverRecentEvents() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let body = #"{"productId":"P-DRY","title":"Dry run","price":{"amount":500,"currency":"USD"},"levels":[{"location":"reno","onHand":10}]}"#
            #expect(try await client.send(.put, "/v1/skus/DRY-1", token: server.admin, json: body).status == .ok)
            var sequences: [Int64] = []
            for i in 0..<4 {  // available 10 → 8 → 6 → 4 → 2: below 5 from the third order on
                let order = #"{"type":"order.confirmed","sku":"DRY-1","qty":2,"channel":"amazon"}"#
                let reply = try await client.send(.post, "/v1/events", token: server.ingest, json: order, headers: ["Idempotency-Key": "dry-\(i)"])
                #expect(reply.status == .accepted)
                sequences.append(Int64(try reply.object()["sequence"] as? Int ?? -1))
            }
            let before = server.lastSequence
            func dryRun(_ text: String, recent: Int = 50) async throws -> [String: Any] {
                let reply = try await client.send(.post, "/v1/rules:parse?recent=\(recent)", token: server.admin, json: #"{"text":"\#(text)"}"#)
                #expect(reply.status == .ok)
                return try reply.object()
            }
            let edge = try await dryRun("When stock of DRY-1 drops below 5, notify ops.")
            #expect(value(edge, "rule.trigger.event") as? String == "stock.changed")
            let edgeFirings = try #require(value(edge, "dryRun.firings") as? [[String: Any]])
            #expect(edgeFirings.compactMap { $0["sequence"] as? Int }.map(Int64.init) == [sequences[2]])
            #expect(edgeFirings.first?["type"] as? String == "order.confirmed" && edgeFirings.first?["sku"] as? String == "DRY-1")
            #expect(value(edge, "dryRun.matched") as? Int ?? 0 >= 5)  // the upsert and the four orders
            let level = try await dryRun("When an order for DRY-1 comes in, notify ops.")
            #expect((value(level, "dryRun.firings") as? [[String: Any]])?.compactMap { $0["sequence"] as? Int }.map(Int64.init) == sequences)
            let last = try await dryRun("When an order for DRY-1 comes in, notify ops.", recent: 1)
            #expect(value(last, "dryRun.considered") as? Int == 1)
            #expect((value(last, "dryRun.firings") as? [[String: Any]])?.count == 1)
            let other = try await dryRun("When an order for TEE-RED-M comes in, notify ops.")
            #expect((value(other, "dryRun.firings") as? [[String: Any]])?.isEmpty == true)
            #expect(server.lastSequence == before)  // a dry run writes nothing
            let plain = try await client.send(.post, "/v1/rules:parse", token: server.admin, json: #"{"text":"When an order for DRY-1 comes in, notify ops."}"#)
            #expect(try plain.object()["dryRun"] == nil)
            let tooMany = try await client.send(.post, "/v1/rules:parse?recent=1001", token: server.admin, json: #"{"text":"When an order for DRY-1 comes in, notify ops."}"#)
            #expect(tooMany.status == .unprocessableContent)
            #expect(try tooMany.object()["field"] as? String == "recent")
        }
    }

    @Test("a stock rule pauses the Amazon listing in the simulator and posts the notification when orders bring stock below 5")
    func ruleFiresEndToEnd() async throws {
        // The notification webhook: NotificationOutboxTests' loopback sink, whose `POST /fast` records each body.
        try await NotificationOutboxTests.withSink { port, sink in
            try await ChannelHarness.run(notifyURL: "http://127.0.0.1:\(port)/fast") { h in
                let body = #"{"productId":"P-RULE","title":"Rule test","price":{"amount":500,"currency":"USD"},"levels":[{"location":"reno","onHand":8}],"listings":[{"channel":"amazon"},{"channel":"ebay"}]}"#
                #expect(try await h.shelf.send(.put, "/v1/skus/RULE-1", token: h.server.admin, json: body).status == .ok)
                #expect(try await h.sim("PUT", "/_sim/connections/amazon-us/items/RULE-1", json: #"{"sku":"RULE-1","quantity":8}"#).status < 300)
                let created = try await h.shelf.send(.post, "/v1/rules", token: h.server.admin,
                                                     json: #"{"text":"When available stock of RULE-1 drops below 5, pause the Amazon listing and notify ops"}"#)
                #expect(created.status == .created)
                let ruleId = try #require(try created.object()["id"] as? String)
                for i in 0..<2 {
                    _ = try await h.shelf.send(.post, "/v1/events", token: h.server.ingest,
                                               json: #"{"type":"order.confirmed","sku":"RULE-1","qty":1,"channel":"ebay"}"#, headers: ["Idempotency-Key": "r\(i)"])
                }
                // 6 left: nothing yet.
                try await Task.sleep(for: .milliseconds(300))
                #expect(sink.bodies.withLock { $0.isEmpty })
                _ = try await h.shelf.send(.post, "/v1/events", token: h.server.ingest,
                                           json: #"{"type":"order.confirmed","sku":"RULE-1","qty":2,"channel":"ebay"}"#, headers: ["Idempotency-Key": "r9"])
                try await h.eventually("amazon paused (pushed 0)") {
                    try await h.pushes(sku: "RULE-1", connection: "amazon-us").last?["quantity"] as? Int == 0
                }
                try await h.eventually("notification") { sink.bodies.withLock { $0.count == 1 } }
                #expect(sink.bodies.withLock { $0.first?.contains(ruleId) == true })
                let audit = try await h.shelf.send(.get, "/v1/audit?sku=RULE-1", token: h.server.admin).object()
                let byRule = (audit["events"] as? [[String: Any]] ?? []).filter { value($0, "event.ruleId") as? String == ruleId }
                #expect(Set(byRule.compactMap { value($0, "event.type") as? String }) == ["listing.paused", "rule.acted"])
                #expect(byRule.allSatisfy { $0["source"] as? String == "rule:\(ruleId)" })
                // A further drop while already below 5 does not fire again (edge, not level).
                _ = try await h.shelf.send(.post, "/v1/events", token: h.server.ingest,
                                           json: #"{"type":"order.confirmed","sku":"RULE-1","qty":1,"channel":"ebay"}"#, headers: ["Idempotency-Key": "r10"])
                try await Task.sleep(for: .milliseconds(300))
                #expect(sink.bodies.withLock { $0.count } == 1)
            }
        }
    }
}
