import Foundation
import ShelfCore
import ShelfLedger
import Synchronization
import Testing

/// The one change feed: bounded memory, every subscriber at its own pace, nothing lost, nothing repeated.
@Suite("Change feed")
struct ChangeFeedTests {
    /// A ledger on a temporary file whose feed keeps only `capacity` events in memory, with two sellers and one SKU each.
    static func ledger(capacity: Int) async throws -> Ledger {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("shelf-feed-\(UUID().uuidString).sqlite").path
        let ledger = Ledger(stores: .sqlite(try LedgerDatabase(path: path)), snapshot: Snapshot(feedCapacity: capacity),
                            clock: ManualWallClock(Date(timeIntervalSince1970: 1_795_400_000)))
        for seller in ["s1", "s2"] {
            try await ledger.ensureSeller(id: seller, name: seller, currency: "USD", timeZone: "UTC")
        }
        try await ledger.rebuildSnapshot()
        for seller in ["s1", "s2"] {
            let location = Location(id: "east", name: "East", timeZone: "UTC")
            let item = CatalogItem(sku: "SKU-1", productId: "P-1", title: "one", price: Money(amount: 100, currency: "USD"))
            for draft in [ShelfEvent(type: .locationUpserted, locationInfo: location, occurredAt: Date()),
                          ShelfEvent(type: .skuUpserted, sku: "SKU-1", item: item,
                                     levels: [LocationStock(location: "east", level: StockLevel(onHand: 0))], occurredAt: Date())] {
                _ = try await ledger.submit(Command(seller: seller, source: "test", draft: draft)).get()
            }
        }
        return ledger
    }

    static func receive(_ ledger: Ledger, seller: String, count: Int) async throws {
        for i in 0..<count {
            let draft = ShelfEvent(type: .stockReceived, sku: "SKU-1", location: "east", qty: 1 + i % 3, occurredAt: Date())
            _ = try await ledger.submit(Command(seller: seller, source: "test", draft: draft)).get()
        }
    }

    /// Reads `subscription` until it has delivered `count` events; returns them.
    static func drain(_ subscription: ChangeFeed.Subscription, count: Int) async -> [LedgerEvent] {
        var out: [LedgerEvent] = []
        while out.count < count, let batch = await subscription.next() { out += batch }
        return out
    }

    /// Each seller's sequences, in the order delivered.
    static func sequences(_ events: [LedgerEvent]) -> [String: [Int64]] {
        var out: [String: [Int64]] = [:]
        for e in events { out[e.seller, default: []].append(e.sequence) }
        return out
    }

    @Test("a stalled subscriber slows neither ingest nor the others, and later receives every change in order from the ledger")
    func stalledSubscriberCatchesUp() async throws {
        let ledger = try await Self.ledger(capacity: 64)
        let heads = ["s1": ledger.snapshot.seller("s1")!.lastSequence, "s2": ledger.snapshot.seller("s2")!.lastSequence]
        let stalled = ledger.snapshot.feed.subscribe(maxBatch: 50)
        let reader = ledger.snapshot.feed.subscribe(maxBatch: 50)
        let perSeller = 400
        // The live reader keeps up while both sellers ingest, and the stalled one reads nothing meanwhile.
        async let live = Self.drain(reader, count: 2 * perSeller)
        try await Self.receive(ledger, seller: "s1", count: perSeller)
        try await Self.receive(ledger, seller: "s2", count: perSeller)
        let liveEvents = await live
        // 800 events went through a ring of 64: the ring is bounded, so most of what the stalled one missed is gone from memory.
        let stats = ledger.snapshot.feed.stats
        #expect(stats.next - stats.first <= 64)
        let expected = ["s1": Array(heads["s1"]! + 1...heads["s1"]! + Int64(perSeller)), "s2": Array(heads["s2"]! + 1...heads["s2"]! + Int64(perSeller))]
        #expect(Self.sequences(liveEvents) == expected)
        // Now the stalled subscriber reads: every change of both sellers, in order, no gap, no repeat.
        let late = await Self.drain(stalled, count: 2 * perSeller)
        #expect(late.count == 2 * perSeller)
        #expect(Self.sequences(late) == expected)
        #expect(late.filter { $0.seller == "s1" }.map(\.event.qty) == (0..<perSeller).map { 1 + $0 % 3 })
        // Caught up, it goes on with live events from the ring.
        try await Self.receive(ledger, seller: "s2", count: 3)
        let more = await Self.drain(stalled, count: 3)
        #expect(more.map(\.sequence) == [heads["s2"]! + Int64(perSeller) + 1, heads["s2"]! + Int64(perSeller) + 2, heads["s2"]! + Int64(perSeller) + 3])
        stalled.cancel()
        reader.cancel()
        #expect(ledger.snapshot.feed.stats.subscribers == 0)
    }

    @Test("a subscriber within the ring reads straight from memory and sees events in commit order")
    func withinTheRing() async throws {
        let ledger = try await Self.ledger(capacity: 1024)
        let sub = ledger.snapshot.feed.subscribe()
        try await Self.receive(ledger, seller: "s1", count: 10)
        try await Self.receive(ledger, seller: "s2", count: 5)
        let events = await Self.drain(sub, count: 15)
        #expect(events.map(\.seller) == Array(repeating: "s1", count: 10) + Array(repeating: "s2", count: 5))
        #expect(events.map(\.event.type).allSatisfy { $0 == .stockReceived })
        // A poke wakes a waiting subscriber with an empty batch (no event invented).
        async let woken = sub.next()
        try await Task.sleep(for: .milliseconds(20))
        ledger.snapshot.feed.poke()
        #expect(await woken == [])
        sub.cancel()
    }
}
