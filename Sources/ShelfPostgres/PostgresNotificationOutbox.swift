import Foundation
import Logging
import PostgresNIO
import ShelfLedger

/// The PostgreSQL conformance of `NotificationOutbox`: the `notifications` table, bound parameters only. `client` must be
/// running.
public struct PostgresNotificationOutbox: NotificationOutbox {
    public let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger = Logger(label: "shelf.postgres")) {
        self.client = client
        self.logger = logger
    }

    private static let columns = "id, seller, ruleId, trigger, url, body, state, attempts, nextAttemptAt, lastError, createdAt"

    @discardableResult
    public func enqueue(_ drafts: [NotificationDraft], now: Date) async throws -> [Int64] {
        guard !drafts.isEmpty else { return [] }
        let pending = RuleNotification.State.pending.rawValue
        let rows = try await client.query(
            """
            INSERT INTO notifications (seller, ruleId, trigger, url, body, state, attempts, nextAttemptAt, lastError, createdAt)
            SELECT seller, ruleId, trigger, url, body, \(pending), 0, 0, NULL, \(now.timeIntervalSince1970)
            FROM UNNEST(\(drafts.map(\.seller))::text[], \(drafts.map(\.ruleId))::text[], \(drafts.map(\.trigger))::text[],
                \(drafts.map(\.url))::text[], \(drafts.map(\.body))::text[]) WITH ORDINALITY AS d(seller, ruleId, trigger, url, body, n)
            ORDER BY n
            RETURNING id
            """,
            logger: logger
        )
        var ids: [Int64] = []
        for try await id in rows.decode(Int64.self) { ids.append(id) }
        return ids.sorted()
    }

    public func due(now: Date, excluding: Set<Int64>, limit: Int) async throws -> [RuleNotification] {
        try await decode(client.query(
            """
            SELECT \(unescaped: Self.columns) FROM notifications
            WHERE state = \(RuleNotification.State.pending.rawValue) AND nextAttemptAt <= \(now.timeIntervalSince1970)
                AND NOT (id = ANY(\(excluding.sorted())::int8[]))
            ORDER BY nextAttemptAt, id LIMIT \(limit)
            """,
            logger: logger
        ))
    }

    public func nextDue() async throws -> Date? {
        let rows = try await client.query(
            "SELECT MIN(nextAttemptAt) FROM notifications WHERE state = \(RuleNotification.State.pending.rawValue)", logger: logger
        )
        for try await at in rows.decode(Double?.self) { return at.map(Date.init(timeIntervalSince1970:)) }
        return nil
    }

    public func record(id: Int64, attempts: Int, outcome: RuleNotification.Outcome) async throws {
        switch outcome {
        case .delivered:
            try await client.query("DELETE FROM notifications WHERE id = \(id)", logger: logger)
        case .retry(let at, let error):
            try await client.query(
                "UPDATE notifications SET attempts = \(attempts), nextAttemptAt = \(at.timeIntervalSince1970), lastError = \(error) WHERE id = \(id)",
                logger: logger
            )
        case .dead(let error):
            try await client.query(
                """
                UPDATE notifications SET state = \(RuleNotification.State.dead.rawValue), attempts = \(attempts), lastError = \(error)
                WHERE id = \(id)
                """,
                logger: logger
            )
        }
    }

    public func list(seller: String, state: RuleNotification.State?, limit: Int) async throws -> [RuleNotification] {
        try await decode(client.query(
            """
            SELECT \(unescaped: Self.columns) FROM notifications
            WHERE seller = \(seller) AND (\(state?.rawValue)::text IS NULL OR state = \(state?.rawValue)::text)
            ORDER BY id LIMIT \(limit)
            """,
            logger: logger
        ))
    }

    public func replay(id: Int64, seller: String) async throws -> Bool {
        try await PostgresLedgerStore.count(client.query(
            """
            UPDATE notifications SET state = \(RuleNotification.State.pending.rawValue), attempts = 0, nextAttemptAt = 0
            WHERE id = \(id) AND seller = \(seller) RETURNING 1
            """,
            logger: logger
        )) > 0
    }

    public func replayDead(seller: String) async throws -> Int {
        try await PostgresLedgerStore.count(client.query(
            """
            UPDATE notifications SET state = \(RuleNotification.State.pending.rawValue), attempts = 0, nextAttemptAt = 0
            WHERE seller = \(seller) AND state = \(RuleNotification.State.dead.rawValue) RETURNING 1
            """,
            logger: logger
        ))
    }

    public func counts() async throws -> [RuleNotification.State: Int] {
        var out: [RuleNotification.State: Int] = [:]
        for state in RuleNotification.State.allCases { out[state] = 0 }
        for try await (state, n) in try await client.query(
            "SELECT state, COUNT(*) FROM notifications GROUP BY state", logger: logger
        ).decode((String, Int).self) {
            if let state = RuleNotification.State(rawValue: state) { out[state] = n }
        }
        return out
    }

    private func decode(_ rows: PostgresRowSequence) async throws -> [RuleNotification] {
        var out: [RuleNotification] = []
        for try await (id, seller, ruleId, trigger, url, body, state, attempts, next, lastError, createdAt)
            in rows.decode((Int64, String, String, String, String, String, String, Int, Double, String?, Double).self)
        {
            out.append(RuleNotification(id: id, seller: seller, ruleId: ruleId, trigger: trigger, url: url, body: body,
                                        state: RuleNotification.State(rawValue: state) ?? .pending, attempts: attempts,
                                        nextAttemptAt: Date(timeIntervalSince1970: next), lastError: lastError,
                                        createdAt: Date(timeIntervalSince1970: createdAt)))
        }
        return out
    }
}
