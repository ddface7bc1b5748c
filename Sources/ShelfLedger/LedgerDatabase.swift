import Foundation
import GRDB

/// The SQLite database behind the ledger: owns the writer (WAL pool) and the schema migrations.
public struct LedgerDatabase: Sendable {
    /// The connection pool (one writer, concurrent readers).
    public let pool: DatabasePool
    /// Where the file lives.
    public let path: String
    /// How hard its commits wait for the disk.
    public let durability: Durability

    /// Opens (creating if needed) the database at `path` and migrates it.
    public init(path: String, durability: Durability = .full) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.maximumReaderCount = 4
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(durability == .full ? "FULL" : "NORMAL")")
            // Savepoint sub-journals and sorts stay in memory; a larger page cache keeps hot B-tree pages resident.
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
            try db.execute(sql: "PRAGMA cache_size = -65536")
            // Checkpoint the WAL every 16 MB instead of every 4 MB: the pages each commit rewrites (state rows, index leaves) are
            // mostly the same ones, so a rarer checkpoint copies each of them to the database file (and fsyncs it) once for many
            // commits.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 4000")
        }
        pool = try DatabasePool(path: path, configuration: config)
        self.path = path
        self.durability = durability
        try Self.migrator.migrate(pool)
    }

    /// How hard a commit waits for the disk.
    public enum Durability: Sendable {
        /// fsync the WAL on every commit: an acknowledged event survives power loss.
        case full
        /// fsync at checkpoints: survives a process crash (kill -9), not power loss. For benchmarks of the CPU path.
        case normal
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE sellers (
                        id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL, currency TEXT NOT NULL, timeZone TEXT NOT NULL,
                        createdAt REAL NOT NULL);
                    CREATE TABLE events (
                        seller TEXT NOT NULL, sequence INTEGER NOT NULL, type TEXT NOT NULL, sku TEXT, source TEXT NOT NULL,
                        externalId TEXT, recordedAt REAL NOT NULL, body TEXT NOT NULL,
                        PRIMARY KEY (seller, sequence)) WITHOUT ROWID;
                    CREATE INDEX events_by_sku ON events (seller, sku, sequence);
                    CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
                    CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
                    CREATE TABLE idempotency (
                        seller TEXT NOT NULL, source TEXT NOT NULL, key TEXT NOT NULL, requestHash TEXT, sequence INTEGER NOT NULL,
                        outcome TEXT NOT NULL, PRIMARY KEY (seller, source, key)) WITHOUT ROWID;
                    CREATE TABLE skus (
                        seller TEXT NOT NULL, sku TEXT NOT NULL, productId TEXT NOT NULL, title TEXT NOT NULL, productTitle TEXT NOT NULL,
                        description TEXT NOT NULL, brand TEXT, options TEXT NOT NULL, barcode TEXT, media TEXT NOT NULL, url TEXT,
                        tags TEXT NOT NULL, collections TEXT NOT NULL, supplier TEXT, priceAmount INTEGER NOT NULL, currency TEXT NOT NULL,
                        compareAtAmount INTEGER, saleAmount INTEGER, saleStartsAt REAL, saleEndsAt REAL, weightGrams INTEGER,
                        active INTEGER NOT NULL, spikeMultiplier INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (seller, sku)) WITHOUT ROWID;
                    CREATE TABLE sku_heads (
                        seller TEXT NOT NULL, sku TEXT NOT NULL, lastSequence INTEGER NOT NULL, updatedAt REAL NOT NULL,
                        PRIMARY KEY (seller, sku)) WITHOUT ROWID;
                    CREATE TABLE stock (
                        seller TEXT NOT NULL, sku TEXT NOT NULL, location TEXT NOT NULL, onHand INTEGER NOT NULL, committed INTEGER NOT NULL,
                        reserved INTEGER NOT NULL, unavailable INTEGER NOT NULL, safetyStock INTEGER NOT NULL, incoming INTEGER NOT NULL,
                        oversold INTEGER NOT NULL, version INTEGER NOT NULL,
                        PRIMARY KEY (seller, sku, location)) WITHOUT ROWID;
                    CREATE TABLE listings (
                        seller TEXT NOT NULL, sku TEXT NOT NULL, channel TEXT NOT NULL, externalId TEXT NOT NULL, listed INTEGER NOT NULL,
                        buffer INTEGER NOT NULL, priceAmount INTEGER, priceCurrency TEXT, refs TEXT NOT NULL DEFAULT '',
                        PRIMARY KEY (seller, sku, channel)) WITHOUT ROWID;
                    CREATE TABLE holds (
                        seller TEXT NOT NULL, id TEXT NOT NULL, sku TEXT NOT NULL, location TEXT NOT NULL, qty INTEGER NOT NULL,
                        expiresAt REAL NOT NULL, PRIMARY KEY (seller, id)) WITHOUT ROWID;
                    CREATE INDEX holds_by_expiry ON holds (expiresAt);
                    CREATE TABLE catalog_entities (
                        seller TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL,
                        PRIMARY KEY (seller, kind, id)) WITHOUT ROWID;
                    CREATE TABLE outbox (
                        seller TEXT NOT NULL, sku TEXT NOT NULL, sequence INTEGER NOT NULL,
                        PRIMARY KEY (seller, sku)) WITHOUT ROWID;
                    CREATE TABLE deliveries (
                        seller TEXT NOT NULL, connection TEXT NOT NULL, sku TEXT NOT NULL, sequence INTEGER NOT NULL,
                        attempts INTEGER NOT NULL, nextAttemptAt REAL NOT NULL, lastError TEXT,
                        PRIMARY KEY (seller, connection, sku)) WITHOUT ROWID;
                    CREATE TABLE dlq (
                        id INTEGER PRIMARY KEY AUTOINCREMENT, seller TEXT NOT NULL, connection TEXT NOT NULL, sku TEXT NOT NULL,
                        sequence INTEGER NOT NULL, attempts INTEGER NOT NULL, lastError TEXT NOT NULL, failedAt REAL NOT NULL);
                    CREATE INDEX dlq_by_seller ON dlq (seller, id);
                    CREATE TABLE connections (
                        seller TEXT NOT NULL, id TEXT NOT NULL, channel TEXT NOT NULL, kind TEXT NOT NULL, baseURL TEXT NOT NULL,
                        credentials TEXT NOT NULL, webhookSecret TEXT NOT NULL, pollIntervalSeconds INTEGER NOT NULL,
                        pushEnabled INTEGER NOT NULL, channelLocationId TEXT, createdAt REAL NOT NULL,
                        PRIMARY KEY (seller, id)) WITHOUT ROWID;
                    CREATE TABLE tokens (
                        id TEXT PRIMARY KEY NOT NULL, seller TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, scopes TEXT NOT NULL,
                        label TEXT, createdAt REAL NOT NULL, expiresAt REAL, revokedAt REAL);
                    CREATE INDEX tokens_by_seller ON tokens (seller);
                    """
            )
        }
        migrator.registerMigration("v2-rules") { db in
            try db.execute(
                sql: """
                    CREATE TABLE rules (
                        seller TEXT NOT NULL, id TEXT NOT NULL, text TEXT NOT NULL, rule TEXT NOT NULL, explain TEXT NOT NULL,
                        enabled INTEGER NOT NULL, createdAt REAL NOT NULL, PRIMARY KEY (seller, id)) WITHOUT ROWID;
                    """
            )
        }
        migrator.registerMigration("v3-rule-health") { db in
            // Why the engine paused a rule whose actions kept failing (null while it runs or was paused by the seller).
            try db.execute(sql: "ALTER TABLE rules ADD COLUMN pausedReason TEXT")
        }
        migrator.registerMigration("v4-allocation") { db in
            // A hold split across locations keeps its parts (packed location/qty pairs; null for a hold at one location), and
            // the events of one order on one SKU are found by order id, so a cancellation gives back where the order took from.
            try db.execute(
                sql: """
                    ALTER TABLE holds ADD COLUMN allocation TEXT;
                    CREATE INDEX events_by_order ON events (seller, sku, json_extract(body, '$.orderId'), sequence)
                        WHERE type IN ('order.confirmed', 'order.cancelled', 'order.fulfilled', 'return.received');
                    """
            )
        }
        migrator.registerMigration("v5-tables-per-kind") { db in
            // The catch-all `catalog_entities` becomes one table per kind; every row is carried over.
            try db.execute(
                sql: """
                    CREATE TABLE locations (seller TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (seller, id)) WITHOUT ROWID;
                    CREATE TABLE channels (seller TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (seller, id)) WITHOUT ROWID;
                    CREATE TABLE seller_profiles (seller TEXT PRIMARY KEY NOT NULL, body TEXT NOT NULL) WITHOUT ROWID;
                    CREATE TABLE seller_settings (seller TEXT NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL,
                        PRIMARY KEY (seller, kind)) WITHOUT ROWID;
                    CREATE TABLE rule_schedules (seller TEXT NOT NULL, ruleId TEXT NOT NULL, lastOccurrence REAL NOT NULL,
                        PRIMARY KEY (seller, ruleId)) WITHOUT ROWID;
                    INSERT INTO locations (seller, id, body) SELECT seller, id, body FROM catalog_entities WHERE kind = 'location';
                    INSERT INTO channels (seller, id, body) SELECT seller, id, body FROM catalog_entities WHERE kind = 'channel';
                    INSERT INTO seller_profiles (seller, body) SELECT seller, body FROM catalog_entities WHERE kind = 'seller';
                    INSERT INTO rule_schedules (seller, ruleId, lastOccurrence)
                        SELECT seller, id, CAST(body AS REAL) FROM catalog_entities WHERE kind = 'rule-schedule';
                    INSERT INTO seller_settings (seller, kind, body)
                        SELECT seller, kind, body FROM catalog_entities WHERE kind NOT IN ('location', 'channel', 'seller', 'rule-schedule');
                    DROP TABLE catalog_entities;
                    """
            )
        }
        migrator.registerMigration("v6-events-rowid") { db in
            // Event bodies run to a few KB; in a WITHOUT ROWID table (an index b-tree) a row that size spills onto overflow pages
            // of its own and took 4.7 KB per 1.9 KB event. As a rowid table with a unique (seller, sequence) index they pack
            // into the table's leaves. Same columns in the same order; every row, index and the append-only guard carried over.
            try db.execute(
                sql: """
                    CREATE TABLE events_packed (
                        seller TEXT NOT NULL, sequence INTEGER NOT NULL, type TEXT NOT NULL, sku TEXT, source TEXT NOT NULL,
                        externalId TEXT, recordedAt REAL NOT NULL, body TEXT NOT NULL);
                    INSERT INTO events_packed (seller, sequence, type, sku, source, externalId, recordedAt, body)
                        SELECT seller, sequence, type, sku, source, externalId, recordedAt, body FROM events ORDER BY seller, sequence;
                    DROP TABLE events;
                    ALTER TABLE events_packed RENAME TO events;
                    CREATE UNIQUE INDEX events_by_sequence ON events (seller, sequence);
                    CREATE INDEX events_by_sku ON events (seller, sku, sequence);
                    CREATE INDEX events_by_order ON events (seller, sku, json_extract(body, '$.orderId'), sequence)
                        WHERE type IN ('order.confirmed', 'order.cancelled', 'order.fulfilled', 'return.received');
                    CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
                    CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
                    """
            )
        }
        migrator.registerMigration("v6-watches") { db in
            // Agents' watches (a webhook target over SKUs or a product, with conditions as JSON) and the deliveries that could
            // not be made, one row per (watch, SKU): a replay sends the SKU's state at replay time.
            try db.execute(
                sql: """
                    CREATE TABLE watches (
                        seller TEXT NOT NULL, id TEXT NOT NULL, tokenId TEXT NOT NULL, spec TEXT NOT NULL, url TEXT NOT NULL,
                        secret TEXT NOT NULL, createdAt REAL NOT NULL, pausedAt REAL, pausedReason TEXT,
                        PRIMARY KEY (seller, id)) WITHOUT ROWID;
                    CREATE INDEX watches_by_token ON watches (tokenId);
                    CREATE TABLE watch_dead_letters (
                        seller TEXT NOT NULL, watchId TEXT NOT NULL, sku TEXT NOT NULL, eventType TEXT NOT NULL, sequence INTEGER NOT NULL,
                        attempts INTEGER NOT NULL, lastError TEXT NOT NULL, failedAt REAL NOT NULL,
                        PRIMARY KEY (seller, watchId, sku)) WITHOUT ROWID;
                    """
            )
        }
        migrator.registerMigration("v6-notification-outbox") { db in
            // Rule notifications waiting to be delivered (or given up on), written before they are sent: a webhook that never
            // answers delays only its own row. `trigger` is what made the rule fire (an event sequence, a schedule, a lag).
            try db.execute(
                sql: """
                    CREATE TABLE notifications (
                        id INTEGER PRIMARY KEY AUTOINCREMENT, seller TEXT NOT NULL, ruleId TEXT NOT NULL, trigger TEXT NOT NULL,
                        url TEXT NOT NULL, body TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL,
                        nextAttemptAt REAL NOT NULL, lastError TEXT, createdAt REAL NOT NULL);
                    CREATE INDEX notifications_due ON notifications (state, nextAttemptAt);
                    CREATE INDEX notifications_by_seller ON notifications (seller, state, id);
                    """
            )
        }
        migrator.registerMigration("v7-watch-outbox") { db in
            // Watch deliveries survive a restart (kill -9 included): deliveries waiting to be made, one row per (watch, SKU)
            // (a newer firing replaces the waiting one, as the lanes coalesce), what each watch last observed per SKU (edge
            // triggers compare against it), and per seller the last ledger sequence the delivery service judged; on start it
            // judges every change after it, read from the ledger.
            try db.execute(
                sql: """
                    CREATE TABLE watch_outbox (
                        seller TEXT NOT NULL, watchId TEXT NOT NULL, sku TEXT NOT NULL, deliveryId TEXT NOT NULL, eventType TEXT NOT NULL,
                        sequence INTEGER NOT NULL, changedAt REAL NOT NULL, PRIMARY KEY (seller, watchId, sku)) WITHOUT ROWID;
                    CREATE TABLE watch_observations (
                        seller TEXT NOT NULL, watchId TEXT NOT NULL, sku TEXT NOT NULL, available INTEGER NOT NULL,
                        priceAmount INTEGER NOT NULL, currency TEXT NOT NULL, deliveryWindow TEXT,
                        PRIMARY KEY (seller, watchId, sku)) WITHOUT ROWID;
                    CREATE TABLE watch_cursors (seller TEXT PRIMARY KEY NOT NULL, sequence INTEGER NOT NULL) WITHOUT ROWID;
                    """
            )
        }
        return migrator
    }
}
