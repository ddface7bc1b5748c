import Foundation
import ShelfCore
import Synchronization

extension Ledger {
    /// Creates or replaces a channel connection and refreshes the push targets.
    public func upsertConnection(_ c: ConnectionFixture, seller: String) async throws {
        try await stores.connections.upsert(c, seller: seller, at: clock.now())
        try await connectionsChanged()
    }

    /// Re-reads the connections after one was added, changed, disabled or removed (here or on another node sharing the
    /// database), and wakes the push workers, which follow them.
    public func connectionsChanged() async throws {
        try await reloadConnections()
        snapshot.feed.poke()
    }

    /// Re-reads a seller's profile (its business calendar) after it changed on another node sharing the database; a seller
    /// this node has not seen yet is added and its events read.
    public func sellerChanged(_ seller: String) async throws {
        guard let live = snapshot.seller(seller) else {
            await follow(sellers: [seller])
            return
        }
        live.setHolidays(try await sellerFixture(seller)?.holidays ?? [])
    }

    /// Deletes a connection; returns false when it did not exist.
    public func deleteConnection(id: String, seller: String) async throws -> Bool {
        let deleted = try await stores.connections.delete(id: id, seller: seller)
        // Its retries go with it (a crash in between leaves them behind: the push registry discards retries of connections
        // that no longer exist when it next reads the queues, at the latest on the next start).
        try await pushQueue.discardRetries(seller: seller, connection: id)
        try await connectionsChanged()
        return deleted
    }

    /// The seller's connections, by id (cached; refreshed when this process changes them).
    public func connections(seller: String) async throws -> [ConnectionFixture] {
        if let cached = connectionCache.withLock({ $0[seller] }) { return cached }
        let loaded = try await stores.connections.connections(seller: seller)
        connectionCache.withLock { $0[seller] = loaded }
        return loaded
    }

    /// Every seller's push-enabled connections.
    public func pushEnabledConnections() async throws -> [(seller: String, connection: ConnectionFixture)] {
        try await stores.connections.pushEnabled()
    }

    /// Stores the seller's rule vocabulary (suppliers, notify targets, collections) and business calendar.
    public func saveSellerFixture(_ seller: SellerFixture) async throws {
        try await stores.sellers.saveProfile(try ShelfJSON.string(seller), seller: seller.id)
        snapshot.seller(seller.id)?.setHolidays(seller.holidays)
    }

    /// The seller's rule vocabulary and business calendar, if stored (an unreadable one counts as none).
    public func sellerFixture(_ seller: String) async throws -> SellerFixture? {
        try await stores.sellers.profile(seller: seller).flatMap { try? ShelfJSON.decode(SellerFixture.self, from: Data($0.utf8)) }
    }
}

extension Ledger {
    /// Every seller's connection with this id (ids are unique per seller; webhooks name only the id).
    public func connections(id: String) async throws -> [(seller: String, connection: ConnectionFixture)] {
        var out: [(seller: String, connection: ConnectionFixture)] = []
        for seller in try await stores.connections.sellers(connection: id) {
            if let c = try await connections(seller: seller).first(where: { $0.id == id }) { out.append((seller, c)) }
        }
        return out
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
