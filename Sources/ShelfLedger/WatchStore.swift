import Foundation
import GRDB

/// An agent's watch: what it watches and when it fires (`spec`, JSON the server reads), its webhook target and secret, and
/// why its deliveries are paused (nil while they run).
public struct StoredWatch: Hashable, Sendable {
    public var id: String
    public var seller: String
    /// The token that created it (limits are per token).
    public var tokenId: String
    public var spec: String
    public var url: String
    public var secret: String
    public var createdAt: Date
    public var pausedAt: Date?
    public var pausedReason: String?

    public init(id: String, seller: String, tokenId: String, spec: String, url: String, secret: String, createdAt: Date,
                pausedAt: Date? = nil, pausedReason: String? = nil) {
        self.id = id
        self.seller = seller
        self.tokenId = tokenId
        self.spec = spec
        self.url = url
        self.secret = secret
        self.createdAt = createdAt
        self.pausedAt = pausedAt
        self.pausedReason = pausedReason
    }

    init(_ r: WatchRecord) {
        self.init(id: r.id, seller: r.seller, tokenId: r.tokenId, spec: r.spec, url: r.url, secret: r.secret,
                  createdAt: Date(timeIntervalSince1970: r.createdAt), pausedAt: r.pausedAt.map(Date.init(timeIntervalSince1970:)),
                  pausedReason: r.pausedReason)
    }

    var record: WatchRecord {
        WatchRecord(seller: seller, id: id, tokenId: tokenId, spec: spec, url: url, secret: secret, createdAt: createdAt.timeIntervalSince1970,
                    pausedAt: pausedAt?.timeIntervalSince1970, pausedReason: pausedReason)
    }
}

/// A watch delivery that was not made: retried to the limit, or held while the watch was paused. One per (watch, SKU); a
/// later failure for the same SKU replaces it, since a replay sends the SKU's state at replay time anyway.
public struct WatchDeadLetter: Hashable, Sendable {
    public var watchId: String
    public var sku: String
    /// The event type the delivery carried (`product_price_updated`, …).
    public var eventType: String
    /// The ledger sequence of the change that fired it.
    public var sequence: Int64
    public var attempts: Int
    public var lastError: String
    public var failedAt: Date

    public init(watchId: String, sku: String, eventType: String, sequence: Int64, attempts: Int, lastError: String, failedAt: Date) {
        self.watchId = watchId
        self.sku = sku
        self.eventType = eventType
        self.sequence = sequence
        self.attempts = attempts
        self.lastError = lastError
        self.failedAt = failedAt
    }
}

/// Keeps agents' watches and their dead-lettered deliveries in SQLite.
public struct WatchStore: Sendable {
    let database: LedgerDatabase

    public init(database: LedgerDatabase) { self.database = database }

    /// Stores a new watch unless its token already has `limit` watches; false (nothing stored) when it has.
    public func insert(_ watch: StoredWatch, limitPerToken limit: Int) throws -> Bool {
        try database.pool.write { db in
            let count = try WatchRecord.filter(WatchRecord.Columns.tokenId == watch.tokenId).fetchCount(db)
            guard count < limit else { return false }
            try watch.record.insert(db)
            return true
        }
    }

    /// The seller's watches, oldest first.
    public func list(seller: String) throws -> [StoredWatch] {
        try database.pool.read { db in
            try WatchRecord.filter(WatchRecord.Columns.seller == seller)
                .order(WatchRecord.Columns.createdAt, WatchRecord.Columns.id).fetchAll(db).map(StoredWatch.init)
        }
    }

    /// Every watch of every seller (the delivery service's start).
    public func all() throws -> [StoredWatch] {
        try database.pool.read { db in try WatchRecord.order(WatchRecord.Columns.seller, WatchRecord.Columns.id).fetchAll(db).map(StoredWatch.init) }
    }

    /// One watch of the seller, nil when the seller has none by that id.
    public func watch(id: String, seller: String) throws -> StoredWatch? {
        try database.pool.read { db in try WatchRecord.fetchOne(db, key: ["seller": seller, "id": id]).map(StoredWatch.init) }
    }

    /// Deletes a watch and its dead letters; false when the seller has no such watch.
    public func delete(id: String, seller: String) throws -> Bool {
        try database.pool.write { db in
            try WatchDeadLetterRecord.filter(WatchDeadLetterRecord.Columns.seller == seller && WatchDeadLetterRecord.Columns.watchId == id)
                .deleteAll(db)
            return try WatchRecord.deleteOne(db, key: ["seller": seller, "id": id])
        }
    }

    /// Pauses deliveries of a watch with the reason (`nil` reason resumes them).
    public func setPaused(_ reason: String?, at instant: Date, id: String, seller: String) throws {
        try database.pool.write { db in
            _ = try WatchRecord.filter(WatchRecord.Columns.seller == seller && WatchRecord.Columns.id == id).updateAll(
                db, WatchRecord.Columns.pausedReason.set(to: reason),
                WatchRecord.Columns.pausedAt.set(to: reason == nil ? nil : instant.timeIntervalSince1970)
            )
        }
    }

    /// Records (or replaces, for the same SKU) a delivery that was not made.
    public func deadLetter(_ letter: WatchDeadLetter, seller: String) throws {
        try database.pool.write { db in
            try WatchDeadLetterRecord(
                seller: seller, watchId: letter.watchId, sku: letter.sku, eventType: letter.eventType, sequence: letter.sequence,
                attempts: letter.attempts, lastError: letter.lastError, failedAt: letter.failedAt.timeIntervalSince1970
            ).save(db)
        }
    }

    /// A watch's dead letters, oldest failure first.
    public func deadLetters(watchId: String, seller: String) throws -> [WatchDeadLetter] {
        try database.pool.read { db in
            try WatchDeadLetterRecord.filter(WatchDeadLetterRecord.Columns.seller == seller && WatchDeadLetterRecord.Columns.watchId == watchId)
                .order(WatchDeadLetterRecord.Columns.failedAt, WatchDeadLetterRecord.Columns.sku).fetchAll(db)
                .map { WatchDeadLetter(watchId: $0.watchId, sku: $0.sku, eventType: $0.eventType, sequence: $0.sequence, attempts: $0.attempts,
                                       lastError: $0.lastError, failedAt: Date(timeIntervalSince1970: $0.failedAt)) }
        }
    }

    /// Takes a watch's dead letters out for replay (all of them, or those of `skus`), and resumes the watch, in one transaction.
    public func takeForReplay(watchId: String, seller: String, skus: Set<String>?) throws -> [WatchDeadLetter] {
        try database.pool.write { db in
            let rows = try WatchDeadLetterRecord.filter(WatchDeadLetterRecord.Columns.seller == seller && WatchDeadLetterRecord.Columns.watchId == watchId)
                .order(WatchDeadLetterRecord.Columns.failedAt, WatchDeadLetterRecord.Columns.sku).fetchAll(db)
                .filter { skus?.contains($0.sku) ?? true }
            for row in rows { try row.delete(db) }
            _ = try WatchRecord.filter(WatchRecord.Columns.seller == seller && WatchRecord.Columns.id == watchId).updateAll(
                db, WatchRecord.Columns.pausedReason.set(to: nil), WatchRecord.Columns.pausedAt.set(to: nil)
            )
            return rows.map { WatchDeadLetter(watchId: $0.watchId, sku: $0.sku, eventType: $0.eventType, sequence: $0.sequence,
                                              attempts: $0.attempts, lastError: $0.lastError, failedAt: Date(timeIntervalSince1970: $0.failedAt)) }
        }
    }
}
