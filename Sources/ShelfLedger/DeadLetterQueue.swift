import Foundation
import GRDB

/// A push that exhausted its retries (or was refused by the channel), kept until an operator replays it.
public struct DeadLetter: Codable, Hashable, Sendable {
    public var id: Int64
    public var connection: String
    public var sku: String
    public var sequence: Int64
    public var attempts: Int
    public var lastError: String
    public var failedAt: Date
}

/// Lists, replays and discards dead-lettered pushes. A replay puts the push back in line for its connection; the value sent is the
/// SKU's current one, so a replay never sends stale stock.
public struct DeadLetterQueue: Sendable {
    let database: LedgerDatabase

    public init(database: LedgerDatabase) { self.database = database }

    /// The seller's dead letters, oldest first.
    public func list(seller: String, limit: Int = 500) throws -> [DeadLetter] {
        try database.pool.read { db in
            try DeadLetterRecord.filter(DeadLetterRecord.Columns.seller == seller).order(DeadLetterRecord.Columns.id).limit(limit).fetchAll(db).map {
                DeadLetter(id: $0.id ?? 0, connection: $0.connection, sku: $0.sku, sequence: $0.sequence, attempts: $0.attempts,
                           lastError: $0.lastError, failedAt: Date(timeIntervalSince1970: $0.failedAt))
            }
        }
    }

    /// What waits on one connection: pushes in line for a retry, dead letters, and the latest failure of either.
    public struct ConnectionQueue: Hashable, Sendable {
        public var pending: Int = 0
        public var deadLetters: Int = 0
        public var lastError: String?
        public var lastErrorAt: Date?
    }

    /// Per connection of the seller, the retry queue and dead letters (connections with neither are absent).
    public func queues(seller: String) throws -> [String: ConnectionQueue] {
        try database.pool.read { db in
            var queues: [String: ConnectionQueue] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT connection, COUNT(*), (SELECT lastError FROM deliveries d2 WHERE d2.seller = d.seller AND d2.connection = d.connection AND d2.lastError IS NOT NULL LIMIT 1) FROM deliveries d WHERE seller = ? GROUP BY connection",
                arguments: [seller]
            ) {
                let connection: String = row[0]
                queues[connection, default: ConnectionQueue()].pending = row[1]
                queues[connection, default: ConnectionQueue()].lastError = row[2]
            }
            for row in try Row.fetchAll(
                db, sql: "SELECT connection, COUNT(*), MAX(failedAt), (SELECT lastError FROM dlq l2 WHERE l2.seller = l.seller AND l2.connection = l.connection ORDER BY id DESC LIMIT 1) FROM dlq l WHERE seller = ? GROUP BY connection",
                arguments: [seller]
            ) {
                let connection: String = row[0]
                var q = queues[connection, default: ConnectionQueue()]
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

    /// Replays one dead letter; false when the seller has no such entry.
    public func replay(id: Int64, seller: String) throws -> Bool {
        try database.pool.write { db in try Self.requeue(db, seller: seller, where: "id = ?", arguments: [id]) > 0 }
    }

    /// Discards one dead letter without sending it (the operator decided the push is not wanted); false when the seller has
    /// no such entry. The SKU's next change is pushed as usual.
    public func discard(id: Int64, seller: String) throws -> Bool {
        try database.pool.write { db in
            try DeadLetterRecord.filter(DeadLetterRecord.Columns.seller == seller && DeadLetterRecord.Columns.id == id).deleteAll(db) > 0
        }
    }

    /// Replays every dead letter of the seller; returns how many.
    public func replayAll(seller: String) throws -> Int {
        try database.pool.write { db in try Self.requeue(db, seller: seller, where: "1 = 1", arguments: []) }
    }

    static func requeue(_ db: Database, seller: String, where clause: String, arguments: [any DatabaseValueConvertible]) throws -> Int {
        let values: [(any DatabaseValueConvertible)?] = [seller] + arguments.map { Optional($0) }
        let args = StatementArguments(values)
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
