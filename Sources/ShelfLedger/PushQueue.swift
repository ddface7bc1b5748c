import Foundation
import GRDB

/// The ledger's push queues, in the database beside the events: the transactional outbox (one row per changed SKU, at the
/// sequence of its latest change, written by the ledger's write set), the pushes waiting for a retry (`deliveries`), and the
/// dead letters. The push workers read what is pending and settle what each push came to; operators list, replay and discard
/// dead letters. No storage engine's types in sight: `SQLitePushQueueStore` is the embedded conformance,
/// `PostgresPushQueueStore` (ShelfPostgres) the server's.
public protocol PushQueueStore: Sendable {
    /// Every outbox row (at most `outboxLimit`) and every push waiting for a retry (at most `retryLimit`), read in one
    /// consistent view: the push workers' queues, read once for all of them at start and whenever the feed is poked.
    func pendingPushes(outboxLimit: Int, retryLimit: Int) async throws -> (outbox: [OutboxRow], retries: [PushQueue.RetryRow])
    /// Records outcomes (a delivered push clears its waiting retry up to its sequence, a retry is stored or moved on, a dead
    /// letter leaves the retry queue for the DLQ) and removes the outbox rows every connection has settled (each row settled
    /// up to its `sequence`; a later change keeps it), in one transaction.
    func settle(_ settled: [PushQueue.Settled], outbox: [OutboxRow], now: Date) async throws
    /// Puts SKUs back in the outbox at these sequences (drift healing, replays); a later row already there is kept as is.
    func requestPush(_ rows: [OutboxRow]) async throws
    /// Removes the outbox rows of sellers other than `pushing` (the sellers with a push-enabled connection: nobody pushes the
    /// others); returns how many.
    func discardOutbox(except pushing: Set<String>) async throws -> Int
    /// Forgets the retries waiting on one connection (it was deleted).
    func discardRetries(seller: String, connection: String) async throws
    /// Rows waiting: SKUs in the outbox, pushes waiting for a retry, dead letters (for `/metrics`).
    func depths() async throws -> PushQueue.Depths
    /// The seller's dead letters, oldest first, at most `limit`.
    func deadLetters(seller: String, limit: Int) async throws -> [DeadLetter]
    /// Per connection of the seller, the retry queue and dead letters (connections with neither are absent).
    func connectionQueues(seller: String) async throws -> [String: DeadLetterQueue.ConnectionQueue]
    /// Puts the seller's dead letter `id` (every one of them when nil) back in line for its connection with no attempts yet;
    /// returns how many.
    func replayDeadLetters(seller: String, id: Int64?) async throws -> Int
    /// Deletes one dead letter without sending it; false when the seller has no such entry.
    func discardDeadLetter(seller: String, id: Int64) async throws -> Bool
}

extension PushQueueStore {
    /// Every outbox row and waiting retry (up to 100,000 of each).
    public func pendingPushes() async throws -> (outbox: [OutboxRow], retries: [PushQueue.RetryRow]) {
        try await pendingPushes(outboxLimit: 100_000, retryLimit: 100_000)
    }
}

/// The values the push queues hold.
public enum PushQueue {
    /// A push waiting for its next attempt.
    public struct RetryRow: Sendable, Hashable {
        public var seller: String
        public var connection: String
        public var sku: String
        public var sequence: Int64
        public var attempts: Int
        public var nextAttemptAt: Date

        public init(seller: String, connection: String, sku: String, sequence: Int64, attempts: Int, nextAttemptAt: Date) {
            self.seller = seller
            self.connection = connection
            self.sku = sku
            self.sequence = sequence
            self.attempts = attempts
            self.nextAttemptAt = nextAttemptAt
        }
    }

    /// How many rows wait in each queue.
    public struct Depths: Sendable, Hashable {
        public var outbox: Int
        public var retries: Int
        public var deadLetters: Int

        public init(outbox: Int, retries: Int, deadLetters: Int) {
            self.outbox = outbox
            self.retries = retries
            self.deadLetters = deadLetters
        }
    }

    /// What one push came to.
    public enum Outcome: Sendable, Hashable {
        /// The channel took it: the waiting retry (if any) up to this sequence is done.
        case delivered
        /// Try again at `at` (attempts so far, the reason).
        case retry(attempts: Int, at: Date, error: String)
        /// Out of retries or refused by the channel: into the dead-letter queue.
        case deadLetter(attempts: Int, error: String)
    }

    /// One push of one SKU's state (at `sequence`) to one connection, and its outcome.
    public struct Settled: Sendable, Hashable {
        public var seller: String
        public var connection: String
        public var sku: String
        public var sequence: Int64
        public var outcome: Outcome

        public init(seller: String, connection: String, sku: String, sequence: Int64, outcome: Outcome) {
            self.seller = seller
            self.connection = connection
            self.sku = sku
            self.sequence = sequence
            self.outcome = outcome
        }
    }
}

/// The embedded conformance of `PushQueueStore`: the outbox, `deliveries` and `dlq` tables of the SQLite file.
public struct SQLitePushQueueStore: PushQueueStore {
    let database: LedgerDatabase

    public init(database: LedgerDatabase) { self.database = database }

    public func pendingPushes(outboxLimit: Int, retryLimit: Int) async throws -> (outbox: [OutboxRow], retries: [PushQueue.RetryRow]) {
        try await database.pool.read { db in
            let outbox = try OutboxRecord.limit(outboxLimit).fetchAll(db).map { OutboxRow(seller: $0.seller, sku: $0.sku, sequence: $0.sequence) }
            let retries = try DeliveryRecord.limit(retryLimit).fetchAll(db).map {
                PushQueue.RetryRow(seller: $0.seller, connection: $0.connection, sku: $0.sku, sequence: $0.sequence, attempts: $0.attempts,
                         nextAttemptAt: Date(timeIntervalSince1970: $0.nextAttemptAt))
            }
            return (outbox, retries)
        }
    }

    /// The commit does not wait for fsync (`synchronous = NORMAL` for this transaction only): in WAL mode transactions
    /// reach the disk in commit order, so a power loss can only drop the latest settlements whole — each drop leaves its
    /// outbox rows in place, and the SKUs are pushed again (pushes set absolute values). Ingest commits keep their fsync.
    public func settle(_ settled: [PushQueue.Settled], outbox: [OutboxRow], now: Date) async throws {
        try await database.pool.writeWithoutTransaction { db in
            if database.durability == .full { try db.execute(sql: "PRAGMA synchronous = NORMAL") }
            defer { if database.durability == .full { try? db.execute(sql: "PRAGMA synchronous = FULL") } }
            try db.inTransaction {
                try settle(db, settled, outbox: outbox, now: now)
                return .commit
            }
        }
    }

    private func settle(_ db: Database, _ settled: [PushQueue.Settled], outbox: [OutboxRow], now: Date) throws {
        for s in settled {
            switch s.outcome {
            case .delivered:
                try db.cachedStatement(sql: "DELETE FROM deliveries WHERE seller = ? AND connection = ? AND sku = ? AND sequence <= ?")
                    .execute(arguments: [s.seller, s.connection, s.sku, s.sequence])
            case .retry(let attempts, let at, let error):
                try db.cachedStatement(
                    sql: """
                        INSERT INTO deliveries (seller, connection, sku, sequence, attempts, nextAttemptAt, lastError) VALUES (?,?,?,?,?,?,?)
                        ON CONFLICT (seller, connection, sku) DO UPDATE SET sequence = MAX(sequence, excluded.sequence),
                            attempts = excluded.attempts, nextAttemptAt = excluded.nextAttemptAt, lastError = excluded.lastError
                        """
                ).execute(arguments: [s.seller, s.connection, s.sku, s.sequence, attempts, at.timeIntervalSince1970, error])
            case .deadLetter(let attempts, let error):
                try DeadLetterRecord(id: nil, seller: s.seller, connection: s.connection, sku: s.sku, sequence: s.sequence, attempts: attempts,
                                     lastError: error, failedAt: now.timeIntervalSince1970).insert(db)
                try db.cachedStatement(sql: "DELETE FROM deliveries WHERE seller = ? AND connection = ? AND sku = ?")
                    .execute(arguments: [s.seller, s.connection, s.sku])
            }
        }
        for row in outbox {
            try db.cachedStatement(sql: "DELETE FROM outbox WHERE seller = ? AND sku = ? AND sequence <= ?")
                .execute(arguments: [row.seller, row.sku, row.sequence])
        }
    }

    public func requestPush(_ rows: [OutboxRow]) async throws {
        try await database.pool.write { db in
            for row in rows {
                try db.cachedStatement(
                    sql: "INSERT INTO outbox (seller, sku, sequence) VALUES (?,?,?) ON CONFLICT (seller, sku) DO UPDATE SET sequence = MAX(sequence, excluded.sequence)"
                ).execute(arguments: [row.seller, row.sku, row.sequence])
            }
        }
    }

    public func discardOutbox(except pushing: Set<String>) async throws -> Int {
        try await database.pool.write { db in
            try OutboxRecord.filter(!pushing.sorted().contains(OutboxRecord.Columns.seller)).deleteAll(db)
        }
    }

    public func discardRetries(seller: String, connection: String) async throws {
        try await database.pool.write { db in
            try db.execute(sql: "DELETE FROM deliveries WHERE seller = ? AND connection = ?", arguments: [seller, connection])
        }
    }

    public func depths() async throws -> PushQueue.Depths {
        try await database.pool.read { db in
            PushQueue.Depths(outbox: try OutboxRecord.fetchCount(db), retries: try DeliveryRecord.fetchCount(db),
                             deadLetters: try DeadLetterRecord.fetchCount(db))
        }
    }

    public func deadLetters(seller: String, limit: Int) async throws -> [DeadLetter] {
        try await database.pool.read { db in
            try DeadLetterRecord.filter(DeadLetterRecord.Columns.seller == seller).order(DeadLetterRecord.Columns.id).limit(limit).fetchAll(db).map {
                DeadLetter(id: $0.id ?? 0, connection: $0.connection, sku: $0.sku, sequence: $0.sequence, attempts: $0.attempts,
                           lastError: $0.lastError, failedAt: Date(timeIntervalSince1970: $0.failedAt))
            }
        }
    }

    public func connectionQueues(seller: String) async throws -> [String: DeadLetterQueue.ConnectionQueue] {
        try await database.pool.read { db in
            var queues: [String: DeadLetterQueue.ConnectionQueue] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT connection, COUNT(*), (SELECT lastError FROM deliveries d2 WHERE d2.seller = d.seller AND d2.connection = d.connection AND d2.lastError IS NOT NULL LIMIT 1) FROM deliveries d WHERE seller = ? GROUP BY connection",
                arguments: [seller]
            ) {
                let connection: String = row[0]
                queues[connection, default: .init()].pending = row[1]
                queues[connection, default: .init()].lastError = row[2]
            }
            for row in try Row.fetchAll(
                db, sql: "SELECT connection, COUNT(*), MAX(failedAt), (SELECT lastError FROM dlq l2 WHERE l2.seller = l.seller AND l2.connection = l.connection ORDER BY id DESC LIMIT 1) FROM dlq l WHERE seller = ? GROUP BY connection",
                arguments: [seller]
            ) {
                let connection: String = row[0]
                var q = queues[connection, default: .init()]
                q.deadLetters = row[1]
                if q.lastError == nil {
                    q.lastError = row[3]
                    q.lastErrorAt = Date(timeIntervalSince1970: row[2])
                }
                queues[connection] = q
            }
            return queues
        }
    }

    public func replayDeadLetters(seller: String, id: Int64?) async throws -> Int {
        try await database.pool.write { db in
            let clause = id == nil ? "1 = 1" : "id = ?"
            let args: StatementArguments = id.map { [seller, $0] } ?? [seller]
            try db.execute(
                sql: """
                    INSERT INTO deliveries (seller, connection, sku, sequence, attempts, nextAttemptAt, lastError)
                    SELECT seller, connection, sku, sequence, 0, 0, NULL FROM dlq WHERE seller = ? AND \(clause)
                    ON CONFLICT (seller, connection, sku) DO UPDATE SET attempts = 0, nextAttemptAt = 0,
                        sequence = MAX(deliveries.sequence, excluded.sequence)
                    """,
                arguments: args
            )
            try db.execute(sql: "DELETE FROM dlq WHERE seller = ? AND \(clause)", arguments: args)
            return db.changesCount
        }
    }

    public func discardDeadLetter(seller: String, id: Int64) async throws -> Bool {
        try await database.pool.write { db in
            try DeadLetterRecord.filter(DeadLetterRecord.Columns.seller == seller && DeadLetterRecord.Columns.id == id).deleteAll(db) > 0
        }
    }
}
