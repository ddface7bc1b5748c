import Foundation
import GRDB

/// A rule notification: what is POSTed where, on whose behalf, and how its delivery is going.
public struct RuleNotification: Codable, Hashable, Sendable {
    /// Where a notification stands.
    public enum State: String, Codable, Sendable, CaseIterable {
        /// Waiting for its first or next attempt.
        case pending
        /// Out of attempts: kept until an operator replays it.
        case dead
    }

    public var id: Int64
    public var seller: String
    /// The rule that sent it.
    public var ruleId: String
    /// What made the rule fire: `event:<sequence>`, `schedule:<RFC 3339>` or `lag:<connection>`.
    public var trigger: String
    public var url: String
    /// The JSON body POSTed.
    public var body: String
    public var state: State
    public var attempts: Int
    public var nextAttemptAt: Date
    public var lastError: String?
    public var createdAt: Date

    /// What one attempt came to.
    public enum Outcome: Sendable, Hashable {
        case delivered
        case retry(at: Date, error: String)
        case dead(error: String)
    }

    public init(id: Int64, seller: String, ruleId: String, trigger: String, url: String, body: String, state: State, attempts: Int,
                nextAttemptAt: Date, lastError: String?, createdAt: Date) {
        self.id = id
        self.seller = seller
        self.ruleId = ruleId
        self.trigger = trigger
        self.url = url
        self.body = body
        self.state = state
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
        self.createdAt = createdAt
    }
}

/// A notification to put in the outbox.
public struct NotificationDraft: Sendable, Hashable {
    public var seller: String
    public var ruleId: String
    public var trigger: String
    public var url: String
    public var body: String

    public init(seller: String, ruleId: String, trigger: String, url: String, body: String) {
        self.seller = seller
        self.ruleId = ruleId
        self.trigger = trigger
        self.url = url
        self.body = body
    }
}

/// The durable outbox of rule notifications: written when a rule fires, read by the notification dispatcher, which deletes a
/// row once its webhook answered 2xx, schedules a retry otherwise, and marks it dead after its attempts. Operators list and
/// replay them. No storage engine's types in sight: `SQLiteNotificationOutbox` is the embedded conformance,
/// `PostgresNotificationOutbox` (ShelfPostgres) the server's.
public protocol NotificationOutbox: Sendable {
    /// Puts notifications in the outbox, due at once; returns their ids (increasing).
    @discardableResult
    func enqueue(_ drafts: [NotificationDraft], now: Date) async throws -> [Int64]
    /// Pending notifications due at `now`, by due time then id, leaving out `excluding` (those in flight); at most `limit`.
    func due(now: Date, excluding: Set<Int64>, limit: Int) async throws -> [RuleNotification]
    /// When the next pending notification falls due (nil when none is pending).
    func nextDue() async throws -> Date?
    /// Records an attempt on a notification: delivered ones leave the outbox.
    func record(id: Int64, attempts: Int, outcome: RuleNotification.Outcome) async throws
    /// The seller's notifications in a state (every state when nil), oldest first, at most `limit`.
    func list(seller: String, state: RuleNotification.State?, limit: Int) async throws -> [RuleNotification]
    /// Puts one of the seller's notifications back in line with a fresh set of attempts; false when it has no such one.
    func replay(id: Int64, seller: String) async throws -> Bool
    /// Replays every dead notification of the seller; returns how many.
    func replayDead(seller: String) async throws -> Int
    /// Notifications by state over every seller, every state present (for `/metrics`).
    func counts() async throws -> [RuleNotification.State: Int]
}

/// The embedded conformance of `NotificationOutbox`: the `notifications` table of the SQLite file.
public struct SQLiteNotificationOutbox: NotificationOutbox {
    let database: LedgerDatabase

    public init(database: LedgerDatabase) { self.database = database }

    static func notification(_ r: NotificationRecord) -> RuleNotification {
        RuleNotification(id: r.id ?? 0, seller: r.seller, ruleId: r.ruleId, trigger: r.trigger, url: r.url, body: r.body,
                     state: RuleNotification.State(rawValue: r.state) ?? .pending, attempts: r.attempts,
                     nextAttemptAt: Date(timeIntervalSince1970: r.nextAttemptAt), lastError: r.lastError,
                     createdAt: Date(timeIntervalSince1970: r.createdAt))
    }

    /// Puts notifications in the outbox, due at once; returns their ids.
    @discardableResult
    public func enqueue(_ drafts: [NotificationDraft], now: Date) async throws -> [Int64] {
        guard !drafts.isEmpty else { return [] }
        return try await database.pool.write { db in
            try drafts.map { d in
                var record = NotificationRecord(id: nil, seller: d.seller, ruleId: d.ruleId, trigger: d.trigger, url: d.url, body: d.body,
                                                state: RuleNotification.State.pending.rawValue, attempts: 0, nextAttemptAt: 0, lastError: nil,
                                                createdAt: now.timeIntervalSince1970)
                try record.insert(db)
                return record.id ?? 0
            }
        }
    }

    /// Pending notifications due at `now`, oldest first, leaving out `excluding` (those in flight); at most `limit`.
    public func due(now: Date, excluding: Set<Int64>, limit: Int) async throws -> [RuleNotification] {
        try await database.pool.read { db in
            try NotificationRecord
                .filter(NotificationRecord.Columns.state == RuleNotification.State.pending.rawValue
                        && NotificationRecord.Columns.nextAttemptAt <= now.timeIntervalSince1970
                        && !excluding.contains(NotificationRecord.Columns.id))
                .order(NotificationRecord.Columns.nextAttemptAt, NotificationRecord.Columns.id)
                .limit(limit).fetchAll(db).map(Self.notification)
        }
    }

    /// When the next pending notification falls due (nil when none is pending).
    public func nextDue() async throws -> Date? {
        try await database.pool.read { db in
            try Double.fetchOne(db, sql: "SELECT MIN(nextAttemptAt) FROM notifications WHERE state = ?",
                                arguments: [RuleNotification.State.pending.rawValue])
                .map { Date(timeIntervalSince1970: $0) }
        }
    }

    /// Records an attempt on a notification: delivered ones leave the outbox.
    public func record(id: Int64, attempts: Int, outcome: RuleNotification.Outcome) async throws {
        try await database.pool.write { db in
            switch outcome {
            case .delivered:
                _ = try NotificationRecord.deleteOne(db, key: id)
            case .retry(let at, let error):
                try db.execute(sql: "UPDATE notifications SET attempts = ?, nextAttemptAt = ?, lastError = ? WHERE id = ?",
                               arguments: [attempts, at.timeIntervalSince1970, error, id])
            case .dead(let error):
                try db.execute(sql: "UPDATE notifications SET state = ?, attempts = ?, lastError = ? WHERE id = ?",
                               arguments: [RuleNotification.State.dead.rawValue, attempts, error, id])
            }
        }
    }

    /// The seller's notifications in a state (every state when nil), oldest first, at most `limit`.
    public func list(seller: String, state: RuleNotification.State?, limit: Int) async throws -> [RuleNotification] {
        try await database.pool.read { db in
            var request = NotificationRecord.filter(NotificationRecord.Columns.seller == seller)
            if let state { request = request.filter(NotificationRecord.Columns.state == state.rawValue) }
            return try request.order(NotificationRecord.Columns.id).limit(limit).fetchAll(db).map(Self.notification)
        }
    }

    /// Puts one of the seller's notifications back in line with a fresh set of attempts; false when it has no such one.
    public func replay(id: Int64, seller: String) async throws -> Bool {
        try await database.pool.write { db in
            try db.execute(sql: "UPDATE notifications SET state = ?, attempts = 0, nextAttemptAt = 0 WHERE id = ? AND seller = ?",
                           arguments: [RuleNotification.State.pending.rawValue, id, seller])
            return db.changesCount > 0
        }
    }

    /// Replays every dead notification of the seller; returns how many.
    public func replayDead(seller: String) async throws -> Int {
        try await database.pool.write { db in
            try db.execute(sql: "UPDATE notifications SET state = ?, attempts = 0, nextAttemptAt = 0 WHERE seller = ? AND state = ?",
                           arguments: [RuleNotification.State.pending.rawValue, seller, RuleNotification.State.dead.rawValue])
            return db.changesCount
        }
    }

    /// Notifications by state over every seller (for `/metrics`).
    public func counts() async throws -> [RuleNotification.State: Int] {
        try await database.pool.read { db in
            var out: [RuleNotification.State: Int] = [:]
            for state in RuleNotification.State.allCases { out[state] = 0 }
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM notifications GROUP BY state") {
                if let state = RuleNotification.State(rawValue: row["state"]) { out[state] = row["n"] }
            }
            return out
        }
    }
}
