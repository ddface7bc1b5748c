import Foundation
import ShelfCore

extension Ledger {
    /// Events of `seller` in sequence order after `after`, optionally for one SKU and up to an instant.
    public func events(seller: String, sku: String? = nil, after: Int64 = 0, until: Date? = nil, limit: Int = 1000) async throws -> [LedgerEvent] {
        try await stores.history.events(seller: seller, sku: sku, after: after, until: until, limit: limit)
    }

    /// `events(seller:after:limit:)` of the whole seller (kept for the watch delivery's catch-up reads).
    public func readEvents(seller: String, after: Int64, limit: Int) async throws -> [LedgerEvent] {
        try await stores.history.events(seller: seller, sku: nil, after: after, until: nil, limit: limit)
    }

    /// Pages through the events `events(seller:sku:after:until:limit:)` selects, in sequence order.
    private func forEachEvent(seller: String, sku: String?, until: Date?, _ body: (LedgerEvent) throws -> Void) async throws {
        var after: Int64 = 0
        while true {
            let page = try await stores.history.events(seller: seller, sku: sku, after: after, until: until, limit: 5000)
            for e in page { try body(e) }
            guard page.count == 5000, let last = page.last else { return }
            after = last.sequence
        }
    }

    /// The SKU as it was at `instant`, by replaying its events from the start of the ledger. Nil if it did not exist yet.
    public func replay(seller: String, sku: String, at instant: Date) async throws -> SKUState? {
        var state: SKUState?
        try await forEachEvent(seller: seller, sku: sku, until: instant) { e in
            Inventory.apply(e.event, to: &state, sequence: e.sequence, recordedAt: e.recordedAt)
        }
        return state
    }

    /// Every SKU and the catalog of `seller`, rebuilt by replaying the whole ledger (for verification and audits).
    public func replayAll(seller: String) async throws -> (states: [String: SKUState], catalog: SellerCatalog) {
        var states: [String: SKUState] = [:]
        var catalog = SellerCatalog()
        try await forEachEvent(seller: seller, sku: nil, until: nil) { e in
            if catalog.apply(e.event) { return }
            guard let sku = e.event.sku else { return }
            var state = states[sku]
            Inventory.apply(e.event, to: &state, sequence: e.sequence, recordedAt: e.recordedAt)
            states[sku] = state
        }
        return (states, catalog)
    }

    /// The last sequence recorded strictly before `instant` (0 if none).
    public func sequence(seller: String, before instant: Date) async throws -> Int64 {
        try await stores.history.sequence(seller: seller, before: instant)
    }

    /// Events of `types` recorded in `(from, through]`, newest first, for one SKU or the whole seller (rules' windowed counts).
    public func events(
        seller: String, sku: String?, types: Set<EventType>, recordedAfter from: Date, through to: Date, limit: Int = 100_000
    ) async throws -> [LedgerEvent] {
        guard !types.isEmpty else { return [] }
        let start = try await sequence(seller: seller, before: from)
        return try await stores.history.newest(NewestEventsQuery(
            seller: seller, sku: sku, types: types, afterSequence: start, recordedAfter: from, recordedThrough: to, limit: limit
        ))
    }

    /// Events of `types` of one SKU before `sequence`, newest first (what a price or a safety stock was before a change).
    public func events(seller: String, sku: String, types: Set<EventType>, before sequence: Int64, limit: Int) async throws -> [LedgerEvent] {
        try await stores.history.newest(NewestEventsQuery(seller: seller, sku: sku, types: types, beforeSequence: sequence, limit: limit))
    }

    /// The order confirmations and SKU upserts recorded in `(from, through]` — the newest `limit` of them — handed to `body`
    /// oldest first, one at a time: what sales velocity is rebuilt from at start-up (see `LedgerHistoryStore.salesEvents`).
    public func forEachSalesEvent(
        seller: String, recordedAfter from: Date, through to: Date, limit: Int = 100_000,
        _ body: @escaping @Sendable (LedgerEvent) throws -> Void
    ) async throws {
        let start = try await sequence(seller: seller, before: from)
        try await stores.history.salesEvents(seller: seller, afterSequence: start, recordedAfter: from, through: to, limit: limit, body)
    }
}
