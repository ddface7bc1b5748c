import Foundation
import ShelfCore

/// A seller (tenant) as stored: identity and settings.
public struct SellerRow: Hashable, Sendable {
    public var id: String
    public var name: String
    public var currency: String
    public var timeZone: String
    public var createdAt: Date

    public init(id: String, name: String, currency: String, timeZone: String, createdAt: Date) {
        self.id = id
        self.name = name
        self.currency = currency
        self.timeZone = timeZone
        self.createdAt = createdAt
    }
}

/// Where sellers, their profile (rule vocabulary and business calendar, a `SellerFixture` as JSON) and their settings
/// documents (e.g. `spike-policy`) are kept, with no storage engine's types in sight. `SQLiteSellerStore` is the embedded
/// conformance, `PostgresSellerStore` (ShelfPostgres) the server's.
public protocol SellerStore: Sendable {
    /// Inserts the seller unless its id is taken, and then its profile (when given) in the same transaction; true when it was
    /// inserted (a taken id changes nothing, its profile included).
    func insert(_ seller: SellerRow, profile: String?) async throws -> Bool
    /// Every seller, by id.
    func sellers() async throws -> [SellerRow]
    /// One seller, or nil.
    func seller(id: String) async throws -> SellerRow?
    /// Stores (replaces) the seller's profile.
    func saveProfile(_ body: String, seller: String) async throws
    /// The seller's profile, if stored.
    func profile(seller: String) async throws -> String?
    /// The seller's settings document of one kind, or nil.
    func setting(_ kind: String, seller: String) async throws -> String?
    /// Stores (replaces) the seller's settings document of one kind.
    func saveSetting(_ kind: String, seller: String, body: String) async throws
}

/// Where sellers' channel connections are kept (ids are unique per seller).
public protocol ConnectionStore: Sendable {
    /// Creates the connection, or replaces every field of the existing one with the same (seller, id) (its creation time
    /// stays), in one statement.
    func upsert(_ connection: ConnectionFixture, seller: String, at instant: Date) async throws
    /// Deletes a connection; false when there was none.
    func delete(id: String, seller: String) async throws -> Bool
    /// The seller's connections, by id.
    func connections(seller: String) async throws -> [ConnectionFixture]
    /// The sellers that have a connection with this id, by seller.
    func sellers(connection id: String) async throws -> [String]
    /// Every seller's push-enabled connections, by seller then id.
    func pushEnabled() async throws -> [(seller: String, connection: ConnectionFixture)]
}

/// A hold whose expiry has passed (the sweeper records its `reservation.expired`).
public struct DueHold: Sendable, Hashable {
    public var seller: String
    public var id: String
    public var sku: String

    public init(seller: String, id: String, sku: String) {
        self.seller = seller
        self.id = id
        self.sku = sku
    }
}

/// Which events `LedgerHistoryStore.newest` answers: of `types` (none: no events), of one SKU or the whole seller, with a
/// sequence in (`afterSequence`, `beforeSequence`) and recorded in (`recordedAfter`, `recordedThrough`], each bound optional.
public struct NewestEventsQuery: Hashable, Sendable {
    public var seller: String
    public var sku: String?
    public var types: Set<EventType>
    public var afterSequence: Int64?
    public var beforeSequence: Int64?
    public var recordedAfter: Date?
    public var recordedThrough: Date?
    public var limit: Int

    public init(seller: String, sku: String?, types: Set<EventType>, afterSequence: Int64? = nil, beforeSequence: Int64? = nil,
                recordedAfter: Date? = nil, recordedThrough: Date? = nil, limit: Int) {
        self.seller = seller
        self.sku = sku
        self.types = types
        self.afterSequence = afterSequence
        self.beforeSequence = beforeSequence
        self.recordedAfter = recordedAfter
        self.recordedThrough = recordedThrough
        self.limit = limit
    }
}

/// The ledger's history reads beyond the write path's (audits, the history API, rules' windows, sales velocity at start-up,
/// the hold sweeper).
public protocol LedgerHistoryStore: Sendable {
    /// The seller's events with a sequence above `after`, in sequence order, of one SKU when given, recorded at or before
    /// `until` when given, at most `limit`.
    func events(seller: String, sku: String?, after: Int64, until: Date?, limit: Int) async throws -> [LedgerEvent]
    /// The events `query` selects, newest first.
    func newest(_ query: NewestEventsQuery) async throws -> [LedgerEvent]
    /// The last sequence of `seller` recorded strictly before `instant` (0 if none).
    func sequence(seller: String, before instant: Date) async throws -> Int64
    /// The order confirmations and SKU upserts of `seller` with a sequence above `afterSequence` recorded in
    /// (`from`, `to`] — the newest `limit` of them — handed to `body` oldest first, one at a time. An upsert comes as a bare
    /// event with its SKU, recorded at its time, so a large catalog's upserts are neither decoded nor held at once.
    func salesEvents(seller: String, afterSequence: Int64, recordedAfter from: Date, through to: Date, limit: Int,
                     _ body: @escaping @Sendable (LedgerEvent) throws -> Void) async throws
    /// Holds that expired at or before `instant`, oldest first, at most `limit`.
    func dueHolds(at instant: Date, limit: Int) async throws -> [DueHold]
    /// True when the store holds no event of any seller.
    func isEmpty() async throws -> Bool
}

/// One seller's state as the snapshot rebuild reads it: its SKUs (already split into the snapshot's shards), the SKUs kept
/// out (quarantined, with the reason), its locations and channels, and its last event.
public struct LoadedSellerState: Sendable {
    public let seller: String
    var shards: [SKUTable]
    /// SKUs whose stored rows could not be read or lie outside `Limits`, with the reason.
    public internal(set) var quarantined: [String: String]
    public var catalog: SellerCatalog
    public var lastSequence: Int64
    public var lastRecordedAt: Date?

    init(seller: String, shards: [SKUTable], quarantined: [String: String], catalog: SellerCatalog, lastSequence: Int64, lastRecordedAt: Date?) {
        self.seller = seller
        self.shards = shards
        self.quarantined = quarantined
        self.catalog = catalog
        self.lastSequence = lastSequence
        self.lastRecordedAt = lastRecordedAt
    }

    /// An empty state, sized for `capacity` SKUs.
    public init(seller: String, capacity: Int) {
        self.init(seller: seller, shards: (0..<SellerSnapshot.shardCount).map { _ in SKUTable(capacity: capacity / SellerSnapshot.shardCount + 16) },
                  quarantined: [:], catalog: SellerCatalog(), lastSequence: 0, lastRecordedAt: nil)
    }

    /// Number of SKUs loaded.
    public var count: Int { shards.reduce(0) { $0 + $1.count } }

    /// The loaded state of `sku`, if any; setting it stores or removes it.
    public subscript(sku: String) -> SKUState? {
        get { shards[SellerSnapshot.shardIndex(sku)][sku] }
        set { shards[SellerSnapshot.shardIndex(sku)][sku] = newValue }
    }

    /// Keeps `sku` out of the snapshot with `reason` (the first reason given stands) and drops what was loaded of it.
    public mutating func quarantine(_ sku: String, reason: String) {
        if quarantined[sku] == nil { quarantined[sku] = reason }
        self[sku] = nil
    }
}

/// Where the snapshot is rebuilt from: the current-state rows (SKUs, stock, listings, holds, locations, channels) and each
/// seller's last event. Stored rows are checked as they are read: a row that cannot be read or lies outside `Limits`
/// quarantines its SKU, never stops the rebuild.
public protocol SnapshotStateStore: Sendable {
    /// Every seller's state (only those in `sellers`, when given), read from one consistent view: `progress` learns the SKU
    /// total, then advances as SKUs are read; the read ends with `RebuildStopped` soon after `progress.stop()`.
    func loadState(progress: RebuildProgress, sellers: Set<String>?) async throws -> [LoadedSellerState]
    /// How many SKUs each seller has in the state rows (a seller without SKUs may be absent).
    func skuCounts() async throws -> [String: Int]
}

extension SnapshotStateStore {
    /// Every seller's state.
    public func loadState(progress: RebuildProgress) async throws -> [LoadedSellerState] {
        try await loadState(progress: progress, sellers: nil)
    }
}
