import Foundation
import HTTPTypes
import HummingbirdTesting
import ShelfAutomation
import ShelfChannels
import ShelfCore
import ShelfCurl
import ShelfLedger
import ShelfServer
import Testing

@Suite("sync.failed and sync.lagging rules")
struct RuleSyncTests {
    @Test("on the manual clock: a connection that stops acknowledging lags, crosses the rule's threshold once, then dead-letters into sync.failed")
    func lagThenFailure() async throws {
        let server = try await TestServer.make(
            clock: ManualWallClock(TestServer.monday),
            pushPolicy: PushPolicy(maxAttempts: 2, baseDelay: 0.05, maxDelay: 0.1, requestTimeout: .seconds(2)))
        // Nothing listens on port 1 of the loopback: every push is refused at once and retried.
        for var c in try await server.env.ledger.connections(seller: "demo") {
            c.baseURL = "http://127.0.0.1:1/c/\(c.id)"
            try await server.env.ledger.upsertConnection(c, seller: "demo")
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.env.curl.run() }
            try await server.run { client in
                let engine = server.env.ruleEngine
                let propagator = server.env.propagator
                let lagging = try await server.createRule(client, "When Amazon sync lag goes over 10 minutes, notify ops.")
                let failed = try await server.createRule(client, "When Amazon sync fails, notify the on-call via Slack.")
                var seen = server.lastSequence
                try await server.createSKU(client, "LAG-1", onHand: 10, channels: ["amazon", "walmart"])
                try await server.createSKU(client, "LAG-2", onHand: 10, channels: ["amazon"])
                #expect(await propagator.drainOnce() >= 3)  // Walmart pushes quantity and price in separate requests
                #expect(propagator.syncLag(seller: "demo", now: server.clock.now()).keys.sorted() == ["amazon-us", "walmart-us"])
                #expect(await engine.tick() == 0)
                server.clock.advance(by: 9 * 60)
                #expect(await engine.tick() == 0)
                server.clock.advance(by: 2 * 60)
                #expect(propagator.syncLag(seller: "demo", now: server.clock.now())["amazon-us"] ?? 0 >= 660)
                #expect(await engine.tick() == 1)  // amazon-us only: the rule is about Amazon
                #expect(await engine.tick() == 0)  // still lagging: an edge, not a level
                let lagNotes = try await server.events(of: lagging).compactMap(\.event.note)
                #expect(lagNotes.count == 1)
                #expect(lagNotes.first?.contains("sync lag 660 s on amazon-us") == true)
                // The retries are due; the second attempt exhausts the budget and each push is dead-lettered.
                #expect(await propagator.drainOnce() >= 3)  // Walmart pushes quantity and price in separate requests
                let failures = try await server.env.ledger.events(seller: "demo", after: seen, limit: 1000).filter { $0.event.type == .syncFailed }
                #expect(Set(failures.map { "\($0.event.sku ?? "") \($0.source)" })
                    == ["LAG-1 push:amazon-us", "LAG-1 push:walmart-us", "LAG-2 push:amazon-us"])
                #expect(failures.allSatisfy { $0.event.note?.contains("dead-lettered after 2 attempt(s)") == true })
                // Two Amazon SKUs failed in one outage: the channel-wide rule fires once, not per SKU.
                #expect(try await server.evaluateRules(after: &seen) == 1)
                let failNotes = try await server.events(of: failed).compactMap(\.event.note)
                #expect(failNotes.count == 1)
                #expect(failNotes.first?.hasPrefix("notify slack on-call:") == true)
            }
            group.cancelAll()
        }
    }

    @Test("end to end with shelf-sim: Walmart answering 503 dead-letters the push, and the rule reconciles Walmart and prioritises the SKU")
    func syncFailedEndToEnd() async throws {
        try await ChannelHarness.run { h in
            let server = h.server
            let fault = #"{"connection":"walmart-us","mode":"status","status":503,"count":100}"#
            #expect(try await h.sim("POST", "/_sim/faults", json: fault).status < 300)
            let reconcile = try await server.createRule(h.shelf, "When Walmart sync fails, notify ops and reconcile Walmart now.")
            let prioritize = try await server.createRule(h.shelf, "When Walmart sync fails for SYNC-1, prioritize sync for SYNC-1 on Walmart.")
            let item = #"{"sku":"SYNC-1","quantity":0}"#
            #expect(try await h.sim("PUT", "/_sim/connections/amazon-us/items/SYNC-1", json: item).status < 300)
            try await server.createSKU(h.shelf, "SYNC-1", onHand: 12, channels: ["walmart", "amazon"])
            try await h.eventually("the reconcile rule acted") {
                try await server.events(of: reconcile).contains { $0.event.note?.hasPrefix("reconcile_channels walmart-us:") == true }
            }
            try await h.eventually("the prioritize rule acted") {
                try await server.events(of: prioritize).contains { $0.event.note?.hasPrefix("prioritize_sync SYNC-1 on walmart") == true }
            }
            #expect(server.env.propagator.isPrioritized(seller: "demo", sku: "SYNC-1", now: server.env.clock.now()))
            let audit = try await h.shelf.send(.get, "/v1/audit?sku=SYNC-1", token: server.admin).object()
            let failed = (audit["events"] as? [[String: Any]] ?? []).filter { value($0, "event.type") as? String == "sync.failed" }
            let walmart = failed.filter { $0["source"] as? String == "push:walmart-us" }
            #expect(!walmart.isEmpty && walmart.allSatisfy { value($0, "event.channel") as? String == "walmart" })
            #expect(try await server.events(of: reconcile).compactMap(\.event.note).filter { $0.hasPrefix("notify default ops:") }.count == 1)
            // Amazon, which is healthy, got its push.
            try await h.eventually("amazon push") { try await h.pushes(sku: "SYNC-1", connection: "amazon-us").last?["quantity"] as? Int == 12 }
        }
    }
}
