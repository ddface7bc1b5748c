import Foundation
import GRDB
import ShelfCore
import ShelfLedger
import Testing

/// Migrations carry a database written by an earlier schema forward: nothing is lost, everything reads back.
@Suite("Migrations")
struct MigrationTests {
    /// The token stored in `fixtures/legacy/shelf-v4.sqlite` (see that folder's README).
    static let legacyToken = "shelf_446966cc34d3_Mzy_j6qHY5WMQTeRgqZ_gdpdI3O-5xjH"

    static func legacyCopy() throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let source = root.appendingPathComponent("fixtures/legacy/shelf-v4.sqlite")
        let target = FileManager.default.temporaryDirectory.appendingPathComponent("shelf-legacy-\(UUID().uuidString).sqlite")
        try FileManager.default.copyItem(at: source, to: target)
        return target.path
    }

    @Test("a v4 database opens with every SKU, event, token, location, channel and seller document, in one table per kind")
    func v4CarriesForward() async throws {
        let path = try Self.legacyCopy()
        // What the old file holds, read before any migration runs.
        let before = try DatabaseQueue(path: path).unsafeReentrantRead { db in
            (skus: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM skus")!, events: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events")!,
             entities: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM catalog_entities")!)
        }
        #expect(before.skus == 25 && before.events == 39 && before.entities == 14)

        let database = try LedgerDatabase(path: path)
        let ledger = Ledger(stores: .sqlite(database))
        try await ledger.rebuildSnapshot()
        let seller = try #require(ledger.snapshot.seller("demo"))
        #expect(seller.count == 25)
        #expect(try await ledger.events(seller: "demo", limit: 1000).count == 39)
        #expect(seller.lastSequence == 39)
        #expect(seller.catalog.locations.count == 5 && seller.catalog.channels.count == 6)
        // The token still signs in.
        let tokens = TokenStore(database: database, clock: SystemWallClock())
        #expect(await tokens.authenticate(Self.legacyToken)?.seller == "demo")
        // Seller documents: the profile (rule vocabulary), the spike policy, the rule's claimed occurrence.
        #expect(try await ledger.sellerFixture("demo")?.notifyTargets.isEmpty == false)
        let policy = try #require(try await ledger.sellerSetting("spike-policy", seller: "demo"))
        #expect(policy.contains("\"factor\":6"))
        let rules = SQLiteRuleStore(database: database)
        let rule = try #require(try await rules.list(seller: "demo").first)
        #expect(try await !rules.claimOccurrence(Date(timeIntervalSince1970: 1_796_634_000), id: rule.id, seller: "demo"))
        #expect(try await rules.claimOccurrence(Date(timeIntervalSince1970: 1_796_720_400), id: rule.id, seller: "demo"))
        // The catch-all table is gone; each kind has its own.
        let tables = try database.pool.unsafeReentrantRead { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'") }
        #expect(!tables.contains("catalog_entities"))
        #expect(Set(["locations", "channels", "seller_profiles", "seller_settings", "rule_schedules"]).isSubset(of: Set(tables)))
        // Events moved to a rowid table (packed leaves instead of overflow pages) with every body intact, still append-only.
        try database.pool.unsafeReentrantRead { db in
            let sql = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'events'") ?? ""
            #expect(!sql.uppercased().contains("WITHOUT ROWID"))
            let indexes = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'")
            #expect(Set(indexes) == ["events_by_sequence", "events_by_sku", "events_by_order"])
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT sequence) FROM events WHERE seller = 'demo'") == 39)
        }
        #expect(throws: DatabaseError.self) {
            try database.pool.write { db in try db.execute(sql: "UPDATE events SET body = '{}' WHERE sequence = 1") }
        }
        #expect(throws: DatabaseError.self) {
            try database.pool.write { db in try db.execute(sql: "DELETE FROM events WHERE sequence = 1") }
        }
        // And the ledger goes on: a new event gets the next sequence.
        let sku = try #require(seller.allSKUIDs().first)
        let outcome = try await ledger.submit(Command(seller: "demo", source: "test", draft: ShelfEvent(
            type: .stockReceived, sku: sku, location: seller.catalog.locations[0].id, qty: 2, occurredAt: Date()))).get()
        #expect(outcome.sequence == 40)
    }
}
