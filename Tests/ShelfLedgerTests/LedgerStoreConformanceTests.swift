import Foundation
import GRDB
import Logging
import PostgresNIO
import ShelfCore
import ShelfLedger
import ShelfPostgres
import Testing
import ShelfTestSupport

/// The two conformances of `LedgerStore`.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }
}

/// One test's storage: fresh, of one kind. `node()` opens another ledger on the same storage (a second node, with its own
/// snapshot); `execute` and `pairs` run SQL written to be valid on both (the PostgreSQL tables mirror the SQLite names).
struct StoreFixture: Sendable {
    let kind: StoreKind
    let clock = ManualWallClock(Date(timeIntervalSince1970: 1_795_400_000))
    let directory: URL
    /// Every store of this kind on the test's database.
    let stores: ShelfStore
    var store: any LedgerStore { stores.ledger }
    private let openLedger: @Sendable (URL, ManualWallClock) throws -> Ledger
    let execute: @Sendable (String) async throws -> Void
    /// Rows of a query selecting (text, integer).
    let pairs: @Sendable (String) async throws -> [Pair]
    /// On PostgreSQL: the client the stores use and how to open a connection of one's own (a listener, a lock holder).
    var postgres: (client: PostgresClient, connection: PostgresConnection.Configuration)? = nil

    struct Pair: Hashable, Sendable {
        var text: String
        var number: Int64
    }

    /// Runs `body` on fresh storage of `kind`, then closes it.
    /// Its temporary directory (the SQLite file, a PostgreSQL node's side file) is deleted when `body` is done.
    static func with(_ kind: StoreKind, _ body: @Sendable (StoreFixture) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("shelf-conf-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        switch kind {
        case .sqlite:
            let path = directory.appendingPathComponent("shelf.sqlite").path
            let database = try LedgerDatabase(path: path)
            let fixture = StoreFixture(
                kind: kind, directory: directory, stores: .sqlite(database),
                openLedger: { _, clock in Ledger(stores: .sqlite(try LedgerDatabase(path: path)), clock: clock) },
                execute: { sql in try await database.pool.write { db in try db.execute(sql: sql) } },
                pairs: { sql in
                    try await database.pool.read { db in try Row.fetchAll(db, sql: sql).map { Pair(text: $0[0], number: $0[1]) } }
                }
            )
            try await body(fixture)
        case .postgres:
            guard let started = PostgresCluster.current else {
                Issue.record("the PostgreSQL tests run inside a suite with the .postgresCluster trait")
                return
            }
            let cluster = try started.get()
            let name = try await cluster.createDatabase()
            let client = PostgresClient(configuration: cluster.configuration(database: name), backgroundLogger: Logger(label: "shelf.tests.postgres"))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await client.run() }
                let stores = try await ShelfStore.postgres(client)
                let fixture = StoreFixture(
                    kind: kind, directory: directory, stores: stores,
                    openLedger: { _, clock in Ledger(stores: stores, clock: clock) },
                    execute: { sql in try await client.query(PostgresQuery(unsafeSQL: sql)) },
                    pairs: { sql in
                        var out: [Pair] = []
                        for try await (text, number) in try await client.query(PostgresQuery(unsafeSQL: sql)).decode((String, Int64).self) {
                            out.append(Pair(text: text, number: number))
                        }
                        return out
                    },
                    postgres: (client, cluster.connectionConfiguration(database: name))
                )
                do {
                    try await body(fixture)
                } catch {
                    group.cancelAll()
                    throw error
                }
                group.cancelAll()
            }
        }
    }

    /// A ledger (one node) with seller s1, its snapshot loaded and, with `setUp`, two locations.
    func node(connections: [ConnectionFixture] = [], setUp: Bool = true) async throws -> Ledger {
        let ledger = try openLedger(directory, clock)
        try await ledger.ensureSeller(id: "s1", name: "Seller One", currency: "USD", timeZone: "America/New_York")
        try await ledger.rebuildSnapshot()
        for c in connections { try await ledger.upsertConnection(c, seller: "s1") }
        if setUp {
            let setup = [
                Location(id: "east", name: "East", timeZone: "America/New_York", priority: 0),
                Location(id: "west", name: "West", timeZone: "America/Los_Angeles", priority: 1),
            ].map { Command(seller: "s1", source: "test", draft: ShelfEvent(type: .locationUpserted, locationInfo: $0, occurredAt: clock.now())) }
            for r in await ledger.submit(setup) { _ = try r.get() }
        }
        return ledger
    }

    func addSKU(_ ledger: Ledger, _ sku: String, east: Int, channels: [String] = []) async throws {
        let item = CatalogItem(sku: sku, productId: "P-\(sku)", title: sku, price: Money(amount: 1999, currency: "USD"))
        let draft = ShelfEvent(
            type: .skuUpserted, sku: sku, item: item, levels: [LocationStock(location: "east", level: StockLevel(onHand: east))],
            listings: channels.map { Listing(channel: $0, externalId: sku) }, occurredAt: clock.now()
        )
        _ = try await ledger.submit(Command(seller: "s1", source: "test", draft: draft)).get()
    }

    func order(_ ledger: Ledger, _ sku: String, qty: Int, key: String? = nil, hash: String? = nil, orderId: String? = nil)
        async -> Result<CommandOutcome, LedgerError>
    {
        await ledger.submit(Command(seller: "s1", source: "direct", key: key, requestHash: hash, draft: ShelfEvent(
            type: .orderConfirmed, sku: sku, channel: "amazon", qty: qty, orderId: orderId, occurredAt: clock.now())))
    }

    /// Every event of s1 in the store, read back in pages.
    func allEvents() async throws -> [LedgerEvent] {
        var out: [LedgerEvent] = []
        while true {
            let page = try await store.events(seller: "s1", after: out.last?.sequence ?? 0, limit: 50)
            guard !page.isEmpty else { return out }
            out += page
        }
    }
}

@Suite("LedgerStore conformance (SQLite and PostgreSQL)", .postgresCluster)
struct LedgerStoreConformanceTests {
    @Test("the same key answers the original outcome; the same key with another request is a conflict", arguments: StoreKind.allCases)
    func idempotentAppend(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { f in
            let ledger = try await f.node()
            try await f.addSKU(ledger, "CAP-1", east: 5)
            let first = try await f.order(ledger, "CAP-1", qty: 2, key: "amz-1", hash: "a").get()
            let before = try await f.allEvents().count
            let again = try await f.order(ledger, "CAP-1", qty: 2, key: "amz-1", hash: "a").get()
            #expect(first.status == .accepted)
            #expect(again.status == .duplicate && again.sequence == first.sequence && again.available == first.available)
            #expect(await f.order(ledger, "CAP-1", qty: 3, key: "amz-1", hash: "b") == .failure(.idempotencyConflict(key: "amz-1")))
            #expect(try await f.allEvents().count == before)
            // A second node that never saw the key (its snapshot is behind) still answers the original outcome.
            let other = try await f.node(setUp: false)
            let elsewhere = try await f.order(other, "CAP-1", qty: 2, key: "amz-1", hash: "a").get()
            #expect(elsewhere.status == .duplicate && elsewhere.sequence == first.sequence)
            let stored = try await f.store.read(LedgerReadRequest(keys: [IdempotencyKey(seller: "s1", source: "direct", key: "amz-1")]))
            #expect(stored.outcomes.values.map(\.requestHash) == ["a"])
            #expect(try await f.allEvents().count == before)
        }
    }

    @Test("a conditional decrement is refused when the row changed underneath, and the batch leaves no trace", arguments: StoreKind.allCases)
    func conditionalDecrement(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { f in
            let ledger = try await f.node()
            try await f.addSKU(ledger, "MUG-1", east: 10)
            _ = try await f.order(ledger, "MUG-1", qty: 1).get()
            let before = try await f.allEvents()
            let snapshotBefore = ledger.snapshot.seller("s1")?.sku("MUG-1")
            // Another writer takes a unit without going through this ledger.
            try await f.execute("UPDATE stock SET onHand = onHand - 1 WHERE seller = 's1' AND sku = 'MUG-1' AND location = 'east'")
            let result = await f.order(ledger, "MUG-1", qty: 2, key: "k-under")
            guard case .failure(.storage(let why)) = result else {
                Issue.record("expected a storage failure, got \(result)")
                return
            }
            #expect(why.contains("MUG-1"))
            #expect(try await f.allEvents() == before)
            #expect(ledger.snapshot.seller("s1")?.sku("MUG-1") == snapshotBefore)
            #expect(try await f.pairs("SELECT sku, onHand FROM stock WHERE sku = 'MUG-1'") == [.init(text: "MUG-1", number: 9)])
            let keys = try await f.store.read(LedgerReadRequest(keys: [IdempotencyKey(seller: "s1", source: "direct", key: "k-under")]))
            #expect(keys.outcomes.isEmpty)
        }
    }

    @Test("a stale write set is refused whole with a typed sequence conflict", arguments: StoreKind.allCases)
    func staleWriteSetConflicts(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { f in
            let ledger = try await f.node()
            try await f.addSKU(ledger, "HAT-1", east: 3)
            let last = try await f.allEvents().last!.sequence
            var set = LedgerWriteSet()
            set.sequences = [SequenceAdvance(seller: "s1", expected: last - 1, last: last)]
            set.events = [EncodedEvent(seller: "s1", sequence: last, type: "stock.received", sku: "HAT-1", source: "test", externalId: nil,
                                       recordedAt: f.clock.now(), body: #"{"qty":1,"sku":"HAT-1","type":"stock.received"}"#, orderId: nil)]
            set.idempotency = [IdempotencyRow(key: IdempotencyKey(seller: "s1", source: "test", key: "stale"), requestHash: nil,
                                              sequence: last, outcome: "{}")]
            await #expect(throws: LedgerStoreConflict.sequence(seller: "s1", expected: last - 1, found: last)) {
                try await f.store.write(set)
            }
            #expect(try await f.allEvents().last?.sequence == last)
            let keys = try await f.store.read(LedgerReadRequest(keys: [IdempotencyKey(seller: "s1", source: "test", key: "stale")]))
            #expect(keys.outcomes.isEmpty)
        }
    }

    @Test("outbox rows coalesce to one per (seller, SKU) holding the latest sequence", arguments: StoreKind.allCases)
    func outboxCoalesces(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { f in
            let connections = ["amazon", "ebay"].map {
                ConnectionFixture(id: "\($0)-1", channel: $0, kind: $0, baseURL: "http://127.0.0.1:1", webhookSecret: "s")
            }
            let ledger = try await f.node(connections: connections)
            try await f.addSKU(ledger, "HOOD-1", east: 100, channels: ["amazon", "ebay"])
            try await f.addSKU(ledger, "HOOD-2", east: 100, channels: ["amazon"])
            try await f.addSKU(ledger, "HOOD-3", east: 100)
            let second = try await f.allEvents().last!.sequence - 1
            var last: Int64 = 0
            for _ in 0..<10 { last = try await f.order(ledger, "HOOD-1", qty: 1).get().sequence }
            #expect(try await f.pairs("SELECT sku, sequence FROM outbox ORDER BY sku") == [
                .init(text: "HOOD-1", number: last), .init(text: "HOOD-2", number: second),
            ])
        }
    }

    @Test("events are append-only: UPDATE and DELETE are refused by the store", arguments: StoreKind.allCases)
    func appendOnly(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { f in
            let ledger = try await f.node()
            try await f.addSKU(ledger, "X-1", east: 1)
            let before = try await f.allEvents()
            await #expect(throws: (any Error).self) { try await f.execute("UPDATE events SET type = 'x'") }
            await #expect(throws: (any Error).self) { try await f.execute("DELETE FROM events") }
            await #expect(throws: (any Error).self) { try await f.execute("DELETE FROM events WHERE sequence = 1") }
            #expect(try await f.allEvents() == before)
        }
    }

    @Test("events read back in sequence order from any sequence, a page at a time", arguments: StoreKind.allCases)
    func eventsFromSequence(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { f in
            let ledger = try await f.node()
            try await f.addSKU(ledger, "TEE-1", east: 50)
            for i in 0..<12 { _ = try await f.order(ledger, "TEE-1", qty: 1, key: "o\(i)").get() }
            let all = try await f.allEvents()
            #expect(all.map(\.sequence) == Array(1...Int64(all.count)))
            let page = try await f.store.events(seller: "s1", after: 5, limit: 4)
            #expect(page.map(\.sequence) == [6, 7, 8, 9])
            #expect(page == Array(all[5..<9]))
            #expect(try await f.store.events(seller: "s1", after: all.last!.sequence, limit: 10).isEmpty)
            #expect(try await f.store.events(seller: "nobody", after: 0, limit: 10).isEmpty)
            #expect(all.last?.event.type == .orderConfirmed && all.last?.externalId == "o11")
        }
    }

    @Test("two nodes writing one seller concurrently leave gapless sequences and lose no command", arguments: StoreKind.allCases)
    func gaplessUnderConcurrentWriters(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { f in
            let a = try await f.node()
            try await f.addSKU(a, "BAG-1", east: 1000)
            let b = try await f.node(setUp: false)
            let before = try await f.allEvents().count
            let accepted = try await withThrowingTaskGroup(of: Int.self) { group in
                for (n, node) in [a, b].enumerated() {
                    for i in 0..<30 {
                        group.addTask { try await f.order(node, "BAG-1", qty: 1, key: "n\(n)-\(i)").get().status == .accepted ? 1 : 0 }
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(accepted == 60)
            let events = try await f.allEvents()
            #expect(events.map(\.sequence) == Array(1...Int64(events.count)))
            #expect(events.count == before + 60)
            // Every order counted once in the stored state rows: the conditional updates never lost one.
            #expect(try await f.pairs("SELECT sku, committed FROM stock WHERE sku = 'BAG-1'") == [.init(text: "BAG-1", number: 60)])
        }
    }

    @Test("a ledger end to end: commands decided, the snapshot updated, events readable, a cancellation gives back", arguments: StoreKind.allCases)
    func ledgerEndToEnd(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { f in
            let ledger = try await f.node()
            try await f.addSKU(ledger, "JKT-1", east: 4)
            _ = try await ledger.submit(Command(seller: "s1", source: "direct", draft: ShelfEvent(
                type: .stockReceived, sku: "JKT-1", location: "west", qty: 3, occurredAt: f.clock.now()))).get()
            let sold = try await f.order(ledger, "JKT-1", qty: 5, orderId: "ord-1").get()
            #expect(sold.available == 2)
            let cancelled = try await ledger.submit(Command(seller: "s1", source: "direct", draft: ShelfEvent(
                type: .orderCancelled, sku: "JKT-1", qty: 5, orderId: "ord-1", occurredAt: f.clock.now()))).get()
            #expect(cancelled.available == 7)
            let state = try #require(ledger.snapshot.seller("s1")?.sku("JKT-1"))
            #expect(state.totalLevel(now: f.clock.now()).committed == 0)
            #expect(state.stock.map(\.level.committed) == [0, 0])
            let refused = await ledger.submit(Command(seller: "s1", source: "reservation", draft: ShelfEvent(
                type: .reservationCreated, sku: "JKT-1", qty: 8,
                reservation: Reservation(id: "", sku: "JKT-1", location: "", qty: 8, expiresAt: f.clock.now().addingTimeInterval(60)),
                occurredAt: f.clock.now())))
            #expect(refused == .failure(.refused(.insufficientStock(sku: "JKT-1", available: 7, requested: 8))))
            let events = try await f.allEvents()
            #expect(events.last?.event.type == .orderCancelled)
            #expect(events.last?.sequence == ledger.snapshot.seller("s1")?.lastSequence)
            #expect(events.filter { $0.event.sku == "JKT-1" }.map(\.event.type) == [.skuUpserted, .stockReceived, .orderConfirmed, .orderCancelled])
            #expect(try await f.pairs("SELECT location, committed FROM stock WHERE sku = 'JKT-1' ORDER BY location") == [
                .init(text: "east", number: 0), .init(text: "west", number: 0),
            ])
        }
    }

    @Test("migrations are recorded once, and a database newer than the binary is refused with a clear error")
    func migrations() async throws {
        try await StoreFixture.with(.postgres) { f in
            let store = try #require(f.store as? PostgresLedgerStore)
            try await store.migrate()
            #expect(try await f.pairs("SELECT name, version::int8 FROM schema_migrations ORDER BY version")
                == PostgresSchema.migrations.map { .init(text: $0.name, number: Int64($0.version)) })
            try await f.execute("INSERT INTO schema_migrations (version, name) VALUES (\(PostgresSchema.version + 1), 'from-the-future')")
            await #expect(throws: PostgresSchema.TooNewError.self) { try await store.migrate() }
            do {
                try await store.migrate()
            } catch let error as PostgresSchema.TooNewError {
                #expect(error.description.contains("newer than this binary"))
            }
        }
    }
}
