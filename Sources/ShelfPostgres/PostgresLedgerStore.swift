import Foundation
import Logging
import PostgresNIO
import ShelfCore
import ShelfLedger

/// The PostgreSQL conformance of `LedgerStore`: the same promises as the SQLite file, kept by the server for several nodes.
///
/// Each seller has a head row (`ledger_heads`) holding its last sequence. A write moves it from the sequence the batch was
/// decided on to the batch's last one in one conditional statement, first in the transaction: a concurrent writer of the
/// same seller waits on that row and then finds it moved (a `LedgerStoreConflict.sequence`), so one seller's batches commit
/// in sequence order and a reader never sees a gap. Values are always bound parameters, never spliced into SQL text.
/// `client` must be running (`PostgresClient.run()` in a task or service) while the store is used.
public struct PostgresLedgerStore: LedgerStore {
    public let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger = Logger(label: "shelf.postgres")) {
        self.client = client
        self.logger = logger
    }

    /// Brings the database's schema up to this binary's (see `PostgresSchema`).
    public func migrate() async throws {
        try await PostgresSchema.migrate(client, logger: logger)
    }

    // MARK: Reads

    public func read(_ request: LedgerReadRequest) async throws -> LedgerReadResult {
        let sellers = request.sellers.sorted()
        let keys = Array(request.keys)
        let orders = Array(request.orders)
        return try await transaction { connection in
            // One consistent view for the three reads.
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
            var result = LedgerReadResult()
            for seller in sellers { result.lastSequence[seller] = 0 }
            if !sellers.isEmpty {
                let rows = try await connection.query(
                    "SELECT seller, lastSequence FROM ledger_heads WHERE seller = ANY(\(sellers))", logger: logger
                )
                for try await (seller, last) in rows.decode((String, Int64).self) { result.lastSequence[seller] = last }
            }
            if !keys.isEmpty {
                let rows = try await connection.query(
                    """
                    SELECT i.seller, i.source, i.key, i.requestHash, i.outcome FROM idempotency i
                    JOIN UNNEST(\(keys.map(\.seller))::text[], \(keys.map(\.source))::text[], \(keys.map(\.key))::text[]) AS k(seller, source, key)
                        ON i.seller = k.seller AND i.source = k.source AND i.key = k.key
                    """,
                    logger: logger
                )
                for try await (seller, source, key, hash, outcome) in rows.decode((String, String, String, String?, String).self) {
                    result.outcomes[IdempotencyKey(seller: seller, source: source, key: key)] = StoredOutcome(requestHash: hash, outcome: outcome)
                }
            }
            if !orders.isEmpty {
                for order in orders { result.orderHistory[order] = [] }
                let decoder = ShelfJSON.decoder()
                let rows = try await connection.query(
                    """
                    SELECT e.seller, e.sku, e.orderId, e.body FROM events e
                    JOIN UNNEST(\(orders.map(\.seller))::text[], \(orders.map(\.sku))::text[], \(orders.map(\.orderId))::text[]) AS o(seller, sku, orderId)
                        ON e.seller = o.seller AND e.sku = o.sku AND e.orderId = o.orderId
                    WHERE e.type IN ('order.confirmed', 'order.cancelled', 'order.fulfilled', 'return.received')
                    ORDER BY e.seller, e.sequence
                    """,
                    logger: logger
                )
                for try await (seller, sku, orderId, body) in rows.decode((String, String, String, String).self) {
                    let event = try decoder.decode(ShelfEvent.self, from: Data(body.utf8))
                    result.orderHistory[OrderKey(seller: seller, sku: sku, orderId: orderId), default: []].append(event)
                }
            }
            return result
        }
    }

    public func events(seller: String, after: Int64, limit: Int) async throws -> [LedgerEvent] {
        let rows = try await client.query(
            """
            SELECT sequence, source, externalId, recordedAt, body FROM events
            WHERE seller = \(seller) AND sequence > \(after) ORDER BY sequence LIMIT \(limit)
            """,
            logger: logger
        )
        return try await Self.decodeEvents(rows, seller: seller)
    }

    /// The seller's events from rows of (sequence, source, externalId, recordedAt, body), in the order they come.
    static func decodeEvents(_ rows: PostgresRowSequence, seller: String) async throws -> [LedgerEvent] {
        let decoder = ShelfJSON.decoder()
        var out: [LedgerEvent] = []
        for try await (sequence, source, externalId, recordedAt, body) in rows.decode((Int64, String, String?, Double, String).self) {
            out.append(LedgerEvent(seller: seller, sequence: sequence, source: source, externalId: externalId,
                                   recordedAt: Date(timeIntervalSince1970: recordedAt),
                                   event: try decoder.decode(ShelfEvent.self, from: Data(body.utf8))))
        }
        return out
    }

    // MARK: Writes

    public func write(_ set: LedgerWriteSet) async throws {
        guard !set.isEmpty else { return }
        try await transaction { connection in
            for advance in set.sequences {
                try await advanceHead(advance, connection)
            }
            if !set.events.isEmpty {
                // One statement for the batch's events: the columns as arrays (a mask stands for each nullable one).
                let e = set.events
                try await connection.query(
                    """
                    INSERT INTO events (seller, sequence, type, sku, source, externalId, recordedAt, orderId, body)
                    SELECT seller, sequence, type, CASE WHEN hasSKU THEN sku END, source, CASE WHEN hasExternalId THEN externalId END,
                        recordedAt, CASE WHEN hasOrderId THEN orderId END, body
                    FROM UNNEST(\(e.map(\.seller))::text[], \(e.map(\.sequence))::int8[], \(e.map(\.type))::text[],
                        \(e.map { $0.sku ?? "" })::text[], \(e.map { $0.sku != nil })::bool[], \(e.map(\.source))::text[],
                        \(e.map { $0.externalId ?? "" })::text[], \(e.map { $0.externalId != nil })::bool[],
                        \(e.map { $0.recordedAt.timeIntervalSince1970 })::float8[], \(e.map { $0.orderId ?? "" })::text[],
                        \(e.map { $0.orderId != nil })::bool[], \(e.map(\.body))::text[])
                        AS r(seller, sequence, type, sku, hasSKU, source, externalId, hasExternalId, recordedAt, orderId, hasOrderId, body)
                    """,
                    logger: logger
                )
            }
            // State rows, outbox and idempotency keys: a few multi-row statements per batch (arrays through UNNEST), not one
            // round trip per row; each keeps its per-row condition and names the first row that failed it.
            try await writeStates(set.states, connection)
            for change in set.catalogs { try await write(change, connection) }
            try await writeOutbox(set.outbox, connection)
            try await writeIdempotency(set.idempotency, connection)
            // Other nodes hear of the new events when this commits (and not at all if it rolls back).
            try await ClusterChange.announceEvents(set.sequences.map(\.seller), on: connection, logger: logger)
        }
    }

    /// Moves the seller's head from `expected` to `last` in one conditional statement (created at the seller's first batch).
    private func advanceHead(_ advance: SequenceAdvance, _ connection: PostgresConnection) async throws {
        let rows: PostgresRowSequence
        if advance.expected == 0 {
            rows = try await connection.query(
                """
                INSERT INTO ledger_heads AS h (seller, lastSequence) VALUES (\(advance.seller), \(advance.last))
                ON CONFLICT (seller) DO UPDATE SET lastSequence = excluded.lastSequence WHERE h.lastSequence = 0
                RETURNING 1
                """,
                logger: logger
            )
        } else {
            rows = try await connection.query(
                """
                UPDATE ledger_heads SET lastSequence = \(advance.last) WHERE seller = \(advance.seller) AND lastSequence = \(advance.expected)
                RETURNING 1
                """,
                logger: logger
            )
        }
        if try await Self.count(rows) == 1 { return }
        let found = try await connection.query("SELECT lastSequence FROM ledger_heads WHERE seller = \(advance.seller)", logger: logger)
        var at: Int64 = 0
        for try await last in found.decode(Int64.self) { at = last }
        throw LedgerStoreConflict.sequence(seller: advance.seller, expected: advance.expected, found: at)
    }

    /// Writes every SKU's state change. Changes are taken in runs where no SKU repeats (in practice the whole batch: the
    /// ledger merges a batch's commands per SKU); within a run the `skus` rows that only move their sequence go in one
    /// statement and every changed stock row in one compare-and-set statement, the rest (new SKUs or items, new stock rows,
    /// listings, holds) one statement each.
    private func writeStates(_ changes: [SKUStateChange], _ connection: PostgresConnection) async throws {
        var run: [SKUStateChange] = []
        var inRun = Set<[String]>()
        for change in changes {
            if !inRun.insert([change.seller, change.new.sku]).inserted {
                try await writeRun(run, connection)
                run.removeAll()
                inRun = [[change.seller, change.new.sku]]
            }
            run.append(change)
        }
        try await writeRun(run, connection)
    }

    /// One compare-and-set stock update: `previous` is what the writer decided on, `level` the new value.
    private struct StockUpdate {
        var seller: String
        var sku: String
        var location: String
        var previous: StockLevel
        var level: StockLevel
        var promise: Bool
        var spikeMultiplier: Int
    }

    /// Writes changes of distinct SKUs (see `writeStates`).
    private func writeRun(_ changes: [SKUStateChange], _ connection: PostgresConnection) async throws {
        guard !changes.isEmpty else { return }
        var touched: [SKUStateChange] = []
        var updates: [StockUpdate] = []
        for change in changes {
            let seller = change.seller
            let new = change.new
            let old = change.old
            let sku = new.sku
            if old == nil || old!.item != new.item || old!.spikeMultiplier != new.spikeMultiplier {
                let item = try Self.json(new.item)
                try await connection.query(
                    """
                    INSERT INTO skus (seller, sku, item, spikeMultiplier, lastSequence, updatedAt)
                    VALUES (\(seller), \(sku), \(item), \(new.spikeMultiplier), \(new.lastSequence), \(new.updatedAt.timeIntervalSince1970))
                    ON CONFLICT (seller, sku) DO UPDATE SET item = excluded.item, spikeMultiplier = excluded.spikeMultiplier,
                        lastSequence = excluded.lastSequence, updatedAt = excluded.updatedAt
                    """,
                    logger: logger
                )
            } else {
                touched.append(change)
            }
            let oldStock = old?.stock ?? []  // decoded once, not once per location
            for stock in new.stock {
                let level = stock.level
                let location = stock.location
                if let previous = oldStock.first(where: { $0.location == location })?.level {
                    guard previous != level else { continue }
                    updates.append(StockUpdate(seller: seller, sku: sku, location: location, previous: previous, level: level,
                                               promise: change.promise, spikeMultiplier: new.spikeMultiplier))
                } else {
                    let rows = try await connection.query(
                        """
                        INSERT INTO stock (seller, sku, location, onHand, committed, reserved, unavailable, safetyStock, incoming, oversold, version)
                        VALUES (\(seller), \(sku), \(location), \(level.onHand), \(level.committed), \(level.reserved), \(level.unavailable),
                            \(level.safetyStock), \(level.incoming), \(level.oversold), 1)
                        ON CONFLICT DO NOTHING RETURNING 1
                        """,
                        logger: logger
                    )
                    guard try await Self.count(rows) == 1 else {
                        throw LedgerStoreConflict.stateRow("stock row \(seller)/\(sku)/\(location) was created under the writer")
                    }
                }
            }
        }
        if !touched.isEmpty {
            try await connection.query(
                """
                UPDATE skus AS s SET lastSequence = n.lastSequence, updatedAt = n.updatedAt
                FROM UNNEST(\(touched.map(\.seller))::text[], \(touched.map(\.new.sku))::text[], \(touched.map(\.new.lastSequence))::int8[],
                    \(touched.map { $0.new.updatedAt.timeIntervalSince1970 })::float8[]) AS n(seller, sku, lastSequence, updatedAt)
                WHERE s.seller = n.seller AND s.sku = n.sku
                """,
                logger: logger
            )
        }
        if !updates.isEmpty { try await updateStock(updates, connection) }
        for change in changes { try await writeListingsAndHolds(change, connection) }
    }

    /// Every stock update in one statement, each row compare-and-set on its old values (for promises the same statement also
    /// checks that availability stays at or above zero); a row that no longer matches is named in the conflict.
    private func updateStock(_ u: [StockUpdate], _ connection: PostgresConnection) async throws {
        let rows = try await connection.query(
            """
            UPDATE stock AS s SET onHand = n.onHand, committed = n.committed, reserved = n.reserved, unavailable = n.unavailable,
                safetyStock = n.safetyStock, incoming = n.incoming, oversold = n.oversold, version = s.version + 1
            FROM UNNEST(\(u.map(\.seller))::text[], \(u.map(\.sku))::text[], \(u.map(\.location))::text[],
                \(u.map(\.level.onHand))::int8[], \(u.map(\.level.committed))::int8[], \(u.map(\.level.reserved))::int8[],
                \(u.map(\.level.unavailable))::int8[], \(u.map(\.level.safetyStock))::int8[], \(u.map(\.level.incoming))::int8[],
                \(u.map(\.level.oversold))::int8[], \(u.map(\.previous.onHand))::int8[], \(u.map(\.previous.committed))::int8[],
                \(u.map(\.previous.reserved))::int8[], \(u.map(\.previous.unavailable))::int8[], \(u.map(\.previous.safetyStock))::int8[],
                \(u.map(\.previous.incoming))::int8[], \(u.map(\.previous.oversold))::int8[], \(u.map(\.promise))::bool[],
                \(u.map(\.spikeMultiplier))::int8[])
                AS n(seller, sku, location, onHand, committed, reserved, unavailable, safetyStock, incoming, oversold,
                    oldOnHand, oldCommitted, oldReserved, oldUnavailable, oldSafetyStock, oldIncoming, oldOversold, promise, spike)
            WHERE s.seller = n.seller AND s.sku = n.sku AND s.location = n.location AND s.onHand = n.oldOnHand
                AND s.committed = n.oldCommitted AND s.reserved = n.oldReserved AND s.unavailable = n.oldUnavailable
                AND s.safetyStock = n.oldSafetyStock AND s.incoming = n.oldIncoming AND s.oversold = n.oldOversold
                AND (NOT n.promise OR s.onHand - s.committed - n.reserved - s.unavailable - s.safetyStock * n.spike >= 0)
            RETURNING s.seller, s.sku, s.location
            """,
            logger: logger
        )
        var written = Set<[String]>()
        for try await (seller, sku, location) in rows.decode((String, String, String).self) { written.insert([seller, sku, location]) }
        if let missed = u.first(where: { !written.contains([$0.seller, $0.sku, $0.location]) }) {
            throw LedgerStoreConflict.stateRow("stock row \(missed.seller)/\(missed.sku)/\(missed.location) changed under the writer")
        }
    }

    /// The SKU's listings that differ and its holds placed or released.
    private func writeListingsAndHolds(_ change: SKUStateChange, _ connection: PostgresConnection) async throws {
        let seller = change.seller
        let new = change.new
        let old = change.old
        let sku = new.sku
        let oldListings = old?.listings ?? []  // decoded once, not once per channel
        for listing in new.listings where !oldListings.contains(listing) {
            let body = try Self.json(listing)
            try await connection.query(
                """
                INSERT INTO listings (seller, sku, channel, body) VALUES (\(seller), \(sku), \(listing.channel), \(body))
                ON CONFLICT (seller, sku, channel) DO UPDATE SET body = excluded.body
                """,
                logger: logger
            )
        }
        let oldHolds = Set(old?.holds.map(\.id) ?? [])
        let newHolds = Set(new.holds.map(\.id))
        for hold in new.holds where !oldHolds.contains(hold.id) {
            let allocation = try hold.allocation.map { try Self.json($0) }
            try await connection.query(
                """
                INSERT INTO holds (seller, id, sku, location, qty, expiresAt, allocation)
                VALUES (\(seller), \(hold.id), \(hold.sku), \(hold.location), \(hold.qty), \(hold.expiresAt.timeIntervalSince1970), \(allocation))
                """,
                logger: logger
            )
        }
        for id in oldHolds.subtracting(newHolds).sorted() {
            let rows = try await connection.query("DELETE FROM holds WHERE seller = \(seller) AND id = \(id) RETURNING 1", logger: logger)
            guard try await Self.count(rows) == 1 else {
                throw LedgerStoreConflict.stateRow("hold \(seller)/\(id) was removed under the writer")
            }
        }
    }

    /// The outbox rows in one statement (a later row for the same SKU replaces an earlier one, as row by row).
    private func writeOutbox(_ rows: [OutboxRow], _ connection: PostgresConnection) async throws {
        guard !rows.isEmpty else { return }
        var last: [[String]: Int] = [:]
        for (i, row) in rows.enumerated() { last[[row.seller, row.sku]] = i }
        let o = rows.indices.filter { last[[rows[$0].seller, rows[$0].sku]] == $0 }.map { rows[$0] }
        try await connection.query(
            """
            INSERT INTO outbox (seller, sku, sequence)
            SELECT seller, sku, sequence FROM UNNEST(\(o.map(\.seller))::text[], \(o.map(\.sku))::text[], \(o.map(\.sequence))::int8[])
                AS r(seller, sku, sequence)
            ON CONFLICT (seller, sku) DO UPDATE SET sequence = excluded.sequence
            """,
            logger: logger
        )
    }

    /// The idempotency keys in one statement; a key another writer holds (or one the batch repeats) is a conflict, named.
    private func writeIdempotency(_ rows: [IdempotencyRow], _ connection: PostgresConnection) async throws {
        guard !rows.isEmpty else { return }
        // ON CONFLICT DO NOTHING keeps the transaction usable; a key not returned was recorded by another writer.
        let inserted = try await connection.query(
            """
            INSERT INTO idempotency (seller, source, key, requestHash, sequence, outcome)
            SELECT seller, source, key, CASE WHEN hasHash THEN requestHash END, sequence, outcome
            FROM UNNEST(\(rows.map(\.key.seller))::text[], \(rows.map(\.key.source))::text[], \(rows.map(\.key.key))::text[],
                \(rows.map { $0.requestHash ?? "" })::text[], \(rows.map { $0.requestHash != nil })::bool[],
                \(rows.map(\.sequence))::int8[], \(rows.map(\.outcome))::text[])
                AS r(seller, source, key, requestHash, hasHash, sequence, outcome)
            ON CONFLICT DO NOTHING RETURNING seller, source, key
            """,
            logger: logger
        )
        var written: [IdempotencyKey: Int] = [:]
        for try await (seller, source, key) in inserted.decode((String, String, String).self) {
            written[IdempotencyKey(seller: seller, source: source, key: key), default: 0] += 1
        }
        for row in rows {
            guard let n = written[row.key], n > 0 else { throw LedgerStoreConflict.idempotencyKey(row.key) }
            written[row.key] = n - 1
        }
    }

    /// Writes the locations and channels that differ.
    private func write(_ change: CatalogChange, _ connection: PostgresConnection) async throws {
        for location in change.new.locations where !change.old.locations.contains(location) {
            let body = try Self.json(location)
            try await connection.query(
                """
                INSERT INTO locations (seller, id, body) VALUES (\(change.seller), \(location.id), \(body))
                ON CONFLICT (seller, id) DO UPDATE SET body = excluded.body
                """,
                logger: logger
            )
        }
        for channel in change.new.channels where !change.old.channels.contains(channel) {
            let body = try Self.json(channel)
            try await connection.query(
                """
                INSERT INTO channels (seller, id, body) VALUES (\(change.seller), \(channel.id), \(body))
                ON CONFLICT (seller, id) DO UPDATE SET body = excluded.body
                """,
                logger: logger
            )
        }
    }

    // MARK: Helpers

    /// Runs `body` in one transaction; a `LedgerStoreConflict` thrown inside comes out as itself.
    private func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await client.withTransaction(logger: logger) { connection in try await body(connection) }
        } catch let error as PostgresTransactionError {
            if let conflict = error.closureError as? LedgerStoreConflict { throw conflict }
            if let failure = error.closureError ?? error.beginError ?? error.commitError { throw failure }
            throw error
        }
    }

    static func count(_ rows: PostgresRowSequence) async throws -> Int {
        var n = 0
        for try await _ in rows { n += 1 }
        return n
    }

    static func json(_ value: some Encodable) throws -> String {
        String(decoding: try ShelfJSON.encoder().encode(value), as: UTF8.self)
    }
}
