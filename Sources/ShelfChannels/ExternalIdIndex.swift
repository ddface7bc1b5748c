import Foundation
import ShelfCore
import ShelfLedger
import Synchronization

/// Maps a channel's own item id (Shopify inventory item id, Etsy listing id, …) back to the SKU, built from the snapshot on
/// first use per (seller, channel) and rebuilt when an id is not found (a new listing).
public final class ExternalIdIndex: Sendable {
    let snapshot: Snapshot
    private let maps = Mutex<[String: [String: String]]>([:])

    public init(snapshot: Snapshot) { self.snapshot = snapshot }

    /// The SKU a channel line refers to: its SKU when given and known, else the listing with that external id.
    public func resolve(sku: String?, externalId: String?, seller: String, channel: String) -> String? {
        guard let sellerSnapshot = snapshot.seller(seller) else { return nil }
        if let sku, sellerSnapshot.sku(sku) != nil { return sku }
        guard let externalId else { return nil }
        let key = "\(seller)\u{0}\(channel)"
        if let found = maps.withLock({ $0[key]?[externalId] }) { return found }
        var map: [String: String] = [:]
        for state in sellerSnapshot.allStates() {
            if let listing = state.listing(on: channel) { map[listing.externalId] = state.sku }
        }
        maps.withLock { $0[key] = map }
        return map[externalId]
    }
}
