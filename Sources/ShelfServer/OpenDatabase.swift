import Foundation
import Logging
import ShelfLedger
import ShelfPostgres

/// The database `--database` names, opened: a SQLite file path, or a `postgres://` URL (one PostgreSQL database, its
/// migrations run on opening). Every store on it, and how to close it.
public struct OpenDatabase: Sendable {
    public let stores: ShelfStore
    /// The PostgreSQL database, when that is what was opened.
    public let postgres: PostgresDatabase?

    /// Opens `location`: a `postgres://` or `postgresql://` URL, else the path of a SQLite file (created when missing).
    /// Throws `PostgresURL.Invalid`, `PostgresUnavailable` or `PostgresSchema.TooNewError` (each one sentence) for PostgreSQL.
    public static func open(_ location: String, durability: LedgerDatabase.Durability = .full,
                            logger: Logger = Logger(label: "shelf.database")) async throws -> OpenDatabase {
        if PostgresURL.isPostgres(location) {
            let database = try await PostgresDatabase.open(try PostgresURL(location), logger: logger)
            return OpenDatabase(stores: database.stores, postgres: database)
        }
        // Opening the file runs its migrations (blocking SQLite work): on a thread of its own, never on the caller's.
        let database = try await withCheckedThrowingContinuation { (c: CheckedContinuation<LedgerDatabase, any Error>) in
            Thread { c.resume(with: Result { try LedgerDatabase(path: location, durability: durability) }) }.start()
        }
        return OpenDatabase(stores: .sqlite(database), postgres: nil)
    }

    /// Closes the PostgreSQL client (a SQLite file closes when its last store goes).
    public func close() async {
        await postgres?.close()
    }
}
