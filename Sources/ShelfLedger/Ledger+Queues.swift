import Foundation
import GRDB

extension Ledger {
    /// A hold whose expiry has passed (the sweeper records its `reservation.expired`).
    public struct DueHold: Sendable, Hashable {
        public var seller: String
        public var id: String
        public var sku: String
    }

    /// Holds that expired at or before `now`, oldest first, at most `limit` (an indexed range read, `holds_by_expiry`).
    public func dueHolds(at now: Date, limit: Int = 1000) async throws -> [DueHold] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT seller, id, sku FROM holds WHERE expiresAt <= ? ORDER BY expiresAt LIMIT ?",
                             arguments: [now.timeIntervalSince1970, limit])
                .map { DueHold(seller: $0[0], id: $0[1], sku: $0[2]) }
        }
    }

    /// A seller's stored settings document of one kind (e.g. `spike-policy`), as JSON text; nil when none is stored.
    public func sellerSetting(_ kind: String, seller: String) throws -> String? {
        try database.pool.read { db in try SellerSettingRecord.fetchOne(db, key: ["seller": seller, "kind": kind])?.body }
    }

    /// Stores (replaces) a seller's settings document of one kind.
    public func saveSellerSetting(_ kind: String, seller: String, body: String) throws {
        try database.pool.write { db in try SellerSettingRecord(seller: seller, kind: kind, body: body).save(db) }
    }
}
