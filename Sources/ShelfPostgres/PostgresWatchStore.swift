import Foundation
import Logging
import PostgresNIO
import ShelfCore
import ShelfLedger

/// The PostgreSQL conformance of `WatchStore`: the watch tables, bound parameters only. A watch is inserted under a
/// transaction-level advisory lock on its token, so two nodes creating watches for one token keep the per-token limit.
/// `client` must be running.
public struct PostgresWatchStore: WatchStore {
    public let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger = Logger(label: "shelf.postgres")) {
        self.client = client
        self.logger = logger
    }

    private static let columns = "id, seller, tokenId, spec, url, secret, createdAt, pausedAt, pausedReason"

    public func insert(_ watch: StoredWatch, observations: [String: WatchObservation], position: Int64, limitPerToken limit: Int) async throws -> Bool {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext('shelf.watch-token'), hashtext(\(watch.tokenId)))", logger: logger)
            var count = 0
            for try await n in try await connection.query("SELECT COUNT(*) FROM watches WHERE tokenId = \(watch.tokenId)", logger: logger)
                .decode(Int.self) { count = n }
            guard count < limit else { return false }
            try await connection.query(
                """
                INSERT INTO watches (seller, id, tokenId, spec, url, secret, createdAt, pausedAt, pausedReason)
                VALUES (\(watch.seller), \(watch.id), \(watch.tokenId), \(watch.spec), \(watch.url), \(watch.secret),
                    \(watch.createdAt.timeIntervalSince1970), \(watch.pausedAt?.timeIntervalSince1970), \(watch.pausedReason))
                """,
                logger: logger
            )
            for (sku, o) in observations {
                try await Self.upsert(WatchObservationKey(seller: watch.seller, watchId: watch.id, sku: sku), o, connection, logger)
            }
            try await connection.query(
                "INSERT INTO watch_cursors (seller, sequence) VALUES (\(watch.seller), \(position)) ON CONFLICT (seller) DO NOTHING", logger: logger
            )
            try await ClusterChange.watches(seller: watch.seller).announce(on: connection, logger: logger)
            return true
        }
    }

    public func count(tokenId: String, where predicate: @escaping @Sendable (String) -> Bool) async throws -> Int {
        var n = 0
        for try await spec in try await client.query("SELECT spec FROM watches WHERE tokenId = \(tokenId)", logger: logger).decode(String.self)
            where predicate(spec) { n += 1 }
        return n
    }

    public func list(seller: String) async throws -> [StoredWatch] {
        try await decode(client.query(
            "SELECT \(unescaped: Self.columns) FROM watches WHERE seller = \(seller) ORDER BY createdAt, id", logger: logger
        ))
    }

    public func all() async throws -> [StoredWatch] {
        try await decode(client.query("SELECT \(unescaped: Self.columns) FROM watches ORDER BY seller, id", logger: logger))
    }

    public func watch(id: String, seller: String) async throws -> StoredWatch? {
        try await decode(client.query(
            "SELECT \(unescaped: Self.columns) FROM watches WHERE seller = \(seller) AND id = \(id)", logger: logger
        )).first
    }

    public func delete(id: String, seller: String) async throws -> Bool {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("DELETE FROM watch_dead_letters WHERE seller = \(seller) AND watchId = \(id)", logger: logger)
            try await connection.query("DELETE FROM watch_outbox WHERE seller = \(seller) AND watchId = \(id)", logger: logger)
            try await connection.query("DELETE FROM watch_observations WHERE seller = \(seller) AND watchId = \(id)", logger: logger)
            let deleted = try await PostgresLedgerStore.count(connection.query(
                "DELETE FROM watches WHERE seller = \(seller) AND id = \(id) RETURNING 1", logger: logger
            )) > 0
            try await connection.query(
                "DELETE FROM watch_cursors WHERE seller = \(seller) AND NOT EXISTS (SELECT 1 FROM watches WHERE seller = \(seller))",
                logger: logger
            )
            if deleted { try await ClusterChange.watches(seller: seller).announce(on: connection, logger: logger) }
            return deleted
        }
    }

    public func setPaused(_ reason: String?, at instant: Date, id: String, seller: String) async throws {
        let pausedAt: Double? = reason == nil ? nil : instant.timeIntervalSince1970
        try await client.query(
            "UPDATE watches SET pausedReason = \(reason), pausedAt = \(pausedAt) WHERE seller = \(seller) AND id = \(id)", logger: logger
        )
    }

    public func resumePoint() async throws -> WatchResumePoint {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query(
                "DELETE FROM watch_outbox o WHERE NOT EXISTS (SELECT 1 FROM watches w WHERE w.seller = o.seller AND w.id = o.watchId)",
                logger: logger
            )
            try await connection.query(
                "DELETE FROM watch_observations o WHERE NOT EXISTS (SELECT 1 FROM watches w WHERE w.seller = o.seller AND w.id = o.watchId)",
                logger: logger
            )
            var cursors: [String: Int64] = [:]
            for try await (seller, sequence) in try await connection.query("SELECT seller, sequence FROM watch_cursors", logger: logger)
                .decode((String, Int64).self) { cursors[seller] = sequence }
            var observations: [WatchObservationKey: WatchObservation] = [:]
            for try await (seller, watchId, sku, available, amount, currency, window) in try await connection.query(
                "SELECT seller, watchId, sku, available, priceAmount, currency, deliveryWindow FROM watch_observations", logger: logger
            ).decode((String, String, String, Int, Int64, String, String?).self) {
                observations[WatchObservationKey(seller: seller, watchId: watchId, sku: sku)] =
                    WatchObservation(available: available, price: Money(amount: amount, currency: currency), deliveryWindow: window)
            }
            var outbox: [WatchOutboxEntry] = []
            for try await (seller, watchId, sku, deliveryId, eventType, sequence, changedAt) in try await connection.query(
                "SELECT seller, watchId, sku, deliveryId, eventType, sequence, changedAt FROM watch_outbox ORDER BY changedAt, sequence",
                logger: logger
            ).decode((String, String, String, String, String, Int64, Double).self) {
                outbox.append(WatchOutboxEntry(seller: seller, watchId: watchId, sku: sku, deliveryId: deliveryId, eventType: eventType,
                                               sequence: sequence, changedAt: Date(timeIntervalSince1970: changedAt)))
            }
            return WatchResumePoint(cursors: cursors, observations: observations, outbox: outbox)
        }
    }

    public func commit(_ judgement: WatchJudgement) async throws {
        guard !judgement.isEmpty else { return }
        try await client.withTransaction(logger: logger) { connection in
            for (key, o) in judgement.observations { try await Self.upsert(key, o, connection, logger) }
            for entry in judgement.fired { try await Self.upsert(entry, connection, logger) }
            for (key, through) in judgement.delivered {
                try await connection.query(
                    """
                    DELETE FROM watch_outbox WHERE seller = \(key.seller) AND watchId = \(key.watchId) AND sku = \(key.sku)
                        AND sequence <= \(through)
                    """,
                    logger: logger
                )
            }
            for (seller, sequence) in judgement.cursors {
                try await connection.query(
                    """
                    INSERT INTO watch_cursors AS c (seller, sequence) VALUES (\(seller), \(sequence))
                    ON CONFLICT (seller) DO UPDATE SET sequence = GREATEST(c.sequence, excluded.sequence)
                    """,
                    logger: logger
                )
            }
        }
    }

    public func deadLetter(_ letters: [WatchDeadLetter], seller: String) async throws {
        guard !letters.isEmpty else { return }
        try await client.withTransaction(logger: logger) { connection in
            for letter in letters {
                try await connection.query(
                    """
                    INSERT INTO watch_dead_letters (seller, watchId, sku, eventType, sequence, attempts, lastError, failedAt)
                    VALUES (\(seller), \(letter.watchId), \(letter.sku), \(letter.eventType), \(letter.sequence), \(letter.attempts),
                        \(letter.lastError), \(letter.failedAt.timeIntervalSince1970))
                    ON CONFLICT (seller, watchId, sku) DO UPDATE SET eventType = excluded.eventType, sequence = excluded.sequence,
                        attempts = excluded.attempts, lastError = excluded.lastError, failedAt = excluded.failedAt
                    """,
                    logger: logger
                )
                try await connection.query(
                    """
                    DELETE FROM watch_outbox WHERE seller = \(seller) AND watchId = \(letter.watchId) AND sku = \(letter.sku)
                        AND sequence <= \(letter.sequence)
                    """,
                    logger: logger
                )
            }
        }
    }

    public func deadLetters(watchId: String, seller: String) async throws -> [WatchDeadLetter] {
        try await Self.deadLetters(watchId: watchId, seller: seller, client: client, logger: logger)
    }

    public func takeForReplay(watchId: String, seller: String, skus: Set<String>?) async throws -> [WatchOutboxEntry] {
        try await client.withTransaction(logger: logger) { connection in
            var rows: [WatchDeadLetter] = []
            for try await (sku, eventType, sequence, attempts, lastError, failedAt) in try await connection.query(
                """
                SELECT sku, eventType, sequence, attempts, lastError, failedAt FROM watch_dead_letters
                WHERE seller = \(seller) AND watchId = \(watchId) ORDER BY failedAt, sku FOR UPDATE
                """,
                logger: logger
            ).decode((String, String, Int64, Int, String, Double).self) where skus?.contains(sku) ?? true {
                rows.append(WatchDeadLetter(watchId: watchId, sku: sku, eventType: eventType, sequence: sequence, attempts: attempts,
                                            lastError: lastError, failedAt: Date(timeIntervalSince1970: failedAt)))
            }
            var entries: [WatchOutboxEntry] = []
            for row in rows {
                try await connection.query(
                    "DELETE FROM watch_dead_letters WHERE seller = \(seller) AND watchId = \(watchId) AND sku = \(row.sku)", logger: logger
                )
                let entry = WatchOutboxEntry(seller: seller, watchId: watchId, sku: row.sku, deliveryId: WatchOutboxEntry.newDeliveryId(),
                                             eventType: row.eventType, sequence: row.sequence, changedAt: row.failedAt)
                try await Self.upsert(entry, connection, logger)
                entries.append(entry)
            }
            try await connection.query(
                "UPDATE watches SET pausedReason = NULL, pausedAt = NULL WHERE seller = \(seller) AND id = \(watchId)", logger: logger
            )
            try await ClusterChange.watches(seller: seller).announce(on: connection, logger: logger)
            return entries
        }
    }

    // MARK: Helpers

    private static func deadLetters(watchId: String, seller: String, client: PostgresClient, logger: Logger) async throws -> [WatchDeadLetter] {
        var out: [WatchDeadLetter] = []
        for try await (sku, eventType, sequence, attempts, lastError, failedAt) in try await client.query(
            """
            SELECT sku, eventType, sequence, attempts, lastError, failedAt FROM watch_dead_letters
            WHERE seller = \(seller) AND watchId = \(watchId) ORDER BY failedAt, sku
            """,
            logger: logger
        ).decode((String, String, Int64, Int, String, Double).self) {
            out.append(WatchDeadLetter(watchId: watchId, sku: sku, eventType: eventType, sequence: sequence, attempts: attempts,
                                       lastError: lastError, failedAt: Date(timeIntervalSince1970: failedAt)))
        }
        return out
    }

    private static func upsert(_ key: WatchObservationKey, _ o: WatchObservation, _ connection: PostgresConnection, _ logger: Logger) async throws {
        try await connection.query(
            """
            INSERT INTO watch_observations (seller, watchId, sku, available, priceAmount, currency, deliveryWindow)
            VALUES (\(key.seller), \(key.watchId), \(key.sku), \(o.available), \(o.price.amount), \(o.price.currency), \(o.deliveryWindow))
            ON CONFLICT (seller, watchId, sku) DO UPDATE SET available = excluded.available, priceAmount = excluded.priceAmount,
                currency = excluded.currency, deliveryWindow = excluded.deliveryWindow
            """,
            logger: logger
        )
    }

    private static func upsert(_ entry: WatchOutboxEntry, _ connection: PostgresConnection, _ logger: Logger) async throws {
        try await connection.query(
            """
            INSERT INTO watch_outbox (seller, watchId, sku, deliveryId, eventType, sequence, changedAt)
            VALUES (\(entry.seller), \(entry.watchId), \(entry.sku), \(entry.deliveryId), \(entry.eventType), \(entry.sequence),
                \(entry.changedAt.timeIntervalSince1970))
            ON CONFLICT (seller, watchId, sku) DO UPDATE SET deliveryId = excluded.deliveryId, eventType = excluded.eventType,
                sequence = excluded.sequence, changedAt = excluded.changedAt
            """,
            logger: logger
        )
    }

    private func decode(_ rows: PostgresRowSequence) async throws -> [StoredWatch] {
        var out: [StoredWatch] = []
        for try await (id, seller, tokenId, spec, url, secret, createdAt, pausedAt, pausedReason)
            in rows.decode((String, String, String, String, String, String, Double, Double?, String?).self)
        {
            out.append(StoredWatch(id: id, seller: seller, tokenId: tokenId, spec: spec, url: url, secret: secret,
                                   createdAt: Date(timeIntervalSince1970: createdAt), pausedAt: pausedAt.map(Date.init(timeIntervalSince1970:)),
                                   pausedReason: pausedReason))
        }
        return out
    }
}
