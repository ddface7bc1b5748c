import Foundation
import ShelfChannels
import ShelfConnectors
import ShelfCore
import ShelfCurl
import ShelfLedger
import Testing

@testable import ShelfChannels

@Suite("worker lifecycle: one worker per push-enabled connection, following the ledger")
struct ConnectionRegistryTests {
    /// A ledger on a fresh temporary SQLite file with one seller and a ready snapshot.
    static func ledger() async throws -> Ledger {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("shelf-registry-\(UUID().uuidString).sqlite").path
        let ledger = Ledger(stores: .sqlite(try LedgerDatabase(path: path)))
        try await ledger.ensureSeller(id: "s1", name: "Seller One", currency: "USD", timeZone: "UTC")
        try await ledger.rebuildSnapshot(markReady: true)
        return ledger
    }

    static func connection(_ id: String, credentials: [String: String] = ["token": "a"], pushEnabled: Bool = true) -> ConnectionFixture {
        // Nothing listens on port 1 of the loopback; these tests never push.
        ConnectionFixture(id: id, channel: "web", kind: "generic", baseURL: "http://127.0.0.1:1/\(id)", credentials: credentials,
                          webhookSecret: "secret", pushEnabled: pushEnabled)
    }

    /// Polls `condition` every 10 ms for at most 10 s.
    static func eventually(_ what: Comment, _ condition: () -> Bool) async throws {
        for _ in 0..<1000 {
            if condition() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("timed out: \(what)")
    }

    @Test("connect starts a worker, an unchanged save keeps it, a credential change replaces it, disabling and deleting stop it")
    func lifecycle() async throws {
        let ledger = try await Self.ledger()
        let curl = CurlClient()
        let registry = ConnectionRegistry(ledger: ledger, curl: curl, pulses: ChannelPulseBoard())
        let ids = { registry.connections.map(\.connection) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await curl.run() }
            group.addTask { try await registry.run() }
            try await Self.eventually("the registry runs") { ledger.snapshot.feed.stats.subscribers >= 1 }
            #expect(ids().isEmpty)

            try await ledger.upsertConnection(Self.connection("web-1"), seller: "s1")
            try await Self.eventually("web-1 connected") { ids() == ["web-1"] }
            let first = try #require(registry.workers["s1\u{0}web-1"])
            // Each running worker follows the feed on its own subscription (the registry has one too).
            try await Self.eventually("web-1 subscribed") { ledger.snapshot.feed.stats.subscribers == 2 }

            try await ledger.upsertConnection(Self.connection("web-1"), seller: "s1")
            try await ledger.upsertConnection(Self.connection("web-2"), seller: "s1")
            try await Self.eventually("web-2 connected") { ids() == ["web-1", "web-2"] }
            #expect(registry.workers["s1\u{0}web-1"] === first, "an unchanged connection keeps its worker")

            try await ledger.upsertConnection(Self.connection("web-1", credentials: ["token": "rotated"]), seller: "s1")
            try await Self.eventually("web-1 replaced") { registry.workers["s1\u{0}web-1"].map { $0 !== first } ?? false }
            #expect(registry.workers["s1\u{0}web-1"]?.link.settings.credentials["token"] == "rotated")
            #expect(ids() == ["web-1", "web-2"])

            try await ledger.upsertConnection(Self.connection("web-2", pushEnabled: false), seller: "s1")
            try await Self.eventually("web-2 disabled") { ids() == ["web-1"] }
            #expect(try await ledger.deleteConnection(id: "web-1", seller: "s1"))
            try await Self.eventually("web-1 removed") { ids().isEmpty }
            // The stopped workers' subscriptions end with them.
            try await Self.eventually("worker subscriptions ended") { ledger.snapshot.feed.stats.subscribers == 1 }
            #expect(registry.liveConnections(seller: "s1").isEmpty)
            group.cancelAll()
        }
    }

    @Test("retries left by a connection deleted half-way (row gone, retries kept) are discarded when the queues are read; a disabled connection keeps its own")
    func orphanedRetriesAreDiscarded() async throws {
        let ledger = try await Self.ledger()
        try await ledger.upsertConnection(Self.connection("web-1"), seller: "s1")
        try await ledger.upsertConnection(Self.connection("web-off", pushEnabled: false), seller: "s1")
        let later = ledger.clock.now().addingTimeInterval(3600)
        let failed = PushQueue.Outcome.retry(attempts: 1, at: later, error: "HTTP 503")
        try await ledger.pushQueue.settle([
            PushQueue.Settled(seller: "s1", connection: "gone", sku: "A", sequence: 1, outcome: failed),
            PushQueue.Settled(seller: "s1", connection: "gone", sku: "B", sequence: 2, outcome: failed),
            PushQueue.Settled(seller: "s1", connection: "web-off", sku: "A", sequence: 1, outcome: failed),
            PushQueue.Settled(seller: "s1", connection: "web-1", sku: "A", sequence: 1, outcome: failed),
        ], outbox: [], now: ledger.clock.now())
        #expect(try await ledger.pushQueue.depths().retries == 4)
        let registry = ConnectionRegistry(ledger: ledger, curl: CurlClient(), pulses: ChannelPulseBoard())
        await registry.synchronize()
        let left = try await ledger.pushQueue.pendingPushes().retries.map { "\($0.connection)/\($0.sku)" }.sorted()
        #expect(left == ["web-1/A", "web-off/A"])
    }

    @Test("without the service running, a one-shot pass still builds the workers it pushes with")
    func drainBuildsWorkers() async throws {
        let ledger = try await Self.ledger()
        let curl = CurlClient()
        try await ledger.upsertConnection(Self.connection("web-1"), seller: "s1")
        try await ledger.upsertConnection(Self.connection("web-off", pushEnabled: false), seller: "s1")
        let registry = ConnectionRegistry(ledger: ledger, curl: curl, pulses: ChannelPulseBoard())
        #expect(await registry.drainOnce() == 0)
        #expect(registry.connections.map(\.connection) == ["web-1"])
        #expect(registry.gauges(now: ledger.clock.now()).map(\.queueDepth) == [0])
    }
}
