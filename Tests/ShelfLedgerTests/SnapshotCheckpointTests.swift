import Foundation
import GRDB
import Logging
import ShelfCore
@testable import ShelfLedger
import Synchronization
import Testing
import ShelfTestSupport

/// The snapshot checkpoint: loaded and caught up from the ledger it equals a full rebuild; a damaged, unknown or stale file is
/// detected, logged and replaced by a rebuild, never trusted.
@Suite("Snapshot checkpoint")
struct SnapshotCheckpointTests {
    /// Log lines captured from a checkpointer.
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }
        var logger: Logger {
            Logger(label: "test.checkpoint") { _ in Handler(box: self) }
        }

        struct Handler: LogHandler {
            let box: Lines
            var metadata: Logger.Metadata = [:]
            var logLevel: Logger.Level = .trace
            subscript(metadataKey key: String) -> Logger.Metadata.Value? {
                get { metadata[key] }
                set { metadata[key] = newValue }
            }
            func log(event: LogEvent) {
                box.lines.withLock { $0.append("\(event.level) \(event.message)") }
            }
        }
    }

    /// Two sellers: s1 with varied SKUs (shared product text, listings under their own ids with references, channel prices,
    /// split orders and holds, a spike, a discontinued SKU), s2 with SKUs of the same names and other figures.
    func history(_ t: TestLedger) async throws {
        try await SnapshotRebuildTests().history(t)
        try await t.ledger.ensureSeller(id: "s2", name: "Seller Two", currency: "EUR", timeZone: "Europe/Berlin")
        let now = t.clock.now()
        let setup = [
            ShelfEvent(type: .locationUpserted, locationInfo: Location(id: "berlin", name: "Berlin", timeZone: "Europe/Berlin"), occurredAt: now),
            ShelfEvent(type: .channelUpserted, channelInfo: Channel(id: "otto", name: "OTTO", aliases: ["otto.de"]), occurredAt: now),
        ] + (0..<5).map { n in
            ShelfEvent(
                type: .skuUpserted, sku: "TEE-RED-\(n)",
                item: CatalogItem(sku: "TEE-RED-\(n)", productId: "P2", title: "Tee \(n)", price: Money(amount: 1500 + Int64(n), currency: "EUR")),
                levels: [LocationStock(location: "berlin", level: StockLevel(onHand: 10 + n))],
                listings: [Listing(channel: "otto", externalId: "otto-\(n)", references: ["ean": "400\(n)"])], occurredAt: now
            )
        }
        for draft in setup { _ = try await t.ledger.submit(Command(seller: "s2", source: "test", draft: draft)).get() }
    }

    /// Events after the checkpoint: orders, a hold and its release, a new SKU, a listing moved to another item id, a new
    /// location, price changes, on both sellers.
    func more(_ t: TestLedger) async throws {
        let now = t.clock.now()
        _ = try await t.order("TEE-RED-M", qty: 1).get()
        let hold = try await t.hold("TEE-RED-XL", qty: 1).get()
        _ = try await t.hold("TEE-RED-M", qty: 2).get()
        let release = ShelfEvent(type: .reservationReleased, sku: "TEE-RED-XL",
                                 reservation: Reservation(id: try #require(hold.reservation?.id), sku: "TEE-RED-XL", location: "", qty: 0,
                                                          expiresAt: now),
                                 occurredAt: now)
        let drafts: [(String, ShelfEvent)] = [
            ("s1", release),
            ("s1", ShelfEvent(type: .listingUpserted, sku: "TEE-RED-M", listing: Listing(channel: "shopify", externalId: "moved-1"), occurredAt: now)),
            ("s1", ShelfEvent(type: .locationUpserted, locationInfo: Location(id: "north", name: "North", timeZone: "UTC", priority: 2), occurredAt: now)),
            ("s1", ShelfEvent(type: .stockReceived, sku: "TEE-RED-L", location: "north", qty: 9, occurredAt: now)),
            ("s1", ShelfEvent(type: .demandSpikeEnded, sku: "TEE-RED-L", occurredAt: now)),
            ("s2", ShelfEvent(type: .priceChanged, sku: "TEE-RED-1", price: Money(amount: 999, currency: "EUR"), occurredAt: now)),
            ("s2", ShelfEvent(type: .orderConfirmed, sku: "TEE-RED-2", location: "berlin", channel: "otto", qty: 3, occurredAt: now)),
        ]
        for (seller, draft) in drafts { _ = try await t.ledger.submit(Command(seller: seller, source: "test", draft: draft)).get() }
        try await t.addSKU("NEW-1", east: 5, channels: ["amazon", "ebay"])
    }

    /// A ledger on the same file whose snapshot is not built yet (as at a restart).
    func restarted(_ t: TestLedger) throws -> Ledger {
        Ledger(stores: .sqlite(try LedgerDatabase(path: t.ledger.database.path)), clock: t.clock)
    }

    func checkpointPath(_ t: TestLedger) -> String { t.directory.appendingPathComponent("shelf.sqlite.snapshot").path }

    /// Every seller, SKU, index and answer of `a` equals `b`'s.
    func expectSame(_ a: Snapshot, _ b: Snapshot, at now: Date) {
        #expect(a.sellerIDs == b.sellerIDs)
        for id in b.sellerIDs {
            guard let x = a.seller(id), let y = b.seller(id) else {
                Issue.record("seller \(id) missing")
                continue
            }
            #expect(x.count == y.count, "\(id)")
            #expect(x.catalog == y.catalog, "\(id)")
            #expect(x.lastSequence == y.lastSequence, "\(id)")
            #expect(x.lastRecordedAt == y.lastRecordedAt, "\(id)")
            #expect(x.allSKUIDs() == y.allSKUIDs(), "\(id)")
            let (xs, ys) = (x.allStates(), y.allStates())
            #expect(xs == ys, "\(id)")
            for (s, r) in zip(xs, ys) where s != r { Issue.record("\(id)/\(s.sku) differs:\n\(s)\n\(r)") }
            #expect(x.spikingSKUs == y.spikingSKUs)
            #expect(x.activeHoldCount(now: now) == y.activeHoldCount(now: now))
            #expect(x.quarantined.isEmpty && y.quarantined.isEmpty)
            for state in ys {
                #expect(x.skus(ofProduct: state.item.productId) == y.skus(ofProduct: state.item.productId))
                for hold in state.holds { #expect(x.skuForReservation(hold.id) == state.sku) }
                for listing in state.listings {
                    let found = x.resolve(sku: nil, externalId: listing.externalId, channel: listing.channel)
                    #expect(found == y.resolve(sku: nil, externalId: listing.externalId, channel: listing.channel))
                    #expect(found != nil, "\(id) \(listing.channel) \(listing.externalId)")
                }
            }
            #expect(x.resolve(sku: nil, externalId: "no-such-id", channel: "shopify") == nil)
        }
    }

    @Test("loaded from a checkpoint and caught up from the ledger, the snapshot equals a full rebuild (states, catalogs, indexes, lookups)")
    func checkpointEqualsRebuild() async throws {
        let t = try await TestLedger()
        defer { try? FileManager.default.removeItem(at: t.directory) }
        try await history(t)
        let lines = Lines()
        let writer = SnapshotCheckpointer(path: checkpointPath(t), ledger: t.ledger, logger: lines.logger)
        let written = try #require(try await writer.write())
        #expect(written.skus == 10 && written.bytes > SnapshotCheckpoint.headerSize)
        try await more(t)
        // A seller created after the checkpoint: it lacks it, so it is read from its rows.
        try await t.ledger.ensureSeller(id: "s3", name: "Seller Three", currency: "USD", timeZone: "UTC")
        let now = t.clock.now()
        for draft in [
            ShelfEvent(type: .locationUpserted, locationInfo: Location(id: "main", name: "Main", timeZone: "UTC"), occurredAt: now),
            ShelfEvent(type: .skuUpserted, sku: "TEE-RED-M", item: CatalogItem(sku: "TEE-RED-M", productId: "P3", title: "Three",
                                                                              price: Money(amount: 5, currency: "USD")),
                       levels: [LocationStock(location: "main", level: StockLevel(onHand: 4))],
                       listings: [Listing(channel: "shopify", externalId: "s3-item")], occurredAt: now),
        ] { _ = try await t.ledger.submit(Command(seller: "s3", source: "test", draft: draft)).get() }
        let live = t.ledger.snapshot

        let again = try restarted(t)
        let outcome = try await SnapshotCheckpointer(path: checkpointPath(t), ledger: again, logger: lines.logger).load()
        #expect(outcome == .checkpoint(skus: 10, caughtUp: 11))
        let rebuilt = try await t.reopened().snapshot
        expectSame(again.snapshot, rebuilt, at: t.clock.now())
        expectSame(again.snapshot, live, at: t.clock.now())
        #expect(again.snapshot.seller("s1")?.resolve(sku: nil, externalId: "moved-1", channel: "shopify") == "TEE-RED-M")
        #expect(again.snapshot.seller("s1")?.resolve(sku: nil, externalId: "44000000000001", channel: "shopify") == nil)
        #expect(again.snapshot.seller("s1")?.resolve(sku: nil, externalId: "44000000000002", channel: "shopify") == "TEE-RED-L")
        #expect(again.snapshot.seller("s2")?.resolve(sku: nil, externalId: "otto-3", channel: "otto") == "TEE-RED-3")
        #expect(again.snapshot.seller("s1")?.resolve(sku: nil, externalId: "otto-3", channel: "otto") == nil)
        #expect(again.snapshot.seller("s3")?.resolve(sku: nil, externalId: "s3-item", channel: "shopify") == "TEE-RED-M")
        #expect(again.snapshot.seller("s3")?.sku("TEE-RED-M")?.item.title == "Three")
        #expect(lines.all.contains { $0.contains("snapshot loaded from checkpoint") })
    }

    @Test("a view taken while a batch was applied (a SKU newer than the seller's last sequence) loads to the same state: catch-up skips what it holds")
    func viewTakenMidBatch() async throws {
        let t = try await TestLedger()
        defer { try? FileManager.default.removeItem(at: t.directory) }
        try await history(t)
        let seller = try #require(t.ledger.snapshot.seller("s1"))
        var head = try #require(seller.checkpointView())
        try await more(t)
        // The seller's head as it was, with the states as they are now (several already hold the events after the head).
        head.shards = try #require(seller.checkpointView()).shards
        let at = try #require(try await t.ledger.store.events(seller: "s1", after: head.lastSequence - 1, limit: 1).first)
        head.lastEvent = try SnapshotCheckpoint.eventDigest(at)
        _ = try SnapshotCheckpoint.write([head], to: checkpointPath(t))

        let again = try restarted(t)
        let outcome = try await SnapshotCheckpointer(path: checkpointPath(t), ledger: again).load()
        guard case .checkpoint = outcome else {
            Issue.record("not loaded from the checkpoint: \(outcome)")
            return
        }
        expectSame(again.snapshot, try await t.reopened().snapshot, at: t.clock.now())
    }

    /// Writes a good checkpoint, lets `damage` change the file, restarts and expects a rebuild for `expected`, a log line
    /// naming it, a snapshot equal to a rebuild, and a good checkpoint again after the next write.
    func refused(_ expected: (SnapshotCheckpointError) -> Bool, damage: (String, TestLedger) async throws -> Void) async throws {
        let t = try await TestLedger()
        defer { try? FileManager.default.removeItem(at: t.directory) }
        try await history(t)
        let path = checkpointPath(t)
        _ = try await SnapshotCheckpointer(path: path, ledger: t.ledger).write()
        try await damage(path, t)
        let lines = Lines()
        let again = try restarted(t)
        let checkpointer = SnapshotCheckpointer(path: path, ledger: again, logger: lines.logger)
        let outcome = try await checkpointer.load()
        guard case .rebuilt(let reason) = outcome else {
            Issue.record("a bad checkpoint was used: \(outcome)")
            return
        }
        #expect(expected(reason), "\(reason)")
        #expect(lines.all.count { $0.contains("refused") && $0.contains("rebuilding the snapshot from the ledger") } == 1, "\(lines.all)")
        expectSame(again.snapshot, try await t.reopened().snapshot, at: t.clock.now())
        // Replaced: the next write (start-up writes one once ready) is a checkpoint the following start uses.
        again.snapshot.markReady()
        #expect(checkpointer.isDue())
        _ = try await checkpointer.write()
        let third = try restarted(t)
        let skus = again.snapshot.sellerIDs.reduce(0) { $0 + (again.snapshot.seller($1)?.count ?? 0) }
        #expect(try await SnapshotCheckpointer(path: path, ledger: third).load() == .checkpoint(skus: skus, caughtUp: 0))
        expectSame(third.snapshot, try await t.reopened().snapshot, at: t.clock.now())
    }

    func edit(_ path: String, _ change: (inout [UInt8]) -> Void) throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        change(&bytes)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    @Test("a flipped byte in the payload fails the checksum")
    func flippedByte() async throws {
        try await refused({ $0 == .checksumMismatch }) { path, _ in try edit(path) { $0[$0.count / 2] ^= 0x10 } }
    }

    @Test("a truncated file is refused")
    func truncated() async throws {
        try await refused({ if case .truncated = $0 { true } else { false } }) { path, _ in try edit(path) { $0.removeLast(7) } }
        try await refused({ if case .truncated = $0 { true } else { false } }) { path, _ in try edit(path) { $0 = Array($0.prefix(20)) } }
    }

    @Test("a wrong magic or an unknown format version is refused")
    func wrongMagicOrVersion() async throws {
        try await refused({ $0 == .badMagic }) { path, _ in try edit(path) { $0[0] = UInt8(ascii: "X") } }
        try await refused({ $0 == .unknownVersion(2) }) { path, _ in try edit(path) { $0[8] = 2 } }
    }

    @Test("a checkpoint taken after events the database no longer has (a restored, older copy) is stale")
    func beyondTheStore() async throws {
        try await refused({ if case .stale(let why) = $0 { why.contains("has no event") } else { false } }) { path, t in
            // A copy of the database as it is now; the checkpoint is then taken after more events; the copy comes back.
            let database = t.ledger.database.path
            let older = t.directory.appendingPathComponent("older.sqlite").path
            try await t.ledger.database.pool.writeWithoutTransaction { db in try db.execute(sql: "VACUUM INTO ?", arguments: [older]) }
            try await more(t)
            _ = try await SnapshotCheckpointer(path: path, ledger: t.ledger).write()
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) }
            #expect(rename(older, database) == 0)
        }
    }

    @Test("a checkpoint of another database with a different history is stale")
    func anotherDatabase() async throws {
        try await refused({ if case .stale(let why) = $0 { why.contains("not the one it was taken after") } else { false } }) { path, t in
            // Another store: the same sellers, as many events, other facts. Its checkpoint is copied over this one.
            let other = try await TestLedger()
            defer { try? FileManager.default.removeItem(at: other.directory) }
            try await history(other)
            other.clock.advance(by: 60)
            try await more(other)
            _ = try await SnapshotCheckpointer(path: path, ledger: other.ledger).write()
            try await more(t)
        }
    }

    @Test("SKU rows added outside the ledger (a copy or a repair) make the checkpoint stale")
    func rowsChangedOutsideTheLedger() async throws {
        try await refused({ if case .stale(let why) = $0 { why.contains("SKUs in the database") } else { false } }) { _, t in
            try await t.ledger.database.pool.write { db in
                for table in ["skus", "sku_heads", "stock", "listings"] {
                    let columns = try Row.fetchAll(db, sql: "PRAGMA table_info(\(table))").map { $0["name"] as String }
                    let select = columns.map { $0 == "sku" ? "sku || '~copy'" : $0 }.joined(separator: ", ")
                    try db.execute(sql: "INSERT INTO \(table) (\(columns.joined(separator: ", "))) SELECT \(select) FROM \(table) WHERE sku = 'MUG-1'")
                }
            }
        }
    }

    @Test("progress counts the checkpoint's SKUs; a stop during the load ends it with RebuildStopped (no rebuild after it)")
    func progressAndStop() async throws {
        let t = try await TestLedger()
        defer { try? FileManager.default.removeItem(at: t.directory) }
        try await history(t)
        _ = try await SnapshotCheckpointer(path: checkpointPath(t), ledger: t.ledger).write()
        let loading = try restarted(t)
        _ = try await SnapshotCheckpointer(path: checkpointPath(t), ledger: loading).load()
        #expect(loading.snapshot.progress.total == 10 && loading.snapshot.progress.loaded == 10 && loading.snapshot.progress.percent == 100)

        let stopped = try restarted(t)
        stopped.snapshot.progress.stop()
        let lines = Lines()
        await #expect(throws: RebuildStopped.self) {
            try await SnapshotCheckpointer(path: checkpointPath(t), ledger: stopped, logger: lines.logger).load()
        }
        #expect(stopped.snapshot.sellerIDs.isEmpty && !lines.all.contains { $0.contains("rebuilding") })
    }

    @Test("the background policy: due after a rebuild, then after enough events or time, never more often than the spacing or a tenth of a core")
    func policy() async throws {
        let t = try await TestLedger()
        defer { try? FileManager.default.removeItem(at: t.directory) }
        let checkpointer = SnapshotCheckpointer(path: checkpointPath(t), ledger: t.ledger,
                                                policy: .init(events: 3, interval: .seconds(100), spacing: .seconds(10)))
        // Writes here take however long the machine lets them: their duration is set, so only the policy is tested.
        func write() async throws {
            _ = try await checkpointer.write()
            checkpointer.state.withLock { $0.lastWrite = .milliseconds(100) }
        }
        #expect(checkpointer.isDue())
        try await write()
        #expect(!checkpointer.isDue())
        for n in 0..<3 { try await t.addSKU("SKU-\(n)", east: 1) }
        #expect(checkpointer.eventsSinceCheckpoint == 3)
        #expect(!checkpointer.isDue(), "within the spacing")
        #expect(checkpointer.isDue(now: .now + .seconds(11)))
        try await write()
        try await t.addSKU("SKU-9", east: 1)
        #expect(!checkpointer.isDue(now: .now + .seconds(11)), "one event, before the interval")
        #expect(checkpointer.isDue(now: .now + .seconds(101)))
        // A write that took 20 s is followed by 180 s without one (at most a tenth of a core), events or not.
        for n in 0..<3 { try await t.addSKU("SKU-1\(n)", east: 1) }
        checkpointer.state.withLock { $0.lastWrite = .seconds(20) }
        #expect(!checkpointer.isDue(now: .now + .seconds(170)))
        #expect(checkpointer.isDue(now: .now + .seconds(190)))
    }
}
