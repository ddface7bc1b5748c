import Foundation
import GRDB
import ShelfCore

extension Ledger {
    /// Events of `seller` in sequence order after `after`, optionally for one SKU and up to an instant.
    public func events(seller: String, sku: String? = nil, after: Int64 = 0, until: Date? = nil, limit: Int = 1000) throws -> [LedgerEvent] {
        let (sql, arguments) = Self.eventsQuery(seller: seller, sku: sku, after: after, until: until, limit: limit)
        return try database.pool.read { db in try Self.decodeEvents(db, seller: seller, sql: sql, arguments: arguments) }
    }

    /// `events(seller:after:limit:)` through GRDB's asynchronous read: the caller's thread never waits on SQLite.
    public func readEvents(seller: String, after: Int64, limit: Int) async throws -> [LedgerEvent] {
        let (sql, arguments) = Self.eventsQuery(seller: seller, sku: nil, after: after, until: nil, limit: limit)
        return try await database.pool.read { db in try Self.decodeEvents(db, seller: seller, sql: sql, arguments: arguments) }
    }

    static func eventsQuery(seller: String, sku: String?, after: Int64, until: Date?, limit: Int) -> (String, StatementArguments) {
        var sql = "SELECT sequence, source, externalId, recordedAt, body FROM events WHERE seller = ? AND sequence > ?"
        var args: [any DatabaseValueConvertible] = [seller, after]
        if let sku {
            sql += " AND sku = ?"
            args.append(sku)
        }
        if let until {
            sql += " AND recordedAt <= ?"
            args.append(until.timeIntervalSince1970)
        }
        sql += " ORDER BY sequence LIMIT ?"
        args.append(limit)
        return (sql, StatementArguments(args))
    }

    static func decodeEvents(_ db: Database, seller: String, sql: String, arguments: StatementArguments) throws -> [LedgerEvent] {
        let decoder = ShelfJSON.decoder()
        var out: [LedgerEvent] = []
        let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
        while let row = try rows.next() {
            let event = try decoder.decode(ShelfEvent.self, from: Data((row[4] as String).utf8))
            out.append(
                LedgerEvent(seller: seller, sequence: row[0], source: row[1], externalId: row[2],
                            recordedAt: Date(timeIntervalSince1970: row[3]), event: event)
            )
        }
        return out
    }

    /// The SKU as it was at `instant`, by replaying its events from the start of the ledger. Nil if it did not exist yet.
    public func replay(seller: String, sku: String, at instant: Date) throws -> SKUState? {
        try database.pool.read { db in
            let events = try Self.decodeEvents(
                db, seller: seller,
                sql: """
                    SELECT sequence, source, externalId, recordedAt, body FROM events
                    WHERE seller = ? AND sku = ? AND recordedAt <= ? ORDER BY sequence
                    """,
                arguments: [seller, sku, instant.timeIntervalSince1970]
            )
            var state: SKUState?
            for e in events { Inventory.apply(e.event, to: &state, sequence: e.sequence, recordedAt: e.recordedAt) }
            return state
        }
    }

    /// Every SKU and the catalog of `seller`, rebuilt by replaying the whole ledger (for verification and audits).
    public func replayAll(seller: String) throws -> (states: [String: SKUState], catalog: SellerCatalog) {
        try database.pool.read { db in
            var states: [String: SKUState] = [:]
            var catalog = SellerCatalog()
            let decoder = ShelfJSON.decoder()
            let rows = try Row.fetchCursor(
                db, sql: "SELECT sequence, recordedAt, body, sku FROM events WHERE seller = ? ORDER BY sequence", arguments: [seller]
            )
            while let row = try rows.next() {
                let event = try decoder.decode(ShelfEvent.self, from: Data((row[2] as String).utf8))
                if catalog.apply(event) { continue }
                guard let sku: String = row[3] else { continue }
                var state = states[sku]
                Inventory.apply(event, to: &state, sequence: row[0], recordedAt: Date(timeIntervalSince1970: row[1]))
                states[sku] = state
            }
            return (states, catalog)
        }
    }
}

extension Ledger {
    /// The last sequence recorded strictly before `instant` (0 if none). Sequences are contiguous and recorded in time order,
    /// so a binary search over primary-key lookups finds it without a time index.
    public func sequence(seller: String, before instant: Date) throws -> Int64 {
        try database.pool.read { db in
            var lo: Int64 = 0
            var hi = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(sequence), 0) FROM events WHERE seller = ?", arguments: [seller]) ?? 0
            let target = instant.timeIntervalSince1970
            while lo < hi {
                let mid = (lo + hi + 1) / 2
                let at = try Double.fetchOne(
                    db, sql: "SELECT recordedAt FROM events WHERE seller = ? AND sequence = ?", arguments: [seller, mid]
                ) ?? .infinity
                if at < target { lo = mid } else { hi = mid - 1 }
            }
            return lo
        }
    }
}

extension Ledger {
    /// Events of `types` recorded in `(from, through]`, newest first, for one SKU or the whole seller (rules' windowed counts).
    public func events(
        seller: String, sku: String?, types: Set<EventType>, recordedAfter from: Date, through to: Date, limit: Int = 100_000
    ) throws -> [LedgerEvent] {
        let start = try sequence(seller: seller, before: from)
        return try newest(seller: seller, sku: sku, types: types, extra: "sequence > ? AND recordedAt > ? AND recordedAt <= ?",
                          arguments: [start, from.timeIntervalSince1970, to.timeIntervalSince1970], limit: limit)
    }

    /// Events of `types` of one SKU before `sequence`, newest first (what a price or a safety stock was before a change).
    public func events(seller: String, sku: String, types: Set<EventType>, before sequence: Int64, limit: Int) throws -> [LedgerEvent] {
        try newest(seller: seller, sku: sku, types: types, extra: "sequence < ?", arguments: [sequence], limit: limit)
    }

    private func newest(
        seller: String, sku: String?, types: Set<EventType>, extra: String, arguments: [any DatabaseValueConvertible], limit: Int
    ) throws -> [LedgerEvent] {
        guard !types.isEmpty else { return [] }
        let typeList = types.map(\.rawValue).sorted()
        var sql = "SELECT sequence, source, externalId, recordedAt, body FROM events WHERE seller = ?"
        var args: [any DatabaseValueConvertible] = [seller]
        if let sku {
            sql += " AND sku = ?"
            args.append(sku)
        }
        sql += " AND type IN (\(typeList.map { _ in "?" }.joined(separator: ","))) AND \(extra) ORDER BY sequence DESC LIMIT ?"
        args += typeList.map { $0 as any DatabaseValueConvertible }
        args += arguments
        args.append(limit)
        return try database.pool.read { db in try Self.decodeEvents(db, seller: seller, sql: sql, arguments: StatementArguments(args)) }
    }
}

extension Ledger {
    /// The order confirmations and SKU upserts recorded in `(from, through]` — the newest `limit` of them — handed to `body`
    /// oldest first, one at a time: what sales velocity is rebuilt from at start-up. An upsert comes as a bare event with its SKU,
    /// recorded at its time (only those count there), so a large catalog's upserts are neither decoded nor held at once.
    public func forEachSalesEvent(
        seller: String, recordedAfter from: Date, through to: Date, limit: Int = 100_000, _ body: (LedgerEvent) throws -> Void
    ) throws {
        let start = try sequence(seller: seller, before: from)
        let types: [any DatabaseValueConvertible] = [EventType.orderConfirmed.rawValue, EventType.skuUpserted.rawValue]
        let window: [any DatabaseValueConvertible] = [start, from.timeIntervalSince1970, to.timeIntervalSince1970]
        try database.pool.read { db in
            // The oldest sequence among the newest `limit`, then a forward scan from it.
            let oldest = try Int64.fetchOne(
                db,
                sql: """
                    SELECT MIN(sequence) FROM (SELECT sequence FROM events WHERE seller = ? AND type IN (?, ?) AND sequence > ?
                        AND recordedAt > ? AND recordedAt <= ? ORDER BY sequence DESC LIMIT ?)
                    """,
                arguments: StatementArguments([seller] + types + window + [limit])
            )
            guard let oldest else { return }
            let decoder = ShelfJSON.decoder()
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT sequence, source, externalId, recordedAt, sku, CASE WHEN type = ? THEN body END FROM events
                    WHERE seller = ? AND type IN (?, ?) AND sequence >= ? AND recordedAt > ? AND recordedAt <= ? ORDER BY sequence
                    """,
                arguments: StatementArguments([EventType.orderConfirmed.rawValue, seller] + types + [oldest] + window.dropFirst())
            )
            while let row = try rows.next() {
                let recordedAt = Date(timeIntervalSince1970: row[3])
                let event: ShelfEvent
                if let body = row[5] as String? {
                    event = try decoder.decode(ShelfEvent.self, from: Data(body.utf8))
                } else {
                    event = ShelfEvent(type: .skuUpserted, sku: row[4], occurredAt: recordedAt)
                }
                try body(LedgerEvent(seller: seller, sequence: row[0], source: row[1], externalId: row[2], recordedAt: recordedAt, event: event))
            }
        }
    }
}
