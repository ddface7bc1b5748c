import Foundation
import Logging
import PostgresNIO
import ShelfLedger

/// The PostgreSQL conformance of `TokenRecordStore`: the `tokens` table, bound parameters only. `client` must be running.
public struct PostgresTokenRecordStore: TokenRecordStore {
    public let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger = Logger(label: "shelf.postgres")) {
        self.client = client
        self.logger = logger
    }

    public func insert(_ info: TokenInfo, hash: String) async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query(
                """
                INSERT INTO tokens (id, seller, hash, scopes, label, createdAt, expiresAt, revokedAt)
                VALUES (\(info.id), \(info.seller), \(hash), \(info.storedScopes), \(info.label), \(info.createdAt.timeIntervalSince1970),
                    \(info.expiresAt?.timeIntervalSince1970), \(info.revokedAt?.timeIntervalSince1970))
                """,
                logger: logger
            )
            try await ClusterChange.tokens(seller: info.seller).announce(on: connection, logger: logger)
        }
    }

    public func token(hash: String) async throws -> TokenInfo? {
        try await decode(client.query(
            "SELECT id, seller, scopes, label, createdAt, expiresAt, revokedAt FROM tokens WHERE hash = \(hash)", logger: logger
        )).first
    }

    public func tokens(seller: String) async throws -> [TokenInfo] {
        try await decode(client.query(
            "SELECT id, seller, scopes, label, createdAt, expiresAt, revokedAt FROM tokens WHERE seller = \(seller) ORDER BY createdAt, id",
            logger: logger
        ))
    }

    public func revoke(id: String, seller: String, at instant: Date) async throws -> Bool {
        try await client.withTransaction(logger: logger) { connection in
            let rows = try await connection.query(
                """
                UPDATE tokens SET revokedAt = COALESCE(revokedAt, \(instant.timeIntervalSince1970)) WHERE id = \(id) AND seller = \(seller)
                RETURNING 1
                """,
                logger: logger
            )
            guard try await PostgresLedgerStore.count(rows) > 0 else { return false }
            // Every node's token cache forgets the seller's tokens when this commits: the revocation holds everywhere.
            try await ClusterChange.tokens(seller: seller).announce(on: connection, logger: logger)
            return true
        }
    }

    private func decode(_ rows: PostgresRowSequence) async throws -> [TokenInfo] {
        var out: [TokenInfo] = []
        for try await (id, seller, scopes, label, createdAt, expiresAt, revokedAt)
            in rows.decode((String, String, String, String?, Double, Double?, Double?).self)
        {
            out.append(TokenInfo(id: id, seller: seller, scopes: TokenInfo.scopes(scopes), label: label,
                                 createdAt: Date(timeIntervalSince1970: createdAt), expiresAt: expiresAt.map(Date.init(timeIntervalSince1970:)),
                                 revokedAt: revokedAt.map(Date.init(timeIntervalSince1970:))))
        }
        return out
    }
}

/// The PostgreSQL conformance of `RuleStore`: the `rules` and `rule_schedules` tables. A schedule claim is one conditional
/// upsert, so two nodes claiming the same occurrence at once see exactly one success.
public struct PostgresRuleStore: RuleStore {
    public let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger = Logger(label: "shelf.postgres")) {
        self.client = client
        self.logger = logger
    }

    public func insert(_ rule: StoredRule, seller: String) async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query(
                """
                INSERT INTO rules (seller, id, text, rule, explain, enabled, createdAt, pausedReason)
                VALUES (\(seller), \(rule.id), \(rule.text), \(rule.rule), \(rule.explain), \(rule.enabled), \(rule.createdAt.timeIntervalSince1970),
                    \(rule.pausedReason))
                """,
                logger: logger
            )
            try await ClusterChange.rules(seller: seller).announce(on: connection, logger: logger)
        }
    }

    public func list(seller: String) async throws -> [StoredRule] {
        try await decode(client.query(
            """
            SELECT id, text, rule, explain, enabled, createdAt, pausedReason, seller FROM rules WHERE seller = \(seller) ORDER BY createdAt, id
            """,
            logger: logger
        )).map(\.rule)
    }

    public func enabled() async throws -> [(seller: String, rule: StoredRule)] {
        try await decode(client.query(
            "SELECT id, text, rule, explain, enabled, createdAt, pausedReason, seller FROM rules WHERE enabled ORDER BY seller, id",
            logger: logger
        ))
    }

    public func setEnabled(_ enabled: Bool, id: String, seller: String) async throws -> Bool {
        try await client.withTransaction(logger: logger) { connection in
            let changed = try await PostgresLedgerStore.count(connection.query(
                "UPDATE rules SET enabled = \(enabled), pausedReason = NULL WHERE seller = \(seller) AND id = \(id) RETURNING 1", logger: logger
            )) > 0
            if changed { try await ClusterChange.rules(seller: seller).announce(on: connection, logger: logger) }
            return changed
        }
    }

    public func pause(id: String, seller: String, reason: String) async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query(
                "UPDATE rules SET enabled = FALSE, pausedReason = \(reason) WHERE seller = \(seller) AND id = \(id)", logger: logger
            )
            try await ClusterChange.rules(seller: seller).announce(on: connection, logger: logger)
        }
    }

    public func delete(id: String, seller: String) async throws -> Bool {
        try await client.withTransaction(logger: logger) { connection in
            let deleted = try await PostgresLedgerStore.count(connection.query(
                "DELETE FROM rules WHERE seller = \(seller) AND id = \(id) RETURNING 1", logger: logger
            )) > 0
            try await connection.query("DELETE FROM rule_schedules WHERE seller = \(seller) AND ruleId = \(id)", logger: logger)
            if deleted { try await ClusterChange.rules(seller: seller).announce(on: connection, logger: logger) }
            return deleted
        }
    }

    public func claimOccurrence(_ occurrence: Date, id: String, seller: String) async throws -> Bool {
        let at = occurrence.timeIntervalSince1970
        return try await PostgresLedgerStore.count(client.query(
            """
            INSERT INTO rule_schedules AS r (seller, ruleId, lastOccurrence) VALUES (\(seller), \(id), \(at))
            ON CONFLICT (seller, ruleId) DO UPDATE SET lastOccurrence = excluded.lastOccurrence WHERE r.lastOccurrence < excluded.lastOccurrence
            RETURNING 1
            """,
            logger: logger
        )) == 1
    }

    private func decode(_ rows: PostgresRowSequence) async throws -> [(seller: String, rule: StoredRule)] {
        var out: [(seller: String, rule: StoredRule)] = []
        for try await (id, text, rule, explain, enabled, createdAt, pausedReason, seller)
            in rows.decode((String, String, String, String, Bool, Double, String?, String).self)
        {
            out.append((seller, StoredRule(id: id, text: text, rule: rule, explain: explain, enabled: enabled,
                                           createdAt: Date(timeIntervalSince1970: createdAt), pausedReason: pausedReason)))
        }
        return out
    }
}

extension ShelfStore {
    /// Every store on one PostgreSQL database through `client` (which must be running), after bringing the database's schema
    /// up to this binary's (`PostgresSchema.migrate`: throws `PostgresSchema.TooNewError` when it is ahead).
    public static func postgres(_ client: PostgresClient, logger: Logger = Logger(label: "shelf.postgres")) async throws -> ShelfStore {
        try await PostgresSchema.migrate(client, logger: logger)
        return ShelfStore(
            ledger: PostgresLedgerStore(client: client, logger: logger), tokens: PostgresTokenRecordStore(client: client, logger: logger),
            rules: PostgresRuleStore(client: client, logger: logger), pushQueue: PostgresPushQueueStore(client: client, logger: logger),
            notifications: PostgresNotificationOutbox(client: client, logger: logger), watches: PostgresWatchStore(client: client, logger: logger),
            sellers: PostgresSellerStore(client: client, logger: logger), connections: PostgresConnectionStore(client: client, logger: logger),
            history: PostgresHistoryStore(client: client, logger: logger), state: PostgresSnapshotStateStore(client: client, logger: logger)
        )
    }
}
