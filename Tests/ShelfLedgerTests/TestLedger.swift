import Foundation
import ShelfCore
import ShelfLedger
import ShelfTestSupport

/// A ledger on a fresh temporary SQLite file with one seller, two locations and a few SKUs.
struct TestLedger {
    let ledger: Ledger
    let clock: ManualWallClock
    let directory: URL

    static let start = Date(timeIntervalSince1970: 1_795_400_000)  // 2026-11-23

    init(connections: [ConnectionFixture] = []) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("shelf-test-\(UUID().uuidString)")
        clock = ManualWallClock(Self.start)
        let database = try LedgerDatabase(path: directory.appendingPathComponent("shelf.sqlite").path)
        ledger = Ledger(stores: .sqlite(database), clock: clock)
        try await ledger.ensureSeller(id: "s1", name: "Seller One", currency: "USD", timeZone: "America/New_York")
        try await ledger.rebuildSnapshot()
        for c in connections { try await ledger.upsertConnection(c, seller: "s1") }
        let setup = [
            Location(id: "east", name: "East", timeZone: "America/New_York", priority: 0),
            Location(id: "west", name: "West", timeZone: "America/Los_Angeles", priority: 1),
        ].map { Command(seller: "s1", source: "test", draft: ShelfEvent(type: .locationUpserted, locationInfo: $0, occurredAt: Self.start)) }
        for r in await ledger.submit(setup) { _ = try r.get() }
    }

    func addSKU(_ sku: String, east: Int, west: Int = 0, safety: Int = 0, channels: [String] = []) async throws {
        let item = CatalogItem(sku: sku, productId: "P-\(sku)", title: sku, price: Money(amount: 1999, currency: "USD"))
        var levels = [LocationStock(location: "east", level: StockLevel(onHand: east, safetyStock: safety))]
        if west > 0 { levels.append(LocationStock(location: "west", level: StockLevel(onHand: west))) }
        let draft = ShelfEvent(
            type: .skuUpserted, sku: sku, item: item, levels: levels, listings: channels.map { Listing(channel: $0, externalId: sku) },
            occurredAt: clock.now()
        )
        _ = try await ledger.submit(Command(seller: "s1", source: "test", draft: draft)).get()
    }

    func order(_ sku: String, qty: Int, key: String? = nil, location: String? = nil) async -> Result<CommandOutcome, LedgerError> {
        await ledger.submit(
            Command(seller: "s1", source: "direct", key: key, draft: ShelfEvent(
                type: .orderConfirmed, sku: sku, location: location, channel: "amazon", qty: qty, occurredAt: clock.now()))
        )
    }

    func hold(_ sku: String, qty: Int, ttl: TimeInterval = 600, key: String? = nil) async -> Result<CommandOutcome, LedgerError> {
        await ledger.submit(
            Command(seller: "s1", source: "reservation", key: key, draft: ShelfEvent(
                type: .reservationCreated, sku: sku, qty: qty,
                reservation: Reservation(id: "", sku: sku, location: "", qty: qty, expiresAt: clock.now().addingTimeInterval(ttl)),
                occurredAt: clock.now()))
        )
    }

    func state(_ sku: String) -> SKUState? { ledger.snapshot.seller("s1")?.sku(sku) }

    func eventCount() async throws -> Int {
        try await ledger.events(seller: "s1", limit: 1_000_000).count
    }

    /// A second snapshot rebuilt from the same database file, as after a restart.
    func reopened() async throws -> Ledger {
        let again = Ledger(stores: .sqlite(try LedgerDatabase(path: ledger.database.path)), clock: clock)
        try await again.rebuildSnapshot()
        return again
    }
}

