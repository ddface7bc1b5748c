import Foundation
import Logging
import PostgresNIO

/// The PostgreSQL ledger's schema, as numbered migrations recorded in `schema_migrations`. Column names mirror the SQLite
/// ledger's (unquoted, so PostgreSQL folds them to lower case); catalog values a SKU carries (its item, listings, a hold's
/// allocation) are stored as JSON text.
public enum PostgresSchema {
    /// One step of the schema: its number, a name, and its statements (run in one transaction).
    public struct Migration: Sendable {
        public var version: Int
        public var name: String
        public var statements: [String]
    }

    /// The database holds migrations this binary does not know: it was written by a newer Shelf.
    public struct TooNewError: Error, CustomStringConvertible {
        public var databaseVersion: Int
        public var binaryVersion: Int
        public var description: String {
            "the PostgreSQL database's schema is at version \(databaseVersion), newer than this binary's \(binaryVersion): run a newer shelf"
        }
    }

    /// Every migration, in order. Append only.
    public static let migrations: [Migration] = [
        Migration(version: 1, name: "v1-ledger", statements: [
            """
            CREATE TABLE ledger_heads (seller TEXT PRIMARY KEY, lastSequence BIGINT NOT NULL CHECK (lastSequence >= 0))
            """,
            """
            CREATE TABLE events (
                seller TEXT NOT NULL, sequence BIGINT NOT NULL, type TEXT NOT NULL, sku TEXT, source TEXT NOT NULL, externalId TEXT,
                recordedAt DOUBLE PRECISION NOT NULL, orderId TEXT, body TEXT NOT NULL, PRIMARY KEY (seller, sequence))
            """,
            "CREATE INDEX events_by_sku ON events (seller, sku, sequence)",
            """
            CREATE INDEX events_by_order ON events (seller, sku, orderId, sequence)
                WHERE type IN ('order.confirmed', 'order.cancelled', 'order.fulfilled', 'return.received')
            """,
            """
            CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'events are append-only'; END $$
            """,
            """
            CREATE TRIGGER events_no_update_or_delete BEFORE UPDATE OR DELETE ON events
                FOR EACH ROW EXECUTE FUNCTION events_append_only()
            """,
            "CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events FOR EACH STATEMENT EXECUTE FUNCTION events_append_only()",
            """
            CREATE TABLE idempotency (
                seller TEXT NOT NULL, source TEXT NOT NULL, key TEXT NOT NULL, requestHash TEXT, sequence BIGINT NOT NULL,
                outcome TEXT NOT NULL, PRIMARY KEY (seller, source, key))
            """,
            """
            CREATE TABLE skus (
                seller TEXT NOT NULL, sku TEXT NOT NULL, item TEXT NOT NULL, spikeMultiplier INTEGER NOT NULL,
                lastSequence BIGINT NOT NULL, updatedAt DOUBLE PRECISION NOT NULL, PRIMARY KEY (seller, sku))
            """,
            """
            CREATE TABLE stock (
                seller TEXT NOT NULL, sku TEXT NOT NULL, location TEXT NOT NULL, onHand BIGINT NOT NULL, committed BIGINT NOT NULL,
                reserved BIGINT NOT NULL, unavailable BIGINT NOT NULL, safetyStock BIGINT NOT NULL, incoming BIGINT NOT NULL,
                oversold BIGINT NOT NULL, version BIGINT NOT NULL, PRIMARY KEY (seller, sku, location))
            """,
            """
            CREATE TABLE listings (
                seller TEXT NOT NULL, sku TEXT NOT NULL, channel TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (seller, sku, channel))
            """,
            """
            CREATE TABLE holds (
                seller TEXT NOT NULL, id TEXT NOT NULL, sku TEXT NOT NULL, location TEXT NOT NULL, qty BIGINT NOT NULL,
                expiresAt DOUBLE PRECISION NOT NULL, allocation TEXT, PRIMARY KEY (seller, id))
            """,
            "CREATE INDEX holds_by_expiry ON holds (expiresAt)",
            "CREATE TABLE locations (seller TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (seller, id))",
            "CREATE TABLE channels (seller TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (seller, id))",
            """
            CREATE TABLE outbox (seller TEXT NOT NULL, sku TEXT NOT NULL, sequence BIGINT NOT NULL, PRIMARY KEY (seller, sku))
            """,
        ]),
        Migration(version: 2, name: "v2-tokens-rules", statements: [
            """
            CREATE TABLE tokens (
                id TEXT PRIMARY KEY, seller TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, scopes TEXT NOT NULL, label TEXT,
                createdAt DOUBLE PRECISION NOT NULL, expiresAt DOUBLE PRECISION, revokedAt DOUBLE PRECISION)
            """,
            "CREATE INDEX tokens_by_seller ON tokens (seller)",
            """
            CREATE TABLE rules (
                seller TEXT NOT NULL, id TEXT NOT NULL, text TEXT NOT NULL, rule TEXT NOT NULL, explain TEXT NOT NULL,
                enabled BOOLEAN NOT NULL, createdAt DOUBLE PRECISION NOT NULL, pausedReason TEXT, PRIMARY KEY (seller, id))
            """,
            """
            CREATE TABLE rule_schedules (
                seller TEXT NOT NULL, ruleId TEXT NOT NULL, lastOccurrence DOUBLE PRECISION NOT NULL, PRIMARY KEY (seller, ruleId))
            """,
        ]),
        Migration(version: 3, name: "v3-push-queues", statements: [
            """
            CREATE TABLE deliveries (
                seller TEXT NOT NULL, connection TEXT NOT NULL, sku TEXT NOT NULL, sequence BIGINT NOT NULL, attempts INTEGER NOT NULL,
                nextAttemptAt DOUBLE PRECISION NOT NULL, lastError TEXT, PRIMARY KEY (seller, connection, sku))
            """,
            """
            CREATE TABLE dlq (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, seller TEXT NOT NULL, connection TEXT NOT NULL, sku TEXT NOT NULL,
                sequence BIGINT NOT NULL, attempts INTEGER NOT NULL, lastError TEXT NOT NULL, failedAt DOUBLE PRECISION NOT NULL)
            """,
            "CREATE INDEX dlq_by_seller ON dlq (seller, id)",
        ]),
        Migration(version: 4, name: "v4-notification-outbox", statements: [
            """
            CREATE TABLE notifications (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, seller TEXT NOT NULL, ruleId TEXT NOT NULL, trigger TEXT NOT NULL,
                url TEXT NOT NULL, body TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL,
                nextAttemptAt DOUBLE PRECISION NOT NULL, lastError TEXT, createdAt DOUBLE PRECISION NOT NULL)
            """,
            "CREATE INDEX notifications_due ON notifications (state, nextAttemptAt)",
            "CREATE INDEX notifications_by_seller ON notifications (seller, state, id)",
        ]),
        Migration(version: 5, name: "v5-watches", statements: [
            """
            CREATE TABLE watches (
                seller TEXT NOT NULL, id TEXT NOT NULL, tokenId TEXT NOT NULL, spec TEXT NOT NULL, url TEXT NOT NULL, secret TEXT NOT NULL,
                createdAt DOUBLE PRECISION NOT NULL, pausedAt DOUBLE PRECISION, pausedReason TEXT, PRIMARY KEY (seller, id))
            """,
            "CREATE INDEX watches_by_token ON watches (tokenId)",
            """
            CREATE TABLE watch_dead_letters (
                seller TEXT NOT NULL, watchId TEXT NOT NULL, sku TEXT NOT NULL, eventType TEXT NOT NULL, sequence BIGINT NOT NULL,
                attempts INTEGER NOT NULL, lastError TEXT NOT NULL, failedAt DOUBLE PRECISION NOT NULL, PRIMARY KEY (seller, watchId, sku))
            """,
            """
            CREATE TABLE watch_outbox (
                seller TEXT NOT NULL, watchId TEXT NOT NULL, sku TEXT NOT NULL, deliveryId TEXT NOT NULL, eventType TEXT NOT NULL,
                sequence BIGINT NOT NULL, changedAt DOUBLE PRECISION NOT NULL, PRIMARY KEY (seller, watchId, sku))
            """,
            """
            CREATE TABLE watch_observations (
                seller TEXT NOT NULL, watchId TEXT NOT NULL, sku TEXT NOT NULL, available BIGINT NOT NULL, priceAmount BIGINT NOT NULL,
                currency TEXT NOT NULL, deliveryWindow TEXT, PRIMARY KEY (seller, watchId, sku))
            """,
            "CREATE TABLE watch_cursors (seller TEXT PRIMARY KEY, sequence BIGINT NOT NULL)",
        ]),
        Migration(version: 6, name: "v6-sellers-connections", statements: [
            """
            CREATE TABLE sellers (
                id TEXT PRIMARY KEY, name TEXT NOT NULL, currency TEXT NOT NULL, timeZone TEXT NOT NULL, createdAt DOUBLE PRECISION NOT NULL)
            """,
            "CREATE TABLE seller_profiles (seller TEXT PRIMARY KEY, body TEXT NOT NULL)",
            "CREATE TABLE seller_settings (seller TEXT NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (seller, kind))",
            """
            CREATE TABLE connections (
                seller TEXT NOT NULL, id TEXT NOT NULL, channel TEXT NOT NULL, kind TEXT NOT NULL, baseURL TEXT NOT NULL,
                credentials TEXT NOT NULL, webhookSecret TEXT NOT NULL, pollIntervalSeconds INTEGER NOT NULL, pushEnabled BOOLEAN NOT NULL,
                channelLocationId TEXT, createdAt DOUBLE PRECISION NOT NULL, PRIMARY KEY (seller, id))
            """,
            "CREATE INDEX connections_by_id ON connections (id)",
            // Rules' windows and the start-up sales scan select events by type, newest first.
            "CREATE INDEX events_by_type ON events (seller, type, sequence)",
        ]),
    ]

    /// The schema version this binary writes.
    public static var version: Int { migrations.last?.version ?? 0 }

    /// Applies the migrations the database lacks, each in its own transaction, under an advisory lock so nodes starting
    /// together migrate once; throws `TooNewError` (changing nothing) when the database is ahead of this binary.
    public static func migrate(_ client: PostgresClient, logger: Logger) async throws {
        try await client.withConnection { connection in try await migrate(on: connection, logger: logger) }
    }

    /// `migrate(_:logger:)` on one connection (before a client is running).
    public static func migrate(on connection: PostgresConnection, logger: Logger) async throws {
        // Session-level lock: held across the migrations' transactions, released below (or when the connection closes).
        try await connection.query("SELECT pg_advisory_lock(hashtext('shelf.schema_migrations'))", logger: logger)
        do {
            try await apply(connection, logger: logger)
        } catch {
            try? await connection.query("SELECT pg_advisory_unlock(hashtext('shelf.schema_migrations'))", logger: logger)
            throw error
        }
        try await connection.query("SELECT pg_advisory_unlock(hashtext('shelf.schema_migrations'))", logger: logger)
    }

    private static func apply(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER PRIMARY KEY, name TEXT NOT NULL, appliedAt TIMESTAMPTZ NOT NULL DEFAULT now())
            """,
            logger: logger
        )
        var applied: Set<Int> = []
        for try await v in try await connection.query("SELECT version FROM schema_migrations", logger: logger).decode(Int.self) {
            applied.insert(v)
        }
        if let newest = applied.max(), newest > version {
            throw TooNewError(databaseVersion: newest, binaryVersion: version)
        }
        for migration in migrations where !applied.contains(migration.version) {
            logger.info("applying PostgreSQL migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
            try await connection.withTransaction(logger: logger) { connection in
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))", logger: logger
                )
            }
        }
    }
}
