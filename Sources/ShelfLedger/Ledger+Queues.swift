import Foundation

extension Ledger {
    /// A hold whose expiry has passed (the sweeper records its `reservation.expired`).
    public typealias DueHold = ShelfLedger.DueHold

    /// Holds that expired at or before `now`, oldest first, at most `limit`.
    public func dueHolds(at now: Date, limit: Int = 1000) async throws -> [DueHold] {
        try await stores.history.dueHolds(at: now, limit: limit)
    }

    /// A seller's stored settings document of one kind (e.g. `spike-policy`), as JSON text; nil when none is stored.
    public func sellerSetting(_ kind: String, seller: String) async throws -> String? {
        try await stores.sellers.setting(kind, seller: seller)
    }

    /// Stores (replaces) a seller's settings document of one kind.
    public func saveSellerSetting(_ kind: String, seller: String, body: String) async throws {
        try await stores.sellers.saveSetting(kind, seller: seller, body: body)
    }
}
