import Foundation
import ShelfCore
import ShelfLedger
import Testing

@Suite("Snapshot product index")
struct ProductIndexTests {
    func upsert(_ t: TestLedger, _ sku: String, product: String) async throws {
        let item = CatalogItem(sku: sku, productId: product, title: sku, price: Money(amount: 500, currency: "USD"))
        let draft = ShelfEvent(type: .skuUpserted, sku: sku, item: item, levels: [LocationStock(location: "east", level: StockLevel(onHand: 1))],
                               occurredAt: t.clock.now())
        _ = try await t.ledger.submit(Command(seller: "s1", source: "test", draft: draft)).get()
    }

    @Test("variants that sort apart belong to their product; a re-keyed SKU moves; a rebuild gives the same index")
    func interleavedAndMoved() async throws {
        let t = try await TestLedger()
        for (sku, product) in [("B-2", "PA"), ("A-1", "PA"), ("A-2", "PB"), ("C-9", "PA")] { try await upsert(t, sku, product: product) }
        let seller = try #require(t.ledger.snapshot.seller("s1"))
        #expect(seller.skus(ofProduct: "PA") == ["A-1", "B-2", "C-9"])
        #expect(seller.skus(ofProduct: "PB") == ["A-2"])
        try await upsert(t, "B-2", product: "PB")
        try await upsert(t, "A-2", product: "PC")
        #expect(seller.skus(ofProduct: "PA") == ["A-1", "C-9"])
        #expect(seller.skus(ofProduct: "PB") == ["B-2"])
        #expect(seller.skus(ofProduct: "PC") == ["A-2"])
        try await t.ledger.rebuildSnapshot()
        let rebuilt = try #require(t.ledger.snapshot.seller("s1"))
        #expect(rebuilt.skus(ofProduct: "PA") == ["A-1", "C-9"])
        #expect(rebuilt.skus(ofProduct: "PB") == ["B-2"])
        #expect(rebuilt.skus(ofProduct: "PC") == ["A-2"])
        #expect(rebuilt.skus(ofProduct: "PZ").isEmpty)
    }
}
