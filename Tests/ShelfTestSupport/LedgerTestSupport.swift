import Foundation
import ShelfLedger

extension Ledger {
    /// The SQLite file under this ledger, for tests that read or damage its rows directly (only on a ledger built on
    /// `ShelfStore.sqlite`: anything else is a mistake in the test, and traps).
    public var database: LedgerDatabase {
        guard let store = stores.ledger as? SQLiteLedgerStore else { preconditionFailure("this ledger is not on a SQLite file") }
        return store.database
    }
}
