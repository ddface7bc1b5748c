import Foundation

/// Every kind of fact the ledger records.
public enum EventType: String, Codable, Sendable, CaseIterable {
    case orderConfirmed = "order.confirmed"
    case orderCancelled = "order.cancelled"
    case orderFulfilled = "order.fulfilled"
    case returnReceived = "return.received"
    case stockReceived = "stock.received"
    case stockAdjusted = "stock.adjusted"
    case stockSet = "stock.set"
    case safetyStockSet = "safety_stock.set"
    case priceChanged = "price.changed"
    case skuUpserted = "sku.upserted"
    case skuDeleted = "sku.deleted"
    case locationUpserted = "location.upserted"
    case channelUpserted = "channel.upserted"
    case listingUpserted = "listing.upserted"
    case listingPaused = "listing.paused"
    case listingResumed = "listing.resumed"
    case reservationCreated = "reservation.created"
    case reservationReleased = "reservation.released"
    case reservationExpired = "reservation.expired"
    case reservationCommitted = "reservation.committed"
    case inventoryOversold = "inventory.oversold"
    case demandSpikeStarted = "demand.spike_started"
    case demandSpikeEnded = "demand.spike_ended"
    case inventoryVarianceDetected = "inventory.variance_detected"
    /// A push to a channel connection was dead-lettered (retries exhausted or refused); `channel`, `note` say where and why.
    case syncFailed = "sync.failed"
    /// An order's committed units moved from `fromLocation` to `location` (a rule's `reroute_orders`).
    case orderRerouted = "order.rerouted"
    /// A rule acted without changing stock (a notification sent, a reorder requested); `note` says what.
    case ruleActed = "rule.acted"
    /// Input that reached Shelf but could not be applied (a webhook line or poll count outside `Limits`, an unknown item);
    /// recorded so the seller sees it in the audit trail. `note` says what and why; nothing else changes.
    case inputRejected = "input.rejected"

    /// The normalized event types integrations may post to `POST /v1/events`.
    public static let ingestible: [EventType] = [
        .orderConfirmed, .orderCancelled, .orderFulfilled, .returnReceived, .stockReceived, .stockAdjusted, .stockSet, .priceChanged,
    ]

    /// Types whose effect is conditional on stock being there: refused (409) rather than oversold.
    public var isPromise: Bool { self == .reservationCreated || self == .reservationCommitted }

    /// True for events that change what a channel should display (quantity, price or listing state).
    public var affectsChannels: Bool {
        switch self {
        case .locationUpserted, .channelUpserted, .inventoryVarianceDetected, .ruleActed, .syncFailed, .inputRejected: return false
        default: return true
        }
    }
}

/// One fact, as recorded in the ledger. Which optional fields matter depends on `type`.
public struct ShelfEvent: Codable, Hashable, Sendable {
    public var type: EventType
    public var sku: String?
    public var location: String?
    /// For `order.rerouted`: the location the order's units were committed at before.
    public var fromLocation: String?
    public var channel: String?
    public var qty: Int?
    public var price: Money?
    public var item: CatalogItem?
    public var locationInfo: Location?
    public var channelInfo: Channel?
    public var listing: Listing?
    public var reservation: Reservation?
    public var orderId: String?
    /// The rule that caused this event (provenance), if any.
    public var ruleId: String?
    public var spikeMultiplier: Int?
    /// For `sku.upserted` from an import: initial levels per location (onHand, unavailable, safety stock, incoming).
    public var levels: [LocationStock]?
    /// For `sku.upserted` from an import: listings per channel.
    public var listings: [Listing]?
    /// Free text for `rule.acted` (what the rule did).
    public var note: String?
    /// Units per location when the event spans several locations (an order allocated across locations in routing order, its
    /// cancellation, fulfilment or return, a split hold): `location` is then the first part's and `qty` the total. Nil when the
    /// event touches `location` alone.
    public var allocation: [Allocation]?
    public var occurredAt: Date

    /// The locations this event touches with their units: `allocation`, or `location` and `qty` alone.
    public var parts: [Allocation] {
        allocation ?? [Allocation(location: location ?? "", qty: qty ?? 0)]
    }

    public init(
        type: EventType, sku: String? = nil, location: String? = nil, channel: String? = nil, qty: Int? = nil, price: Money? = nil,
        item: CatalogItem? = nil, locationInfo: Location? = nil, channelInfo: Channel? = nil, listing: Listing? = nil,
        reservation: Reservation? = nil, orderId: String? = nil, ruleId: String? = nil, spikeMultiplier: Int? = nil, levels: [LocationStock]? = nil, listings: [Listing]? = nil,
        note: String? = nil, fromLocation: String? = nil, allocation: [Allocation]? = nil, occurredAt: Date
    ) {
        self.fromLocation = fromLocation
        self.allocation = allocation
        self.type = type
        self.sku = sku
        self.location = location
        self.channel = channel
        self.qty = qty
        self.price = price
        self.item = item
        self.locationInfo = locationInfo
        self.channelInfo = channelInfo
        self.listing = listing
        self.reservation = reservation
        self.orderId = orderId
        self.ruleId = ruleId
        self.spikeMultiplier = spikeMultiplier
        self.levels = levels
        self.listings = listings
        self.note = note
        self.occurredAt = occurredAt
    }
}

/// An event with its place in the ledger: seller, per-seller sequence, where it came from and when it was recorded.
public struct LedgerEvent: Codable, Hashable, Sendable {
    public var seller: String
    public var sequence: Int64
    /// `direct`, `webhook:<connection>`, `poll:<connection>`, `reservation`, `rule:<id>`, `system`, `import`.
    public var source: String
    /// The idempotency key or channel event id the event arrived with, if any.
    public var externalId: String?
    public var recordedAt: Date
    public var event: ShelfEvent

    public init(seller: String, sequence: Int64, source: String, externalId: String?, recordedAt: Date, event: ShelfEvent) {
        self.seller = seller
        self.sequence = sequence
        self.source = source
        self.externalId = externalId
        self.recordedAt = recordedAt
        self.event = event
    }
}
