import Foundation

/// Where bearer tokens are kept: their records and the SHA-256 digest of each secret (never the secret), with no storage
/// engine's types in sight. `SQLiteTokenRecordStore` is the embedded conformance, `PostgresTokenRecordStore` (ShelfPostgres)
/// the server's. `TokenStore` puts its in-memory caches in front of one.
public protocol TokenRecordStore: Sendable {
    /// Stores a new token under the hex SHA-256 digest of its secret.
    func insert(_ info: TokenInfo, hash: String) async throws
    /// The token whose secret has this digest (revoked or expired ones too), or nil.
    func token(hash: String) async throws -> TokenInfo?
    /// Every token of `seller`, oldest first (by creation, then id).
    func tokens(seller: String) async throws -> [TokenInfo]
    /// Marks the token revoked at `instant` (an earlier revocation stands); false when `seller` has no token `id`.
    func revoke(id: String, seller: String, at instant: Date) async throws -> Bool
}

/// Where sellers' rules and their schedule claims are kept.
public protocol RuleStore: Sendable {
    /// Stores a new rule of `seller`.
    func insert(_ rule: StoredRule, seller: String) async throws
    /// The seller's rules, oldest first (by creation, then id).
    func list(seller: String) async throws -> [StoredRule]
    /// Every enabled rule of every seller, by seller then id.
    func enabled() async throws -> [(seller: String, rule: StoredRule)]
    /// Enables or disables a rule (the seller's choice: any reason the engine paused it with is cleared); false when the seller
    /// has no rule `id`.
    func setEnabled(_ enabled: Bool, id: String, seller: String) async throws -> Bool
    /// Disables a rule on the engine's behalf, keeping why, so the seller sees it in the rules API.
    func pause(id: String, seller: String, reason: String) async throws
    /// Deletes a rule and its schedule claim; false when the seller has no rule `id`.
    func delete(id: String, seller: String) async throws -> Bool
    /// Claims a schedule occurrence for a rule: true (and recorded) when it is later than the one last claimed, false when it
    /// was already handled, here or by another process on the same store. Claimed before acting, so it fires at most once.
    func claimOccurrence(_ occurrence: Date, id: String, seller: String) async throws -> Bool
}

/// The stores a Shelf server is built from, one per concern, all on one database (the embedded SQLite file or one
/// PostgreSQL database).
public struct ShelfStore: Sendable {
    /// The ledger's write path and event reads.
    public var ledger: any LedgerStore
    /// Bearer tokens.
    public var tokens: any TokenRecordStore
    /// Sellers' rules.
    public var rules: any RuleStore
    /// The push queues (outbox, retries, dead letters).
    public var pushQueue: any PushQueueStore
    /// Rule notifications waiting to be delivered.
    public var notifications: any NotificationOutbox
    /// Agents' watches and their delivery state.
    public var watches: any WatchStore
    /// Sellers, their profiles and settings documents.
    public var sellers: any SellerStore
    /// Sellers' channel connections.
    public var connections: any ConnectionStore
    /// The ledger's history reads (audits, history API, rules' windows, start-up velocity, the hold sweeper).
    public var history: any LedgerHistoryStore
    /// The current-state rows the snapshot is rebuilt from.
    public var state: any SnapshotStateStore

    public init(ledger: any LedgerStore, tokens: any TokenRecordStore, rules: any RuleStore, pushQueue: any PushQueueStore,
                notifications: any NotificationOutbox, watches: any WatchStore, sellers: any SellerStore, connections: any ConnectionStore,
                history: any LedgerHistoryStore, state: any SnapshotStateStore) {
        self.ledger = ledger
        self.tokens = tokens
        self.rules = rules
        self.pushQueue = pushQueue
        self.notifications = notifications
        self.watches = watches
        self.sellers = sellers
        self.connections = connections
        self.history = history
        self.state = state
    }

    /// Every store on the SQLite file `database`.
    public static func sqlite(_ database: LedgerDatabase) -> ShelfStore {
        ShelfStore(ledger: SQLiteLedgerStore(database: database), tokens: SQLiteTokenRecordStore(database: database),
                   rules: SQLiteRuleStore(database: database), pushQueue: SQLitePushQueueStore(database: database),
                   notifications: SQLiteNotificationOutbox(database: database), watches: SQLiteWatchStore(database: database),
                   sellers: SQLiteSellerStore(database: database), connections: SQLiteConnectionStore(database: database),
                   history: SQLiteHistoryStore(database: database), state: SQLiteSnapshotStateStore(database: database))
    }
}
