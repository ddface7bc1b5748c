import Foundation
import GRDB
import ShelfCore

/// The embedded conformance of `SellerStore`: the `sellers`, `seller_profiles` and `seller_settings` tables of the ledger's
/// SQLite file. GRDB's asynchronous reads and writes run on its own queues, never on the caller's thread.
public struct SQLiteSellerStore: SellerStore {
    public let database: LedgerDatabase

    public init(database: LedgerDatabase) { self.database = database }

    public func insert(_ seller: SellerRow, profile: String?) async throws -> Bool {
        let record = SellerRecord(id: seller.id, name: seller.name, currency: seller.currency, timeZone: seller.timeZone,
                                  createdAt: seller.createdAt.timeIntervalSince1970)
        return try await database.pool.write { db in
            try record.insert(db, onConflict: .ignore)
            guard db.changesCount > 0 else { return false }
            if let profile { try SellerProfileRecord(seller: seller.id, body: profile).save(db) }
            return true
        }
    }

    public func sellers() async throws -> [SellerRow] {
        try await database.pool.read { db in try SellerRecord.order(Column("id")).fetchAll(db) }.map(Self.row)
    }

    public func seller(id: String) async throws -> SellerRow? {
        try await database.pool.read { db in try SellerRecord.fetchOne(db, key: id) }.map(Self.row)
    }

    public func saveProfile(_ body: String, seller: String) async throws {
        try await database.pool.write { db in try SellerProfileRecord(seller: seller, body: body).save(db) }
    }

    public func profile(seller: String) async throws -> String? {
        try await database.pool.read { db in try SellerProfileRecord.fetchOne(db, key: seller)?.body }
    }

    public func setting(_ kind: String, seller: String) async throws -> String? {
        try await database.pool.read { db in try SellerSettingRecord.fetchOne(db, key: ["seller": seller, "kind": kind])?.body }
    }

    public func saveSetting(_ kind: String, seller: String, body: String) async throws {
        try await database.pool.write { db in try SellerSettingRecord(seller: seller, kind: kind, body: body).save(db) }
    }

    static func row(_ record: SellerRecord) -> SellerRow {
        SellerRow(id: record.id, name: record.name, currency: record.currency, timeZone: record.timeZone,
                  createdAt: Date(timeIntervalSince1970: record.createdAt))
    }
}

/// The embedded conformance of `ConnectionStore`: the `connections` table of the ledger's SQLite file.
public struct SQLiteConnectionStore: ConnectionStore {
    public let database: LedgerDatabase

    public init(database: LedgerDatabase) { self.database = database }

    public func upsert(_ c: ConnectionFixture, seller: String, at instant: Date) async throws {
        let credentials = try ShelfJSON.string(c.credentials)
        try await database.pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO connections (seller, id, channel, kind, baseURL, credentials, webhookSecret, pollIntervalSeconds,
                        pushEnabled, channelLocationId, createdAt) VALUES (?,?,?,?,?,?,?,?,?,?,?)
                    ON CONFLICT (seller, id) DO UPDATE SET channel = excluded.channel, kind = excluded.kind, baseURL = excluded.baseURL,
                        credentials = excluded.credentials, webhookSecret = excluded.webhookSecret,
                        pollIntervalSeconds = excluded.pollIntervalSeconds, pushEnabled = excluded.pushEnabled,
                        channelLocationId = excluded.channelLocationId
                    """,
                arguments: [
                    seller, c.id, c.channel, c.kind, c.baseURL, credentials, c.webhookSecret, c.pollIntervalSeconds, c.pushEnabled,
                    c.channelLocationId, instant.timeIntervalSince1970,
                ]
            )
        }
    }

    public func delete(id: String, seller: String) async throws -> Bool {
        try await database.pool.write { db in
            try db.execute(sql: "DELETE FROM connections WHERE seller = ? AND id = ?", arguments: [seller, id])
            return db.changesCount > 0
        }
    }

    public func connections(seller: String) async throws -> [ConnectionFixture] {
        try await database.pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, channel, kind, baseURL, credentials, webhookSecret, pollIntervalSeconds, pushEnabled, channelLocationId
                    FROM connections WHERE seller = ? ORDER BY id
                    """,
                arguments: [seller]
            ).map(Self.connection)
        }
    }

    public func sellers(connection id: String) async throws -> [String] {
        try await database.pool.read { db in
            try String.fetchAll(db, sql: "SELECT seller FROM connections WHERE id = ? ORDER BY seller", arguments: [id])
        }
    }

    public func pushEnabled() async throws -> [(seller: String, connection: ConnectionFixture)] {
        try await database.pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT seller, id, channel, kind, baseURL, credentials, webhookSecret, pollIntervalSeconds, pushEnabled, channelLocationId
                    FROM connections WHERE pushEnabled = 1 ORDER BY seller, id
                    """
            ).map { row in (row["seller"], Self.connection(row)) }
        }
    }

    static func connection(_ row: Row) -> ConnectionFixture {
        let credentials = (try? ShelfJSON.decode([String: String].self, from: Data((row["credentials"] as String).utf8))) ?? [:]
        return ConnectionFixture(
            id: row["id"], channel: row["channel"], kind: row["kind"], baseURL: row["baseURL"], credentials: credentials,
            webhookSecret: row["webhookSecret"], pollIntervalSeconds: row["pollIntervalSeconds"], pushEnabled: row["pushEnabled"],
            channelLocationId: row["channelLocationId"]
        )
    }
}

/// The embedded conformance of `LedgerHistoryStore`: reads of the `events` and `holds` tables of the ledger's SQLite file.
public struct SQLiteHistoryStore: LedgerHistoryStore {
    public let database: LedgerDatabase

    public init(database: LedgerDatabase) { self.database = database }

    public func events(seller: String, sku: String?, after: Int64, until: Date?, limit: Int) async throws -> [LedgerEvent] {
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
        let (text, arguments): (String, StatementArguments) = (sql, StatementArguments(args))
        return try await database.pool.read { db in try Self.decodeEvents(db, seller: seller, sql: text, arguments: arguments) }
    }

    public func newest(_ query: NewestEventsQuery) async throws -> [LedgerEvent] {
        guard !query.types.isEmpty else { return [] }
        let typeList = query.types.map(\.rawValue).sorted()
        var sql = "SELECT sequence, source, externalId, recordedAt, body FROM events WHERE seller = ?"
        var args: [any DatabaseValueConvertible] = [query.seller]
        if let sku = query.sku {
            sql += " AND sku = ?"
            args.append(sku)
        }
        sql += " AND type IN (\(typeList.map { _ in "?" }.joined(separator: ",")))"
        args += typeList.map { $0 as any DatabaseValueConvertible }
        if let after = query.afterSequence {
            sql += " AND sequence > ?"
            args.append(after)
        }
        if let before = query.beforeSequence {
            sql += " AND sequence < ?"
            args.append(before)
        }
        if let from = query.recordedAfter {
            sql += " AND recordedAt > ?"
            args.append(from.timeIntervalSince1970)
        }
        if let to = query.recordedThrough {
            sql += " AND recordedAt <= ?"
            args.append(to.timeIntervalSince1970)
        }
        sql += " ORDER BY sequence DESC LIMIT ?"
        args.append(query.limit)
        let (text, arguments, seller): (String, StatementArguments, String) = (sql, StatementArguments(args), query.seller)
        return try await database.pool.read { db in try Self.decodeEvents(db, seller: seller, sql: text, arguments: arguments) }
    }

    /// Sequences are contiguous and recorded in time order, so a binary search over primary-key lookups finds it without a
    /// time index.
    public func sequence(seller: String, before instant: Date) async throws -> Int64 {
        try await database.pool.read { db in
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

    public func salesEvents(seller: String, afterSequence start: Int64, recordedAfter from: Date, through to: Date, limit: Int,
                            _ body: @escaping @Sendable (LedgerEvent) throws -> Void) async throws {
        let types: [any DatabaseValueConvertible] = [EventType.orderConfirmed.rawValue, EventType.skuUpserted.rawValue]
        let window: [any DatabaseValueConvertible] = [start, from.timeIntervalSince1970, to.timeIntervalSince1970]
        let first: StatementArguments = StatementArguments([seller] + types + window + [limit])
        let scanTypes = [EventType.orderConfirmed.rawValue, seller, EventType.orderConfirmed.rawValue, EventType.skuUpserted.rawValue]
        let (fromSeconds, toSeconds) = (from.timeIntervalSince1970, to.timeIntervalSince1970)
        try await database.pool.read { db in
            // The oldest sequence among the newest `limit`, then a forward scan from it.
            let oldest = try Int64.fetchOne(
                db,
                sql: """
                    SELECT MIN(sequence) FROM (SELECT sequence FROM events WHERE seller = ? AND type IN (?, ?) AND sequence > ?
                        AND recordedAt > ? AND recordedAt <= ? ORDER BY sequence DESC LIMIT ?)
                    """,
                arguments: first
            )
            guard let oldest else { return }
            let decoder = ShelfJSON.decoder()
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT sequence, source, externalId, recordedAt, sku, CASE WHEN type = ? THEN body END FROM events
                    WHERE seller = ? AND type IN (?, ?) AND sequence >= ? AND recordedAt > ? AND recordedAt <= ? ORDER BY sequence
                    """,
                arguments: StatementArguments(scanTypes.map { $0 as any DatabaseValueConvertible } + [oldest, fromSeconds, toSeconds])
            )
            while let row = try rows.next() {
                let recordedAt = Date(timeIntervalSince1970: row[3])
                let event: ShelfEvent
                if let text = row[5] as String? {
                    event = try decoder.decode(ShelfEvent.self, from: Data(text.utf8))
                } else {
                    event = ShelfEvent(type: .skuUpserted, sku: row[4], occurredAt: recordedAt)
                }
                try body(LedgerEvent(seller: seller, sequence: row[0], source: row[1], externalId: row[2], recordedAt: recordedAt, event: event))
            }
        }
    }

    public func dueHolds(at instant: Date, limit: Int) async throws -> [DueHold] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT seller, id, sku FROM holds WHERE expiresAt <= ? ORDER BY expiresAt LIMIT ?",
                             arguments: [instant.timeIntervalSince1970, limit])
                .map { DueHold(seller: $0[0], id: $0[1], sku: $0[2]) }
        }
    }

    public func isEmpty() async throws -> Bool {
        try await database.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM (SELECT 1 FROM events LIMIT 1)") == 0 }
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
}

/// The embedded conformance of `SnapshotStateStore`: one read transaction over the state tables of the ledger's SQLite file,
/// on GRDB's reader queue (a million SKUs take seconds: never on an event loop or the cooperative pool).
public struct SQLiteSnapshotStateStore: SnapshotStateStore {
    public let database: LedgerDatabase

    public init(database: LedgerDatabase) { self.database = database }

    public func skuCounts() async throws -> [String: Int] {
        // The narrow head table: counting `skus` would read every page of the wide one.
        try await database.pool.read { db in
            try Dictionary(uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT seller, COUNT(*) FROM sku_heads GROUP BY seller").map {
                (row: Row) -> (String, Int) in (row[0], row[1])
            })
        }
    }

    public func loadState(progress: RebuildProgress, sellers only: Set<String>?) async throws -> [LoadedSellerState] {
        let counts = only == nil ? [:] : try await skuCounts()
        return try await database.pool.read { db in
            // One pass over every row gains nothing from a large page cache, and the pages it would keep (64 MiB at a million
            // SKUs) would stay in this reader for the life of the process: read through a small one, then put it back.
            let cacheSize = try Int.fetchOne(db, sql: "PRAGMA cache_size") ?? -2000
            try db.execute(sql: "PRAGMA cache_size = -2048")
            defer {
                try? db.execute(sql: "PRAGMA shrink_memory")
                try? db.execute(sql: "PRAGMA cache_size = \(cacheSize)")
            }
            let total = try only.map { $0.reduce(0) { $0 + (counts[$1] ?? 0) } } ?? (Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sku_heads") ?? 0)
            progress.begin(total: total)
            return try String.fetchAll(db, sql: "SELECT id FROM sellers ORDER BY id").filter { only?.contains($0) ?? true }.map { seller in
                let states = try StateRows.readStates(db, seller: seller, progress: progress)
                let catalog = try StateRows.readCatalog(db, seller: seller)
                let last = try Row.fetchOne(
                    db, sql: "SELECT sequence, recordedAt FROM events WHERE seller = ? ORDER BY sequence DESC LIMIT 1", arguments: [seller]
                )
                return LoadedSellerState(seller: seller, shards: states.shards, quarantined: states.quarantined, catalog: catalog,
                                         lastSequence: last?[0] ?? 0, lastRecordedAt: (last?[1] as Double?).map(Date.init(timeIntervalSince1970:)))
            }
        }
    }
}
