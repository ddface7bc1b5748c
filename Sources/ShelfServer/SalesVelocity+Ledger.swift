import Foundation
import ShelfCore
import ShelfLedger

extension SalesVelocity {
    /// Feeds one committed event: an `order.confirmed` is a sale (orders that name no channel count under `direct`), a
    /// `sku.upserted` starts the exposure of a SKU not known yet.
    func apply(_ e: LedgerEvent) {
        guard let sku = e.event.sku else { return }
        switch e.event.type {
        case .orderConfirmed:
            record(seller: e.seller, sku: sku, channel: e.event.channel ?? "direct", qty: e.event.qty ?? 0,
                   occurredAt: e.event.occurredAt, recordedAt: e.recordedAt)
        case .skuUpserted:
            known(seller: e.seller, sku: sku, since: e.recordedAt)
        default:
            break
        }
    }

    /// Rebuilds rates and reporting delays from the ledger at start-up: every seller's orders and SKU upserts recorded in the
    /// last `retention` seconds, oldest first; each seller's exposure starts at the later of that horizon and its first event.
    func rebuild(from ledger: Ledger, now: Date) async throws {
        let from = now.addingTimeInterval(-retention)
        for seller in try await ledger.sellerIDs() {
            let first = try await ledger.events(seller: seller, limit: 1).first?.recordedAt ?? now
            start(seller: seller, at: min(now, max(from, first)))
            try await ledger.forEachSalesEvent(seller: seller, recordedAfter: from, through: now) { [self] in apply($0) }
        }
    }
}
