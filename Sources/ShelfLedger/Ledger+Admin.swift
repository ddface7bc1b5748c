import Foundation
import GRDB
import ShelfCore
import Synchronization

extension Ledger {
    /// Creates or replaces a channel connection and refreshes the push targets.
    public func upsertConnection(_ c: ConnectionFixture, seller: String) throws {
        let credentials = try ShelfJSON.string(c.credentials)
        try database.pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO connections (seller, id, channel, kind, baseURL, credentials, webhookSecret, pollIntervalSeconds,
                        pushEnabled, channelLocationId, createdAt) VALUES (?,?,?,?,?,?,?,?,?,?,?)
                    ON CONFLICT (seller, id) DO UPDATE SET channel = excluded.channel, kind = excluded.kind, baseURL = excluded.baseURL,
                        credentials = excluded.credentials, webhookSecret = excluded.webhookSecret,
                        pollIntervalSeconds = excluded.pollIntervalSeconds, pushEnabled = excluded.pushEnabled,
                        channelLocationId = excluded.channelLocationId
                    """,
                arguments: [
                    seller, c.id, c.channel, c.kind, c.baseURL, credentials, c.webhookSecret, c.pollIntervalSeconds, c.pushEnabled,
                    c.channelLocationId, clock.now().timeIntervalSince1970,
                ]
            )
        }
        try reloadConnections()
        // The push workers follow connections as they are added, changed, disabled or removed.
        snapshot.feed.poke()
    }

    /// Deletes a connection; returns false when it did not exist.
    public func deleteConnection(id: String, seller: String) async throws -> Bool {
        let deleted = try await database.pool.write { db in
            try db.execute(sql: "DELETE FROM connections WHERE seller = ? AND id = ?", arguments: [seller, id])
            return db.changesCount > 0
        }
        // Its retries go with it (a crash in between leaves them behind: the push registry discards retries of connections
        // that no longer exist when it next reads the queues, at the latest on the next start).
        try await pushQueue.discardRetries(seller: seller, connection: id)
        try reloadConnections()
        snapshot.feed.poke()
        return deleted
    }

    /// The seller's connections, by id (cached; refreshed when this process changes them).
    public func connections(seller: String) throws -> [ConnectionFixture] {
        if let cached = connectionCache.withLock({ $0[seller] }) { return cached }
        let loaded = try loadConnections(seller: seller)
        connectionCache.withLock { $0[seller] = loaded }
        return loaded
    }

    func loadConnections(seller: String) throws -> [ConnectionFixture] {
        try database.pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, channel, kind, baseURL, credentials, webhookSecret, pollIntervalSeconds, pushEnabled, channelLocationId
                    FROM connections WHERE seller = ? ORDER BY id
                    """,
                arguments: [seller]
            ).map(Self.connection)
        }
    }

    static func connection(_ row: Row) -> ConnectionFixture {
        let credentials = (try? ShelfJSON.decode([String: String].self, from: Data((row["credentials"] as String).utf8))) ?? [:]
        return ConnectionFixture(
            id: row["id"], channel: row["channel"], kind: row["kind"], baseURL: row["baseURL"], credentials: credentials,
            webhookSecret: row["webhookSecret"], pollIntervalSeconds: row["pollIntervalSeconds"], pushEnabled: row["pushEnabled"],
            channelLocationId: row["channelLocationId"]
        )
    }

    /// Every seller's push-enabled connections, read off the cooperative pool's blocking path (one async read).
    public func pushEnabledConnections() async throws -> [(seller: String, connection: ConnectionFixture)] {
        try await database.pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT seller, id, channel, kind, baseURL, credentials, webhookSecret, pollIntervalSeconds, pushEnabled, channelLocationId
                    FROM connections WHERE pushEnabled = 1 ORDER BY seller, id
                    """
            ).map { row in (row["seller"], Self.connection(row)) }
        }
    }

    /// Stores the seller's rule vocabulary (suppliers, notify targets, collections) and business calendar.
    public func saveSellerFixture(_ seller: SellerFixture) throws {
        let body = try ShelfJSON.string(seller)
        try database.pool.write { db in try SellerProfileRecord(seller: seller.id, body: body).save(db) }
        snapshot.seller(seller.id)?.setHolidays(seller.holidays)
    }

    /// The seller's rule vocabulary and business calendar, if stored.
    public func sellerFixture(_ seller: String) throws -> SellerFixture? {
        try database.pool.read { db in try Self.sellerFixture(db, seller: seller) }
    }

    static func sellerFixture(_ db: Database, seller: String) throws -> SellerFixture? {
        try SellerProfileRecord.fetchOne(db, key: seller).flatMap { try? ShelfJSON.decode(SellerFixture.self, from: Data($0.body.utf8)) }
    }
}

extension Ledger {
    /// Every seller's connection with this id (ids are unique per seller; webhooks name only the id).
    public func connections(id: String) throws -> [(seller: String, connection: ConnectionFixture)] {
        let sellers = try database.pool.read { db in
            try String.fetchAll(db, sql: "SELECT seller FROM connections WHERE id = ?", arguments: [id])
        }
        return try sellers.compactMap { seller in try connections(seller: seller).first { $0.id == id }.map { (seller, $0) } }
    }

    /// Asks the propagator to push these SKUs again (drift healing, replays): an outbox row at the SKU's current sequence.
    public func requestPush(seller: String, skus: [String]) async throws {
        let heads = skus.compactMap { sku in snapshot.seller(seller)?.sku(sku).map { OutboxRow(seller: seller, sku: $0.sku, sequence: $0.lastSequence) } }
        try await pushQueue.requestPush(heads)
        snapshot.feed.poke()
    }

    /// Removes the outbox rows of sellers that have no push-enabled connection now (nobody will push them); returns how many.
    public func discardUnpushable() async throws -> Int {
        try await pushQueue.discardOutbox(except: Set(try await pushEnabledConnections().map(\.seller)))
    }
}
