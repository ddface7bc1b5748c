import Foundation
import GRDB
import ShelfCore

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

/// What a watch compares between two moments for one SKU.
public struct WatchObservation: Hashable, Sendable {
    /// Units available (0 for a discontinued SKU, or one outside a catalog-query watch's query).
    public var available: Int
    public var price: Money
    /// The first delivery option to the watch's destination (`carrier/service earliest..latest`), nil without a destination or stock.
    public var deliveryWindow: String?

    public init(available: Int, price: Money, deliveryWindow: String?) {
        self.available = available
        self.price = price
        self.deliveryWindow = deliveryWindow
    }
}

/// A watch delivery waiting to be made, as kept in the outbox: which watch and SKU, what fired it, and its delivery id (the
/// `Shelf-Delivery-Id` every attempt carries, across restarts too).
public struct WatchOutboxEntry: Hashable, Sendable {
    public var seller: String
    public var watchId: String
    public var sku: String
    public var deliveryId: String
    /// The event type the delivery carries (`product_price_updated`, …).
    public var eventType: String
    /// The ledger sequence of the change that fired it.
    public var sequence: Int64
    /// When that change was committed.
    public var changedAt: Date

    public init(seller: String, watchId: String, sku: String, deliveryId: String, eventType: String, sequence: Int64, changedAt: Date) {
        self.seller = seller
        self.watchId = watchId
        self.sku = sku
        self.deliveryId = deliveryId
        self.eventType = eventType
        self.sequence = sequence
        self.changedAt = changedAt
    }

    init(_ r: WatchOutboxRecord) {
        self.init(seller: r.seller, watchId: r.watchId, sku: r.sku, deliveryId: r.deliveryId, eventType: r.eventType, sequence: r.sequence,
                  changedAt: Date(timeIntervalSince1970: r.changedAt))
    }

    var record: WatchOutboxRecord {
        WatchOutboxRecord(seller: seller, watchId: watchId, sku: sku, deliveryId: deliveryId, eventType: eventType, sequence: sequence,
                          changedAt: changedAt.timeIntervalSince1970)
    }

    /// A fresh delivery id: `dlv_` and 32 random hex digits, written as bytes (one is made per firing; the text route through
    /// `UUID().uuidString` and `replacingOccurrences` walked it character by character).
    public static func newDeliveryId() -> String {
        var generator = SystemRandomNumberGenerator()
        let words: (UInt64, UInt64) = (generator.next(), generator.next())
        let digits = Array("0123456789abcdef".utf8)
        var bytes = Array("dlv_".utf8)
        bytes.reserveCapacity(36)
        for word in [words.0, words.1] {
            for shift in stride(from: 60, through: 0, by: -4) { bytes.append(digits[Int((word >> UInt64(shift)) & 0xF)]) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// One observation of a watch for one SKU, keyed as stored.
public struct WatchObservationKey: Hashable, Sendable {
    public var seller: String
    public var watchId: String
    public var sku: String

    public init(seller: String, watchId: String, sku: String) {
        self.seller = seller
        self.watchId = watchId
        self.sku = sku
    }
}

/// What one judged batch of changes leaves behind, written in one transaction: the observations that changed, the deliveries
/// that fired (replacing a waiting one of the same watch and SKU), the deliveries made since the last batch (their outbox rows
/// go, unless a newer firing replaced them), and how far each seller was judged.
public struct WatchJudgement: Sendable {
    public var observations: [WatchObservationKey: WatchObservation] = [:]
    public var fired: [WatchOutboxEntry] = []
    /// Deliveries made: the outbox row of (seller, watch, SKU) goes if its sequence is at most `through`.
    public var delivered: [(key: WatchObservationKey, through: Int64)] = []
    public var cursors: [String: Int64] = [:]

    public init() {}

    public var isEmpty: Bool { observations.isEmpty && fired.isEmpty && delivered.isEmpty && cursors.isEmpty }
}

/// What the delivery service resumes from after a restart.
public struct WatchResumePoint: Sendable {
    /// The last judged ledger sequence per seller.
    public var cursors: [String: Int64]
    public var observations: [WatchObservationKey: WatchObservation]
    /// Deliveries still to be made, in the order they fired.
    public var outbox: [WatchOutboxEntry]

    public init(cursors: [String: Int64], observations: [WatchObservationKey: WatchObservation], outbox: [WatchOutboxEntry]) {
        self.cursors = cursors
        self.observations = observations
        self.outbox = outbox
    }
}

/// Keeps agents' watches with the delivery service's durable state: the outbox of deliveries still to be made, each watch's
/// last observation per SKU, the judged position per seller, and the dead-lettered deliveries. No storage engine's types in
/// sight: `SQLiteWatchStore` is the embedded conformance, `PostgresWatchStore` (ShelfPostgres) the server's.
public protocol WatchStore: Sendable {
    /// Stores a new watch with its baseline observations unless its token already has `limit` watches (false, nothing stored,
    /// when it has); the seller's judged position starts at `position` unless the seller already has one.
    func insert(_ watch: StoredWatch, observations: [String: WatchObservation], position: Int64, limitPerToken limit: Int) async throws -> Bool
    /// Watches of the token that match `predicate` on their spec (the per-token limit of catalog-query watches).
    func count(tokenId: String, where predicate: @escaping @Sendable (String) -> Bool) async throws -> Int
    /// The seller's watches, oldest first (by creation, then id).
    func list(seller: String) async throws -> [StoredWatch]
    /// Every watch of every seller, by seller then id (the delivery service's start).
    func all() async throws -> [StoredWatch]
    /// One watch of the seller, nil when the seller has none by that id.
    func watch(id: String, seller: String) async throws -> StoredWatch?
    /// Deletes a watch with its dead letters, waiting deliveries and observations; false when the seller has no such watch. The
    /// seller's judged position goes with its last watch.
    func delete(id: String, seller: String) async throws -> Bool
    /// Pauses deliveries of a watch with the reason (`nil` reason resumes them).
    func setPaused(_ reason: String?, at instant: Date, id: String, seller: String) async throws
    /// Where the delivery service resumes: judged positions, observations and the outbox in firing order (rows of watches
    /// deleted meanwhile are dropped first).
    func resumePoint() async throws -> WatchResumePoint
    /// Writes what one judged batch leaves behind, in one transaction (a judged position never moves back).
    func commit(_ judgement: WatchJudgement) async throws
    /// Records (or replaces, for the same SKU) deliveries that were not made, taking them out of the outbox (unless a newer
    /// firing of the same watch and SKU replaced them there), in one transaction.
    func deadLetter(_ letters: [WatchDeadLetter], seller: String) async throws
    /// A watch's dead letters, oldest failure first (then by SKU).
    func deadLetters(watchId: String, seller: String) async throws -> [WatchDeadLetter]
    /// Takes a watch's dead letters out for replay (all of them, or those of `skus`), puts them back in the outbox as new
    /// deliveries and resumes the watch, in one transaction; returns the outbox entries.
    func takeForReplay(watchId: String, seller: String, skus: Set<String>?) async throws -> [WatchOutboxEntry]
}

/// The embedded conformance of `WatchStore`: the watch tables of the SQLite file.
public struct SQLiteWatchStore: WatchStore {
    let database: LedgerDatabase

    public init(database: LedgerDatabase) { self.database = database }

    /// Stores a new watch with its baseline observations unless its token already has `limit` watches (false, nothing stored,
    /// when it has); the seller's judged position starts at `position` unless the seller already has one.
    public func insert(_ watch: StoredWatch, observations: [String: WatchObservation], position: Int64, limitPerToken limit: Int) async throws -> Bool {
        try await database.pool.write { db in
            let count = try WatchRecord.filter(WatchRecord.Columns.tokenId == watch.tokenId).fetchCount(db)
            guard count < limit else { return false }
            try watch.record.insert(db)
            for (sku, o) in observations { try Self.observationRecord(WatchObservationKey(seller: watch.seller, watchId: watch.id, sku: sku), o).insert(db, onConflict: .replace) }
            try db.execute(sql: "INSERT OR IGNORE INTO watch_cursors (seller, sequence) VALUES (?, ?)", arguments: [watch.seller, position])
            return true
        }
    }

    /// Watches of the token that match `predicate` on their spec (the per-token limit of catalog-query watches).
    public func count(tokenId: String, where predicate: @escaping @Sendable (String) -> Bool) async throws -> Int {
        try await database.pool.read { db in
            try WatchRecord.filter(WatchRecord.Columns.tokenId == tokenId).fetchAll(db).filter { predicate($0.spec) }.count
        }
    }

    /// The seller's watches, oldest first.
    public func list(seller: String) async throws -> [StoredWatch] {
        try await database.pool.read { db in
            try WatchRecord.filter(WatchRecord.Columns.seller == seller)
                .order(WatchRecord.Columns.createdAt, WatchRecord.Columns.id).fetchAll(db).map(StoredWatch.init)
        }
    }

    /// Every watch of every seller (the delivery service's start).
    public func all() async throws -> [StoredWatch] {
        try await database.pool.read { db in try WatchRecord.order(WatchRecord.Columns.seller, WatchRecord.Columns.id).fetchAll(db).map(StoredWatch.init) }
    }

    /// One watch of the seller, nil when the seller has none by that id.
    public func watch(id: String, seller: String) async throws -> StoredWatch? {
        try await database.pool.read { db in try WatchRecord.fetchOne(db, key: ["seller": seller, "id": id]).map(StoredWatch.init) }
    }

    /// Deletes a watch with its dead letters, waiting deliveries and observations; false when the seller has no such watch. The
    /// seller's judged position goes with its last watch.
    public func delete(id: String, seller: String) async throws -> Bool {
        try await database.pool.write { db in
            for table in ["watch_dead_letters", "watch_outbox", "watch_observations"] {
                try db.execute(sql: "DELETE FROM \(table) WHERE seller = ? AND watchId = ?", arguments: [seller, id])
            }
            let deleted = try WatchRecord.deleteOne(db, key: ["seller": seller, "id": id])
            try db.execute(sql: "DELETE FROM watch_cursors WHERE seller = ? AND NOT EXISTS (SELECT 1 FROM watches WHERE seller = ?)",
                           arguments: [seller, seller])
            return deleted
        }
    }

    /// Pauses deliveries of a watch with the reason (`nil` reason resumes them).
    public func setPaused(_ reason: String?, at instant: Date, id: String, seller: String) async throws {
        try await database.pool.write { db in
            _ = try WatchRecord.filter(WatchRecord.Columns.seller == seller && WatchRecord.Columns.id == id).updateAll(
                db, WatchRecord.Columns.pausedReason.set(to: reason),
                WatchRecord.Columns.pausedAt.set(to: reason == nil ? nil : instant.timeIntervalSince1970)
            )
        }
    }

    /// Where the delivery service resumes: judged positions, observations and the outbox (rows a batch judged while their
    /// watch was being deleted wrote after the deletion are dropped first).
    public func resumePoint() async throws -> WatchResumePoint {
        try await database.pool.write { db in
            for table in ["watch_outbox", "watch_observations"] {
                try db.execute(sql: """
                    DELETE FROM \(table) WHERE NOT EXISTS (SELECT 1 FROM watches w WHERE w.seller = \(table).seller AND w.id = \(table).watchId)
                    """)
            }
            var cursors: [String: Int64] = [:]
            for r in try WatchCursorRecord.fetchAll(db) { cursors[r.seller] = r.sequence }
            var observations: [WatchObservationKey: WatchObservation] = [:]
            for r in try WatchObservationRecord.fetchAll(db) {
                observations[WatchObservationKey(seller: r.seller, watchId: r.watchId, sku: r.sku)] =
                    WatchObservation(available: r.available, price: Money(amount: r.priceAmount, currency: r.currency), deliveryWindow: r.deliveryWindow)
            }
            let outbox = try WatchOutboxRecord.order(Column("changedAt"), Column("sequence")).fetchAll(db).map(WatchOutboxEntry.init)
            return WatchResumePoint(cursors: cursors, observations: observations, outbox: outbox)
        }
    }

    /// Writes what one judged batch leaves behind, in one transaction.
    public func commit(_ judgement: WatchJudgement) async throws {
        guard !judgement.isEmpty else { return }
        try await database.pool.write { db in
            for (key, o) in judgement.observations { try Self.observationRecord(key, o).insert(db, onConflict: .replace) }
            for entry in judgement.fired { try entry.record.insert(db, onConflict: .replace) }
            for (key, through) in judgement.delivered {
                try db.execute(sql: "DELETE FROM watch_outbox WHERE seller = ? AND watchId = ? AND sku = ? AND sequence <= ?",
                               arguments: [key.seller, key.watchId, key.sku, through])
            }
            for (seller, sequence) in judgement.cursors {
                try db.execute(sql: """
                    INSERT INTO watch_cursors (seller, sequence) VALUES (?, ?)
                    ON CONFLICT (seller) DO UPDATE SET sequence = max(sequence, excluded.sequence)
                    """, arguments: [seller, sequence])
            }
        }
    }

    static func observationRecord(_ key: WatchObservationKey, _ o: WatchObservation) -> WatchObservationRecord {
        WatchObservationRecord(seller: key.seller, watchId: key.watchId, sku: key.sku, available: o.available, priceAmount: o.price.amount,
                               currency: o.price.currency, deliveryWindow: o.deliveryWindow)
    }

    /// Records (or replaces, for the same SKU) deliveries that were not made, taking them out of the outbox (unless a newer
    /// firing of the same watch and SKU replaced them there), in one transaction.
    public func deadLetter(_ letters: [WatchDeadLetter], seller: String) async throws {
        guard !letters.isEmpty else { return }
        try await database.pool.write { db in
            for letter in letters {
                try WatchDeadLetterRecord(
                    seller: seller, watchId: letter.watchId, sku: letter.sku, eventType: letter.eventType, sequence: letter.sequence,
                    attempts: letter.attempts, lastError: letter.lastError, failedAt: letter.failedAt.timeIntervalSince1970
                ).save(db)
                try db.execute(sql: "DELETE FROM watch_outbox WHERE seller = ? AND watchId = ? AND sku = ? AND sequence <= ?",
                               arguments: [seller, letter.watchId, letter.sku, letter.sequence])
            }
        }
    }

    /// A watch's dead letters, oldest failure first.
    public func deadLetters(watchId: String, seller: String) async throws -> [WatchDeadLetter] {
        try await database.pool.read { db in
            try WatchDeadLetterRecord.filter(WatchDeadLetterRecord.Columns.seller == seller && WatchDeadLetterRecord.Columns.watchId == watchId)
                .order(WatchDeadLetterRecord.Columns.failedAt, WatchDeadLetterRecord.Columns.sku).fetchAll(db)
                .map { WatchDeadLetter(watchId: $0.watchId, sku: $0.sku, eventType: $0.eventType, sequence: $0.sequence, attempts: $0.attempts,
                                       lastError: $0.lastError, failedAt: Date(timeIntervalSince1970: $0.failedAt)) }
        }
    }

    /// Takes a watch's dead letters out for replay (all of them, or those of `skus`), puts them back in the outbox as new
    /// deliveries and resumes the watch, in one transaction; returns the outbox entries.
    public func takeForReplay(watchId: String, seller: String, skus: Set<String>?) async throws -> [WatchOutboxEntry] {
        try await database.pool.write { db in
            let rows = try WatchDeadLetterRecord.filter(WatchDeadLetterRecord.Columns.seller == seller && WatchDeadLetterRecord.Columns.watchId == watchId)
                .order(WatchDeadLetterRecord.Columns.failedAt, WatchDeadLetterRecord.Columns.sku).fetchAll(db)
                .filter { skus?.contains($0.sku) ?? true }
            var entries: [WatchOutboxEntry] = []
            for row in rows {
                try row.delete(db)
                let entry = WatchOutboxEntry(seller: seller, watchId: watchId, sku: row.sku, deliveryId: WatchOutboxEntry.newDeliveryId(),
                                             eventType: row.eventType, sequence: row.sequence, changedAt: Date(timeIntervalSince1970: row.failedAt))
                try entry.record.insert(db, onConflict: .replace)
                entries.append(entry)
            }
            _ = try WatchRecord.filter(WatchRecord.Columns.seller == seller && WatchRecord.Columns.id == watchId).updateAll(
                db, WatchRecord.Columns.pausedReason.set(to: nil), WatchRecord.Columns.pausedAt.set(to: nil)
            )
            return entries
        }
    }
}
