import Foundation
import Logging
import PostgresNIO
import ShelfLedger

/// The PostgreSQL conformance of `PushQueueStore`: the outbox (written by `PostgresLedgerStore`), `deliveries` and `dlq`
/// tables, bound parameters only. `client` must be running.
public struct PostgresPushQueueStore: PushQueueStore {
    public let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger = Logger(label: "shelf.postgres")) {
        self.client = client
        self.logger = logger
    }

    public func pendingPushes(outboxLimit: Int, retryLimit: Int) async throws -> (outbox: [OutboxRow], retries: [PushQueue.RetryRow]) {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
            var outbox: [OutboxRow] = []
            for try await (seller, sku, sequence) in try await connection.query(
                "SELECT seller, sku, sequence FROM outbox LIMIT \(outboxLimit)", logger: logger
            ).decode((String, String, Int64).self) {
                outbox.append(OutboxRow(seller: seller, sku: sku, sequence: sequence))
            }
            var retries: [PushQueue.RetryRow] = []
            for try await (seller, connectionID, sku, sequence, attempts, next) in try await connection.query(
                "SELECT seller, connection, sku, sequence, attempts, nextAttemptAt FROM deliveries LIMIT \(retryLimit)", logger: logger
            ).decode((String, String, String, Int64, Int, Double).self) {
                retries.append(PushQueue.RetryRow(seller: seller, connection: connectionID, sku: sku, sequence: sequence, attempts: attempts,
                                                  nextAttemptAt: Date(timeIntervalSince1970: next)))
            }
            return (outbox, retries)
        }
    }

    public func settle(_ settled: [PushQueue.Settled], outbox: [OutboxRow], now: Date) async throws {
        guard !settled.isEmpty || !outbox.isEmpty else { return }
        try await client.withTransaction(logger: logger) { connection in
            // Settlements may be lost in a crash without harm (the outbox rows stay and the SKUs are pushed again).
            try await connection.query("SET LOCAL synchronous_commit = off", logger: logger)
            for s in settled {
                switch s.outcome {
                case .delivered:
                    try await connection.query(
                        """
                        DELETE FROM deliveries WHERE seller = \(s.seller) AND connection = \(s.connection) AND sku = \(s.sku)
                            AND sequence <= \(s.sequence)
                        """,
                        logger: logger
                    )
                case .retry(let attempts, let at, let error):
                    try await connection.query(
                        """
                        INSERT INTO deliveries AS d (seller, connection, sku, sequence, attempts, nextAttemptAt, lastError)
                        VALUES (\(s.seller), \(s.connection), \(s.sku), \(s.sequence), \(attempts), \(at.timeIntervalSince1970), \(error))
                        ON CONFLICT (seller, connection, sku) DO UPDATE SET sequence = GREATEST(d.sequence, excluded.sequence),
                            attempts = excluded.attempts, nextAttemptAt = excluded.nextAttemptAt, lastError = excluded.lastError
                        """,
                        logger: logger
                    )
                case .deadLetter(let attempts, let error):
                    try await connection.query(
                        """
                        INSERT INTO dlq (seller, connection, sku, sequence, attempts, lastError, failedAt)
                        VALUES (\(s.seller), \(s.connection), \(s.sku), \(s.sequence), \(attempts), \(error), \(now.timeIntervalSince1970))
                        """,
                        logger: logger
                    )
                    try await connection.query(
                        "DELETE FROM deliveries WHERE seller = \(s.seller) AND connection = \(s.connection) AND sku = \(s.sku)", logger: logger
                    )
                }
            }
            if !outbox.isEmpty {
                try await connection.query(
                    """
                    DELETE FROM outbox o USING UNNEST(\(outbox.map(\.seller))::text[], \(outbox.map(\.sku))::text[], \(outbox.map(\.sequence))::int8[])
                        AS r(seller, sku, sequence)
                    WHERE o.seller = r.seller AND o.sku = r.sku AND o.sequence <= r.sequence
                    """,
                    logger: logger
                )
            }
        }
    }

    public func requestPush(_ rows: [OutboxRow]) async throws {
        guard !rows.isEmpty else { return }
        try await client.query(
            """
            INSERT INTO outbox AS o (seller, sku, sequence)
            SELECT seller, sku, MAX(sequence) FROM UNNEST(\(rows.map(\.seller))::text[], \(rows.map(\.sku))::text[], \(rows.map(\.sequence))::int8[])
                AS r(seller, sku, sequence) GROUP BY seller, sku
            ON CONFLICT (seller, sku) DO UPDATE SET sequence = GREATEST(o.sequence, excluded.sequence)
            """,
            logger: logger
        )
    }

    public func discardOutbox(except pushing: Set<String>) async throws -> Int {
        try await PostgresLedgerStore.count(client.query(
            "DELETE FROM outbox WHERE NOT (seller = ANY(\(pushing.sorted()))) RETURNING 1", logger: logger
        ))
    }

    public func discardRetries(seller: String, connection: String) async throws {
        try await client.query("DELETE FROM deliveries WHERE seller = \(seller) AND connection = \(connection)", logger: logger)
    }

    public func depths() async throws -> PushQueue.Depths {
        let rows = try await client.query(
            "SELECT (SELECT COUNT(*) FROM outbox), (SELECT COUNT(*) FROM deliveries), (SELECT COUNT(*) FROM dlq)", logger: logger
        )
        for try await (outbox, retries, dead) in rows.decode((Int, Int, Int).self) {
            return PushQueue.Depths(outbox: outbox, retries: retries, deadLetters: dead)
        }
        return PushQueue.Depths(outbox: 0, retries: 0, deadLetters: 0)
    }

    public func deadLetters(seller: String, limit: Int) async throws -> [DeadLetter] {
        var out: [DeadLetter] = []
        for try await (id, connection, sku, sequence, attempts, error, failedAt) in try await client.query(
            """
            SELECT id, connection, sku, sequence, attempts, lastError, failedAt FROM dlq WHERE seller = \(seller) ORDER BY id LIMIT \(limit)
            """,
            logger: logger
        ).decode((Int64, String, String, Int64, Int, String, Double).self) {
            out.append(DeadLetter(id: id, connection: connection, sku: sku, sequence: sequence, attempts: attempts, lastError: error,
                                  failedAt: Date(timeIntervalSince1970: failedAt)))
        }
        return out
    }

    public func connectionQueues(seller: String) async throws -> [String: DeadLetterQueue.ConnectionQueue] {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
            var queues: [String: DeadLetterQueue.ConnectionQueue] = [:]
            for try await (id, count, error) in try await connection.query(
                """
                SELECT connection, COUNT(*), (SELECT lastError FROM deliveries d2 WHERE d2.seller = d.seller AND d2.connection = d.connection
                    AND d2.lastError IS NOT NULL LIMIT 1)
                FROM deliveries d WHERE seller = \(seller) GROUP BY seller, connection
                """,
                logger: logger
            ).decode((String, Int, String?).self) {
                queues[id, default: .init()].pending = count
                queues[id, default: .init()].lastError = error
            }
            for try await (id, count, failedAt, error) in try await connection.query(
                """
                SELECT connection, COUNT(*), MAX(failedAt), (SELECT lastError FROM dlq l2 WHERE l2.seller = l.seller AND l2.connection = l.connection
                    ORDER BY id DESC LIMIT 1)
                FROM dlq l WHERE seller = \(seller) GROUP BY seller, connection
                """,
                logger: logger
            ).decode((String, Int, Double, String?).self) {
                var q = queues[id, default: .init()]
                q.deadLetters = count
                if q.lastError == nil {
                    q.lastError = error
                    q.lastErrorAt = Date(timeIntervalSince1970: failedAt)
                }
                queues[id] = q
            }
            return queues
        }
    }

    public func replayDeadLetters(seller: String, id: Int64?) async throws -> Int {
        try await client.withTransaction(logger: logger) { connection in
            // The dead letters taken are deleted and re-queued in one statement (one row per connection and SKU, the latest sequence).
            try await PostgresLedgerStore.count(connection.query(
                """
                WITH taken AS (DELETE FROM dlq WHERE seller = \(seller) AND (\(id)::int8 IS NULL OR id = \(id)::int8)
                        RETURNING seller, connection, sku, sequence),
                    queued AS (INSERT INTO deliveries AS d (seller, connection, sku, sequence, attempts, nextAttemptAt, lastError)
                        SELECT seller, connection, sku, MAX(sequence), 0, 0, NULL FROM taken GROUP BY seller, connection, sku
                        ON CONFLICT (seller, connection, sku) DO UPDATE SET attempts = 0, nextAttemptAt = 0,
                            sequence = GREATEST(d.sequence, excluded.sequence)
                        RETURNING 1)
                SELECT 1 FROM taken
                """,
                logger: logger
            ))
        }
    }

    public func discardDeadLetter(seller: String, id: Int64) async throws -> Bool {
        try await PostgresLedgerStore.count(client.query(
            "DELETE FROM dlq WHERE seller = \(seller) AND id = \(id) RETURNING 1", logger: logger
        )) > 0
    }
}
