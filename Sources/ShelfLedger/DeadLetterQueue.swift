import Foundation

/// A push that exhausted its retries (or was refused by the channel), kept until an operator replays it.
public struct DeadLetter: Codable, Hashable, Sendable {
    public var id: Int64
    public var connection: String
    public var sku: String
    public var sequence: Int64
    public var attempts: Int
    public var lastError: String
    public var failedAt: Date

    public init(id: Int64, connection: String, sku: String, sequence: Int64, attempts: Int, lastError: String, failedAt: Date) {
        self.id = id
        self.connection = connection
        self.sku = sku
        self.sequence = sequence
        self.attempts = attempts
        self.lastError = lastError
        self.failedAt = failedAt
    }
}

/// Lists, replays and discards dead-lettered pushes. A replay puts the push back in line for its connection; the value sent is the
/// SKU's current one, so a replay never sends stale stock.
public struct DeadLetterQueue: Sendable {
    let store: any PushQueueStore

    public init(store: any PushQueueStore) { self.store = store }

    /// Dead letters of the SQLite file `database`.
    public init(database: LedgerDatabase) { self.init(store: SQLitePushQueueStore(database: database)) }

    /// The seller's dead letters, oldest first.
    public func list(seller: String, limit: Int = 500) async throws -> [DeadLetter] {
        try await store.deadLetters(seller: seller, limit: limit)
    }

    /// What waits on one connection: pushes in line for a retry, dead letters, and the latest failure of either.
    public struct ConnectionQueue: Hashable, Sendable {
        public var pending: Int = 0
        public var deadLetters: Int = 0
        public var lastError: String?
        public var lastErrorAt: Date?

        public init(pending: Int = 0, deadLetters: Int = 0, lastError: String? = nil, lastErrorAt: Date? = nil) {
            self.pending = pending
            self.deadLetters = deadLetters
            self.lastError = lastError
            self.lastErrorAt = lastErrorAt
        }
    }

    /// Per connection of the seller, the retry queue and dead letters (connections with neither are absent).
    public func queues(seller: String) async throws -> [String: ConnectionQueue] {
        try await store.connectionQueues(seller: seller)
    }

    /// Replays one dead letter; false when the seller has no such entry.
    public func replay(id: Int64, seller: String) async throws -> Bool {
        try await store.replayDeadLetters(seller: seller, id: id) > 0
    }

    /// Discards one dead letter without sending it (the operator decided the push is not wanted); false when the seller has
    /// no such entry. The SKU's next change is pushed as usual.
    public func discard(id: Int64, seller: String) async throws -> Bool {
        try await store.discardDeadLetter(seller: seller, id: id)
    }

    /// Replays every dead letter of the seller; returns how many.
    public func replayAll(seller: String) async throws -> Int {
        try await store.replayDeadLetters(seller: seller, id: nil)
    }
}
