import Foundation
import GRDB

/// The ledger's push queues, in the database beside the events: the transactional outbox (one row per changed SKU, at the
/// sequence of its latest change), the pushes waiting for a retry (`deliveries`), and the dead letters. The push workers read
/// what is pending and settle what each push came to; the SQL stays here.
public struct PushQueue: Sendable {
    let database: LedgerDatabase

    public init(database: LedgerDatabase) { self.database = database }

    /// A push waiting for its next attempt.
    public struct RetryRow: Sendable, Hashable {
        public var seller: String
        public var connection: String
        public var sku: String
        public var sequence: Int64
        public var attempts: Int
        public var nextAttemptAt: Date
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

    /// Every outbox row (at most `outboxLimit`) and every push waiting for a retry (at most `retryLimit`), read in one
    /// transaction: the push workers' queues, read once for all of them at start and whenever the feed is poked.
    public func pendingPushes(outboxLimit: Int = 100_000, retryLimit: Int = 100_000) async throws -> (outbox: [OutboxRow], retries: [RetryRow]) {
        try await database.pool.read { db in
            let outbox = try OutboxRecord.limit(outboxLimit).fetchAll(db).map { OutboxRow(seller: $0.seller, sku: $0.sku, sequence: $0.sequence) }
            let retries = try DeliveryRecord.limit(retryLimit).fetchAll(db).map {
                RetryRow(seller: $0.seller, connection: $0.connection, sku: $0.sku, sequence: $0.sequence, attempts: $0.attempts,
                         nextAttemptAt: Date(timeIntervalSince1970: $0.nextAttemptAt))
            }
            return (outbox, retries)
        }
    }

    /// Records outcomes (a delivered push clears its waiting retry up to its sequence, a retry is stored or moved on, a dead
    /// letter leaves the retry queue for the DLQ) and removes the outbox rows every connection has settled (`outbox`: each
    /// row settled up to its `sequence` by every push-enabled connection of its seller; a later change keeps it), in one
    /// blocking transaction: the push workers' settlement queue calls it off the cooperative pool, one batch at a time.
    ///
    /// The commit does not wait for fsync (`synchronous = NORMAL` for this transaction only): in WAL mode transactions
    /// reach the disk in commit order, so a power loss can only drop the latest settlements whole — each drop leaves its
    /// outbox rows in place, and the SKUs are pushed again (pushes set absolute values). Ingest commits keep their fsync.
    public func settle(_ settled: [Settled], outbox: [OutboxRow], now: Date) throws {
        try database.pool.writeWithoutTransaction { db in
            if database.durability == .full { try db.execute(sql: "PRAGMA synchronous = NORMAL") }
            defer { if database.durability == .full { try? db.execute(sql: "PRAGMA synchronous = FULL") } }
            try db.inTransaction {
                try settle(db, settled, outbox: outbox, now: now)
                return .commit
            }
        }
    }

    private func settle(_ db: Database, _ settled: [Settled], outbox: [OutboxRow], now: Date) throws {
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

    /// Removes the outbox rows of sellers that no longer have a push-enabled connection (nobody will push them); returns how many.
    public func discardUnpushable() async throws -> Int {
        try await database.pool.write { db in
            try db.execute(sql: "DELETE FROM outbox WHERE seller NOT IN (SELECT seller FROM connections WHERE pushEnabled = 1)")
            return db.changesCount
        }
    }
}

extension Ledger {
    /// The push queues (outbox, retries, dead letters) of this ledger's database.
    public var pushQueue: PushQueue { PushQueue(database: database) }
}
