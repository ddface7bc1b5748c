import Foundation
import ShelfCore
import ShelfLedger
import Testing

/// The snapshot's incremental indexes (external ids per channel, SKUs in a spike) follow every change and equal a rebuild.
@Suite("Snapshot incremental indexes")
struct SnapshotIndexTests {
    func listing(_ t: TestLedger, _ sku: String, channel: String, externalId: String) async throws {
        let draft = ShelfEvent(type: .listingUpserted, sku: sku, listing: Listing(channel: channel, externalId: externalId), occurredAt: t.clock.now())
        _ = try await t.ledger.submit(Command(seller: "s1", source: "test", draft: draft)).get()
    }

    @Test("a channel's external id resolves to its SKU, follows a re-keyed listing, and survives a rebuild")
    func externalIds() async throws {
        let t = try await TestLedger()
        try await t.addSKU("EXT-1", east: 5, channels: ["amazon"])
        try await t.addSKU("EXT-2", east: 5)
        let seller = try #require(t.ledger.snapshot.seller("s1"))
        #expect(seller.resolve(sku: nil, externalId: "EXT-1", channel: "amazon") == "EXT-1")
        #expect(seller.resolve(sku: nil, externalId: "EXT-1", channel: "ebay") == nil)
        try await listing(t, "EXT-2", channel: "amazon", externalId: "B0-AMZ-2")
        #expect(seller.resolve(sku: nil, externalId: "B0-AMZ-2", channel: "amazon") == "EXT-2")
        // Re-keyed: the old id no longer points anywhere, the new one does.
        try await listing(t, "EXT-2", channel: "amazon", externalId: "B0-AMZ-2b")
        #expect(seller.resolve(sku: nil, externalId: "B0-AMZ-2", channel: "amazon") == nil)
        #expect(seller.resolve(sku: nil, externalId: "B0-AMZ-2b", channel: "amazon") == "EXT-2")
        // A known SKU wins over the external id; an unknown SKU falls back to it.
        #expect(seller.resolve(sku: "EXT-1", externalId: "B0-AMZ-2b", channel: "amazon") == "EXT-1")
        #expect(seller.resolve(sku: "NOPE", externalId: "B0-AMZ-2b", channel: "amazon") == "EXT-2")
        // Listed under its own SKU (kept out of the index): resolved while the listing says so, not after it is re-keyed.
        try await listing(t, "EXT-1", channel: "ebay", externalId: "EXT-1")
        #expect(seller.resolve(sku: nil, externalId: "EXT-1", channel: "ebay") == "EXT-1")
        try await listing(t, "EXT-1", channel: "ebay", externalId: "EB-1")
        #expect(seller.resolve(sku: nil, externalId: "EXT-1", channel: "ebay") == nil)
        #expect(seller.resolve(sku: nil, externalId: "EB-1", channel: "ebay") == "EXT-1")
        // Another SKU's name used as an item id on a channel points at the SKU that lists it.
        try await listing(t, "EXT-2", channel: "ebay", externalId: "EXT-1")
        #expect(seller.resolve(sku: nil, externalId: "EXT-1", channel: "ebay") == "EXT-2")
        let rebuilt = try #require(try await t.reopened().snapshot.seller("s1"))
        #expect(rebuilt.resolve(sku: nil, externalId: "EXT-1", channel: "ebay") == "EXT-2")
        #expect(rebuilt.resolve(sku: nil, externalId: "EB-1", channel: "ebay") == "EXT-1")
        #expect(rebuilt.resolve(sku: nil, externalId: "B0-AMZ-2b", channel: "amazon") == "EXT-2")
        #expect(rebuilt.resolve(sku: nil, externalId: "B0-AMZ-2", channel: "amazon") == nil)
        #expect(rebuilt.resolve(sku: nil, externalId: "EXT-1", channel: "amazon") == "EXT-1")
    }

    @Test("SKUs in a demand spike are indexed as the multiplier changes, and after a rebuild")
    func spiking() async throws {
        let t = try await TestLedger()
        try await t.addSKU("HOT-1", east: 50)
        try await t.addSKU("HOT-2", east: 50)
        let seller = try #require(t.ledger.snapshot.seller("s1"))
        #expect(!seller.hasSpike && seller.spikingSKUs.isEmpty)
        let start = ShelfEvent(type: .demandSpikeStarted, sku: "HOT-2", spikeMultiplier: 2, occurredAt: t.clock.now())
        _ = try await t.ledger.submit(Command(seller: "s1", source: "system", draft: start)).get()
        #expect(seller.spikingSKUs == ["HOT-2"] && seller.hasSpike)
        #expect(try await t.reopened().snapshot.seller("s1")?.spikingSKUs == ["HOT-2"])
        let end = ShelfEvent(type: .demandSpikeEnded, sku: "HOT-2", spikeMultiplier: 1, occurredAt: t.clock.now())
        _ = try await t.ledger.submit(Command(seller: "s1", source: "system", draft: end)).get()
        #expect(seller.spikingSKUs.isEmpty && !seller.hasSpike)
    }

    @Test("active holds are counted from the hold index, expired ones left out")
    func activeHolds() async throws {
        let t = try await TestLedger()
        try await t.addSKU("HOLD-1", east: 10)
        _ = try await t.hold("HOLD-1", qty: 2, ttl: 60).get()
        _ = try await t.hold("HOLD-1", qty: 1, ttl: 600).get()
        let seller = try #require(t.ledger.snapshot.seller("s1"))
        #expect(seller.activeHoldCount(now: t.clock.now()) == 2)
        #expect(seller.activeHoldCount(now: t.clock.now().addingTimeInterval(120)) == 1)
    }
}
