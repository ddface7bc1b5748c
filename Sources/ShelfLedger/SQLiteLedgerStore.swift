import Foundation
import GRDB
import ShelfCore

/// The embedded conformance of `LedgerStore`: the ledger's SQLite file (WAL, one writer), through GRDB.
public struct SQLiteLedgerStore: LedgerStore {
    public let database: LedgerDatabase

    public init(database: LedgerDatabase) {
        self.database = database
    }

    public func read(_ request: LedgerReadRequest) async throws -> LedgerReadResult {
        try await database.pool.read { db in try Self.read(request, db) }
    }

    /// One writer, local: the read, the decision and the write share one transaction (one hop to the writer per batch).
    /// The sequence checks still run, so a second process writing the same file is detected as with any store.
    public func commit<T: Sendable>(
        _ request: LedgerReadRequest, decide: @escaping @Sendable (LedgerReadResult) throws -> (LedgerWriteSet, T)
    ) async throws -> T {
        try await database.pool.write { db in
            let (set, value) = try decide(try Self.read(request, db))
            try Self.write(set, db)
            return value
        }
    }

    static func read(_ request: LedgerReadRequest, _ db: Database) throws -> LedgerReadResult {
        var result = LedgerReadResult()
        for seller in request.sellers {
            result.lastSequence[seller] = try Self.lastSequence(db, seller: seller)
        }
        let lookup = try db.cachedStatement(sql: "SELECT requestHash, outcome FROM idempotency WHERE seller = ? AND source = ? AND key = ?")
        for key in request.keys {
            if let row = try Row.fetchOne(lookup, arguments: [key.seller, key.source, key.key]) {
                result.outcomes[key] = StoredOutcome(requestHash: row[0], outcome: row[1])
            }
        }
        let decoder = ShelfJSON.decoder()
        for order in request.orders {
            result.orderHistory[order] = try Self.orderEvents(db, order: order, decoder: decoder)
        }
        return result
    }

    public func write(_ set: LedgerWriteSet) async throws {
        guard !set.isEmpty else { return }
        try await database.pool.write { db in try Self.write(set, db) }
    }

    static func write(_ set: LedgerWriteSet, _ db: Database) throws {
        guard !set.isEmpty else { return }
        for advance in set.sequences {
            let found = try Self.lastSequence(db, seller: advance.seller)
            guard found == advance.expected else {
                throw LedgerStoreConflict.sequence(seller: advance.seller, expected: advance.expected, found: found)
            }
        }
        let insert = try db.cachedStatement(
            sql: "INSERT INTO events (seller, sequence, type, sku, source, externalId, recordedAt, body) VALUES (?,?,?,?,?,?,?,?)"
        )
        for e in set.events {
            try insert.execute(arguments: [e.seller, e.sequence, e.type, e.sku, e.source, e.externalId, e.recordedAt.timeIntervalSince1970, e.body])
        }
        do {
            for change in set.states {
                try StateRows.write(db, seller: change.seller, old: change.old, new: change.new, promise: change.promise)
            }
        } catch let error as StateRows.ConsistencyError {
            throw LedgerStoreConflict.stateRow(error.description)
        }
        for change in set.catalogs {
            try StateRows.write(db, seller: change.seller, old: change.old, new: change.new)
        }
        // Transactional outbox: one row per (seller, SKU) holding the latest sequence.
        let outbox = try db.cachedStatement(
            sql: "INSERT INTO outbox (seller, sku, sequence) VALUES (?,?,?) ON CONFLICT (seller, sku) DO UPDATE SET sequence = excluded.sequence"
        )
        for row in set.outbox { try outbox.execute(arguments: [row.seller, row.sku, row.sequence]) }
        let keys = try db.cachedStatement(
            sql: "INSERT INTO idempotency (seller, source, key, requestHash, sequence, outcome) VALUES (?,?,?,?,?,?)"
        )
        for row in set.idempotency {
            do {
                try keys.execute(arguments: [row.key.seller, row.key.source, row.key.key, row.requestHash, row.sequence, row.outcome])
            } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                throw LedgerStoreConflict.idempotencyKey(row.key)
            }
        }
    }

    public func events(seller: String, after: Int64, limit: Int) async throws -> [LedgerEvent] {
        try await database.pool.read { db in
            try SQLiteHistoryStore.decodeEvents(
                db, seller: seller,
                sql: "SELECT sequence, source, externalId, recordedAt, body FROM events WHERE seller = ? AND sequence > ? ORDER BY sequence LIMIT ?",
                arguments: [seller, after, limit]
            )
        }
    }

    static func lastSequence(_ db: Database, seller: String) throws -> Int64 {
        try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT COALESCE(MAX(sequence), 0) FROM events WHERE seller = ?"), arguments: [seller]
        ) ?? 0
    }

    /// The recorded events of one order on one SKU that move its units (confirmed, cancelled, fulfilled, returned), in
    /// sequence order.
    static func orderEvents(_ db: Database, order: OrderKey, decoder: JSONDecoder) throws -> [ShelfEvent] {
        let bodies = try String.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT body FROM events INDEXED BY events_by_order
                    WHERE seller = ? AND sku = ? AND type IN ('order.confirmed', 'order.cancelled', 'order.fulfilled', 'return.received')
                        AND json_extract(body, '$.orderId') = ?
                    ORDER BY sequence
                    """
            ),
            arguments: [order.seller, order.sku, order.orderId]
        )
        return try bodies.map { try decoder.decode(ShelfEvent.self, from: Data($0.utf8)) }
    }
}
