import Foundation
import GRDB
import ShelfLedger

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

/// Lists and replays dead-lettered pushes. A replay puts the push back in line for its connection; the value sent is the
/// SKU's current one, so a replay never sends stale stock.
public struct DeadLetterQueue: Sendable {
    let database: LedgerDatabase

    public init(database: LedgerDatabase) { self.database = database }

    /// The seller's dead letters, oldest first.
    public func list(seller: String, limit: Int = 500) throws -> [DeadLetter] {
        try database.pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT id, connection, sku, sequence, attempts, lastError, failedAt FROM dlq WHERE seller = ? ORDER BY id LIMIT ?",
                arguments: [seller, limit]
            ).map {
                DeadLetter(id: $0[0], connection: $0[1], sku: $0[2], sequence: $0[3], attempts: $0[4], lastError: $0[5],
                           failedAt: Date(timeIntervalSince1970: $0[6]))
            }
        }
    }

    /// Replays one dead letter; false when the seller has no such entry.
    public func replay(id: Int64, seller: String) throws -> Bool {
        try database.pool.write { db in try Self.requeue(db, seller: seller, where: "id = ?", arguments: [id]) > 0 }
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
