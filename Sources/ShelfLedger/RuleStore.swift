import Foundation
import GRDB
import ShelfCore

/// A stored automation: the seller's sentence, its canonical parse (JSON) and whether it runs.
public struct StoredRule: Codable, Hashable, Sendable {
    public var id: String
    public var text: String
    /// The canonical rule JSON (rules-grammar §7.1).
    public var rule: String
    public var explain: String
    public var enabled: Bool
    public var createdAt: Date
    /// Set when the engine paused the rule because its actions kept failing; cleared when the seller enables it again.
    public var pausedReason: String?

    public init(id: String, text: String, rule: String, explain: String, enabled: Bool, createdAt: Date, pausedReason: String? = nil) {
        self.id = id
        self.text = text
        self.rule = rule
        self.explain = explain
        self.enabled = enabled
        self.createdAt = createdAt
        self.pausedReason = pausedReason
    }
}

/// The embedded conformance of `RuleStore`: sellers' rules in the SQLite file, through GRDB's async API.
public struct SQLiteRuleStore: RuleStore {
    let database: LedgerDatabase

    public init(database: LedgerDatabase) { self.database = database }

    public func insert(_ rule: StoredRule, seller: String) async throws {
        try await database.pool.write { db in
            try db.execute(
                sql: "INSERT INTO rules (seller, id, text, rule, explain, enabled, createdAt) VALUES (?,?,?,?,?,?,?)",
                arguments: [seller, rule.id, rule.text, rule.rule, rule.explain, rule.enabled, rule.createdAt.timeIntervalSince1970]
            )
        }
    }

    public func list(seller: String) async throws -> [StoredRule] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, text, rule, explain, enabled, createdAt, pausedReason FROM rules WHERE seller = ? ORDER BY createdAt, id",
                             arguments: [seller]).map(Self.rule)
        }
    }

    /// Every enabled rule of every seller.
    public func enabled() async throws -> [(seller: String, rule: StoredRule)] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, text, rule, explain, enabled, createdAt, pausedReason, seller FROM rules WHERE enabled = 1 ORDER BY seller, id")
                .map { ($0[7], Self.rule($0)) }
        }
    }

    /// Enables or disables a rule (the seller's choice: any reason the engine paused it with is cleared).
    public func setEnabled(_ enabled: Bool, id: String, seller: String) async throws -> Bool {
        try await database.pool.write { db in
            try db.execute(sql: "UPDATE rules SET enabled = ?, pausedReason = NULL WHERE seller = ? AND id = ?", arguments: [enabled, seller, id])
            return db.changesCount > 0
        }
    }

    /// Disables a rule on the engine's behalf, keeping why, so the seller sees it in the rules API.
    public func pause(id: String, seller: String, reason: String) async throws {
        try await database.pool.write { db in
            try db.execute(sql: "UPDATE rules SET enabled = 0, pausedReason = ? WHERE seller = ? AND id = ?", arguments: [reason, seller, id])
        }
    }

    public func delete(id: String, seller: String) async throws -> Bool {
        try await database.pool.write { db in
            try db.execute(sql: "DELETE FROM rules WHERE seller = ? AND id = ?", arguments: [seller, id])
            let deleted = db.changesCount > 0
            try RuleScheduleRecord.filter(RuleScheduleRecord.Columns.seller == seller && RuleScheduleRecord.Columns.ruleId == id).deleteAll(db)
            return deleted
        }
    }

    /// Claims a schedule occurrence for a rule: true (and recorded) when it is later than the one last claimed, false when it
    /// was already handled, here or by another process on the same database. Claimed before acting, so it fires at most once.
    public func claimOccurrence(_ occurrence: Date, id: String, seller: String) async throws -> Bool {
        try await database.pool.write { db in
            let last = try RuleScheduleRecord.fetchOne(db, key: ["seller": seller, "ruleId": id])?.lastOccurrence
            if let last, occurrence.timeIntervalSince1970 <= last { return false }
            try RuleScheduleRecord(seller: seller, ruleId: id, lastOccurrence: occurrence.timeIntervalSince1970).save(db)
            return true
        }
    }

    static func rule(_ row: Row) -> StoredRule {
        StoredRule(id: row[0], text: row[1], rule: row[2], explain: row[3], enabled: row[4], createdAt: Date(timeIntervalSince1970: row[5]),
                   pausedReason: row[6])
    }
}
