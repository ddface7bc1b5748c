import Foundation

/// Why a draft event was not turned into facts. Nothing is recorded for a refusal.
public enum InventoryRefusal: Error, Hashable, Sendable {
    case unknownSKU(String)
    case unknownLocation(String)
    case unknownReservation(String)
    case reservationExpired(String)
    case insufficientStock(sku: String, available: Int, requested: Int)
    case invalid(field: String, reason: String)
    /// A number outside `Limits`, or a change that would take a stored figure past its bound.
    case outOfRange(field: String, reason: String)
}

/// What a draft became: the facts to record, plus what the caller is told.
public struct Decision: Hashable, Sendable {
    public var events: [ShelfEvent]
    /// Units this order sold beyond what was available (0 unless a channel fact oversold).
    public var oversold: Int
    /// The hold created, for `reservation.created`.
    public var reservation: Reservation?

    public init(events: [ShelfEvent], oversold: Int = 0, reservation: Reservation? = nil) {
        self.events = events
        self.oversold = oversold
        self.reservation = reservation
    }
}

/// The seller-wide catalog that SKU-level decisions need: locations, channels and the seller's business calendar.
public struct SellerCatalog: Codable, Hashable, Sendable {
    public var locations: [Location]
    public var channels: [Channel]
    /// Seller-wide holidays: no location hands over or ships on these days (added to each location's own).
    public var holidays: [CivilDate]

    public init(locations: [Location] = [], channels: [Channel] = [], holidays: [CivilDate] = []) {
        self.locations = locations
        self.channels = channels
        self.holidays = holidays
    }

    public func location(_ id: String) -> Location? { locations.first { $0.id == id } }

    /// Applies a seller-level event (location or channel upsert). Returns false for SKU-level events.
    @discardableResult
    public mutating func apply(_ event: ShelfEvent) -> Bool {
        switch event.type {
        case .locationUpserted:
            guard let info = event.locationInfo else { return true }
            locations.removeAll { $0.id == info.id }
            locations.append(info)
            locations.sort { ($0.priority, $0.id) < ($1.priority, $1.id) }
            return true
        case .channelUpserted:
            guard let info = event.channelInfo else { return true }
            channels.removeAll { $0.id == info.id }
            channels.append(info)
            channels.sort { $0.id < $1.id }
            return true
        default:
            return false
        }
    }
}

/// The pure rules of inventory: deciding what a draft becomes, and applying recorded facts to state. No I/O.
public enum Inventory {
    /// Turns a draft into the facts to record, or refuses it. Channel orders are facts (never refused for stock,
    /// the shortfall is recorded as oversold); holds and their commits are promises (refused when the stock is not there).
    /// Without an explicit location, orders and holds are allocated across locations in routing order. `orderHistory` holds the
    /// earlier recorded events of the draft's order on this SKU (same `orderId`, in sequence order), so a cancellation,
    /// fulfilment or return gives back to the locations the order took from.
    public static func decide(
        _ draft: ShelfEvent, state: SKUState?, catalog: SellerCatalog, now: Date, orderHistory: [ShelfEvent] = [], newId: () -> String
    ) -> Result<Decision, InventoryRefusal> {
        if let qty = draft.qty, draft.type != .stockAdjusted, qty < 0 {
            return .failure(.invalid(field: "qty", reason: "must not be negative"))
        }
        if let refusal = outOfBounds(draft) { return .failure(refusal) }
        let decided = decideWithinBounds(draft, state: state, catalog: catalog, now: now, orderHistory: orderHistory, newId: newId)
        // Facts are never refused for stock, but no fact may take a stored figure past its bound: checked before anything is
        // recorded, so the arithmetic on stored values can never overflow.
        if case .success(let decision) = decided, state != nil {
            var checked = state
            for event in decision.events {
                if let figure = Inventory.applyChecked(event, to: &checked, sequence: 0, recordedAt: now) {
                    return .failure(.outOfRange(field: figure, reason: "would exceed \(Limits.maxStockFigure) units; the change was not recorded"))
                }
            }
        }
        return decided
    }

    /// The first input that lies outside `Limits`, as a refusal naming its field.
    static func outOfBounds(_ draft: ShelfEvent) -> InventoryRefusal? {
        func quantity(_ range: ClosedRange<Int>) -> InventoryRefusal? {
            guard let qty = draft.qty, !range.contains(qty) else { return nil }
            return .outOfRange(field: "qty", reason: "must be from \(range.lowerBound) to \(range.upperBound)")
        }
        if draft.type == .stockAdjusted {
            if let qty = draft.qty, qty.magnitude > UInt(Limits.maxQuantity) {
                return .outOfRange(field: "qty", reason: "must be from -\(Limits.maxQuantity) to \(Limits.maxQuantity)")
            }
        } else if let refusal = quantity(Limits.count) {
            return refusal
        }
        for (field, money) in [("price", draft.price), ("item.price", draft.item?.price), ("item.compareAtPrice", draft.item?.compareAtPrice),
                               ("item.sale.price", draft.item?.sale?.price), ("listing.price", draft.listing?.price)] {
            if let money, !Limits.price.contains(money.amount) {
                return .outOfRange(field: field + ".amount", reason: "must be from 0 to \(Limits.maxPriceMinorUnits) minor units")
            }
        }
        for (i, given) in (draft.levels ?? []).enumerated() {
            for (name, v) in [("onHand", given.level.onHand), ("unavailable", given.level.unavailable), ("safetyStock", given.level.safetyStock),
                              ("incoming", given.level.incoming)] where !Limits.count.contains(v) {
                return .outOfRange(field: "levels[\(i)].\(name)", reason: "must be from 0 to \(Limits.maxQuantity)")
            }
        }
        for (i, listing) in ((draft.listings ?? []) + (draft.listing.map { [$0] } ?? [])).enumerated() {
            if !(0...Limits.maxBuffer).contains(listing.buffer) {
                return .outOfRange(field: "listings[\(i)].buffer", reason: "must be from 0 to \(Limits.maxBuffer)")
            }
            if let price = listing.price, !Limits.price.contains(price.amount) {
                return .outOfRange(field: "listings[\(i)].price.amount", reason: "must be from 0 to \(Limits.maxPriceMinorUnits) minor units")
            }
        }
        if let multiplier = draft.spikeMultiplier, !(1...Limits.maxSpikeMultiplier).contains(multiplier) {
            return .outOfRange(field: "spikeMultiplier", reason: "must be from 1 to \(Limits.maxSpikeMultiplier)")
        }
        if let hold = draft.reservation, !Limits.count.contains(hold.qty) {
            return .outOfRange(field: "reservation.qty", reason: "must be from 0 to \(Limits.maxQuantity)")
        }
        return nil
    }

    static func decideWithinBounds(
        _ draft: ShelfEvent, state: SKUState?, catalog: SellerCatalog, now: Date, orderHistory: [ShelfEvent] = [], newId: () -> String
    ) -> Result<Decision, InventoryRefusal> {
        switch draft.type {
        case .locationUpserted:
            guard let info = draft.locationInfo else { return .failure(.invalid(field: "location", reason: "required")) }
            for (field, text) in [("name", info.name)] + info.aliases.enumerated().map({ ("aliases[\($0)]", $1) }) {
                if let reason = TextPolicy.problem(text) { return .failure(.invalid(field: field, reason: reason)) }
            }
            return .success(Decision(events: [draft]))
        case .channelUpserted:
            guard let info = draft.channelInfo else { return .failure(.invalid(field: "channel", reason: "required")) }
            for (field, text) in [("name", info.name)] + info.aliases.enumerated().map({ ("aliases[\($0)]", $1) }) {
                if let reason = TextPolicy.problem(text) { return .failure(.invalid(field: field, reason: reason)) }
            }
            return .success(Decision(events: [draft]))
        case .skuUpserted:
            guard let item = draft.item else { return .failure(.invalid(field: "item", reason: "required")) }
            if let problem = item.textProblem { return .failure(.invalid(field: problem.field, reason: problem.reason)) }
            var event = draft
            event.sku = item.sku
            return .success(Decision(events: [event]))
        case .ruleActed where draft.sku == nil, .syncFailed where draft.sku == nil, .inputRejected:
            // Seller-level facts (a rule that reconciled every channel, a push that named no SKU) belong to no SKU.
            return .success(Decision(events: [draft]))
        default:
            break
        }
        guard let sku = draft.sku else { return .failure(.invalid(field: "sku", reason: "required")) }
        guard let state, state.item.active || draft.type == .skuDeleted else { return .failure(.unknownSKU(sku)) }
        if let location = draft.location, catalog.location(location) == nil {
            return .failure(.unknownLocation(location))
        }
        var event = draft
        switch draft.type {
        case .orderConfirmed:
            guard let qty = draft.qty, qty > 0 else { return .failure(.invalid(field: "qty", reason: "must be at least 1")) }
            // An order naming its location stays there; otherwise it is allocated across locations in routing order and
            // any shortfall (units no location has) is committed at the first, best location.
            var parts: [Allocation]
            var shortfall: Int
            if let chosen = draft.location {
                parts = [Allocation(location: chosen, qty: qty)]
                shortfall = max(0, qty - state.available(at: chosen, now: now))
            } else {
                (parts, shortfall) = allocate(qty, state: state, catalog: catalog, now: now)
                if parts.isEmpty {
                    guard let fallback = route(state, catalog: catalog, now: now) else {
                        return .failure(.invalid(field: "location", reason: "the seller has no location to fulfil from"))
                    }
                    parts = [Allocation(location: fallback, qty: 0)]
                }
                parts[0].qty += shortfall  // the parts and the shortfall sum to qty (≤ Limits.maxQuantity): cannot overflow
            }
            let location = parts[0].location
            event.location = location
            event.qty = qty
            event.allocation = parts.count > 1 ? parts : nil
            var events = [event]
            if shortfall > 0 {
                events.append(
                    ShelfEvent(
                        type: .inventoryOversold, sku: sku, location: location, channel: draft.channel, qty: shortfall,
                        orderId: draft.orderId, ruleId: draft.ruleId, occurredAt: draft.occurredAt
                    )
                )
            }
            return .success(Decision(events: events, oversold: shortfall))
        case .orderCancelled, .orderFulfilled:
            guard let qty = draft.qty, qty > 0 else { return .failure(.invalid(field: "qty", reason: "must be at least 1")) }
            if event.location == nil, let parts = giveBack(qty, of: draft.type, orderHistory: orderHistory) {
                event.location = parts[0].location
                event.allocation = parts.count > 1 ? parts : nil
            }
            if event.location == nil {
                event.location =
                    state.stock.max { $0.level.committed < $1.level.committed }?.location
                    ?? catalog.locations.first?.id
            }
            guard event.location != nil else { return .failure(.invalid(field: "location", reason: "the seller has no location")) }
            return .success(Decision(events: [event]))
        case .returnReceived, .stockReceived, .stockAdjusted, .stockSet, .safetyStockSet:
            guard let qty = draft.qty else { return .failure(.invalid(field: "qty", reason: "required")) }
            if draft.type == .returnReceived, event.location == nil, let parts = giveBack(qty, of: draft.type, orderHistory: orderHistory) {
                event.location = parts[0].location
                event.allocation = parts.count > 1 ? parts : nil
            }
            if event.location == nil { event.location = state.stock.first?.location ?? catalog.locations.first?.id }
            guard event.location != nil else { return .failure(.invalid(field: "location", reason: "required")) }
            return .success(Decision(events: [event]))
        case .priceChanged:
            guard let price = draft.price else { return .failure(.invalid(field: "price", reason: "required")) }
            guard price.amount >= 0 else { return .failure(.invalid(field: "price.amount", reason: "must not be negative")) }
            guard Money.isCurrencyCode(price.currency) else {
                return .failure(.invalid(field: "price.currency", reason: "must be an ISO 4217 code"))
            }
            return .success(Decision(events: [event]))
        case .listingUpserted:
            guard let listing = draft.listing else { return .failure(.invalid(field: "listing", reason: "required")) }
            guard listing.buffer >= 0 else { return .failure(.invalid(field: "listing.buffer", reason: "must not be negative")) }
            event.channel = listing.channel
            return .success(Decision(events: [event]))
        case .listingPaused, .listingResumed:
            guard draft.channel != nil else { return .failure(.invalid(field: "channel", reason: "required")) }
            return .success(Decision(events: [event]))
        case .reservationCreated:
            return decideHold(draft, state: state, catalog: catalog, now: now, newId: newId)
        case .reservationReleased, .reservationExpired, .reservationCommitted:
            guard let id = draft.reservation?.id, let hold = state.holds.first(where: { $0.id == id }) else {
                return .failure(.unknownReservation(draft.reservation?.id ?? ""))
            }
            if draft.type == .reservationCommitted, !hold.isActive(at: now) { return .failure(.reservationExpired(id)) }
            event.reservation = hold
            event.location = hold.location
            event.qty = hold.qty
            event.allocation = hold.allocation
            return .success(Decision(events: [event], reservation: hold))
        case .demandSpikeStarted, .demandSpikeEnded, .skuDeleted, .inventoryOversold, .inventoryVarianceDetected, .ruleActed, .syncFailed,
             .inputRejected:
            return .success(Decision(events: [event]))
        case .orderRerouted:
            return decideReroute(draft, state: state, now: now)
        case .locationUpserted, .channelUpserted, .skuUpserted:
            return .success(Decision(events: [event]))
        }
    }

    /// Moving an order's units is a promise at the destination: refused unless it has them available.
    static func decideReroute(_ draft: ShelfEvent, state: SKUState, now: Date) -> Result<Decision, InventoryRefusal> {
        guard let qty = draft.qty, qty > 0 else { return .failure(.invalid(field: "qty", reason: "must be at least 1")) }
        guard let from = draft.fromLocation else { return .failure(.invalid(field: "fromLocation", reason: "required")) }
        guard let to = draft.location else { return .failure(.invalid(field: "location", reason: "required")) }
        guard from != to else { return .failure(.invalid(field: "location", reason: "the order is already at \(to)")) }
        guard state.level(at: from, now: now).committed >= qty else {
            return .failure(.invalid(field: "qty", reason: "\(from) has fewer than \(qty) committed units"))
        }
        let available = state.available(at: to, now: now)
        guard available >= qty else { return .failure(.insufficientStock(sku: state.sku, available: available, requested: qty)) }
        return .success(Decision(events: [draft]))
    }

    static func decideHold(
        _ draft: ShelfEvent, state: SKUState, catalog: SellerCatalog, now: Date, newId: () -> String
    ) -> Result<Decision, InventoryRefusal> {
        guard let qty = draft.qty, qty > 0 else { return .failure(.invalid(field: "qty", reason: "must be at least 1")) }
        guard let expiresAt = draft.reservation?.expiresAt else {
            return .failure(.invalid(field: "ttlSeconds", reason: "required"))
        }
        // Holds that have expired are recorded as expired first, so the stored `reserved` equals active holds.
        var events: [ShelfEvent] = state.holds.filter { !$0.isActive(at: now) }.map {
            ShelfEvent(type: .reservationExpired, sku: state.sku, location: $0.location, qty: $0.qty, reservation: $0, occurredAt: now)
        }
        // A hold naming its location is checked there alone; otherwise it is allocated across locations in routing order and
        // refused unless they have all of it together.
        let parts: [Allocation]
        if let chosen = draft.location {
            let available = state.available(at: chosen, now: now)
            guard available >= qty else {
                return .failure(.insufficientStock(sku: state.sku, available: available, requested: qty))
            }
            parts = [Allocation(location: chosen, qty: qty)]
        } else {
            let (split, shortfall) = allocate(qty, state: state, catalog: catalog, now: now)
            guard shortfall == 0, !split.isEmpty else {
                return .failure(.insufficientStock(sku: state.sku, available: state.available(now: now), requested: qty))
            }
            parts = split
        }
        let givenId = draft.reservation?.id ?? ""
        let hold = Reservation(id: givenId.isEmpty ? newId() : givenId, sku: state.sku, location: parts[0].location, qty: qty,
                               expiresAt: expiresAt, allocation: parts.count > 1 ? parts : nil)
        var event = draft
        event.location = hold.location
        event.allocation = hold.allocation
        event.reservation = hold
        events.append(event)
        return .success(Decision(events: events, reservation: hold))
    }

    /// Picks the location an order ships from: the one with most available (ties: priority, then id).
    public static func route(_ state: SKUState, catalog: SellerCatalog, now: Date, atLeast: Int = 0) -> String? {
        if let best = routingOrder(state, catalog: catalog, now: now).first(where: { $0.qty >= atLeast }) { return best.location }
        return atLeast > 0 ? nil : (state.stock.first?.location ?? catalog.locations.first?.id)
    }

    /// Every stocked location with its available units, best first: most available, ties by priority, then id.
    public static func routingOrder(_ state: SKUState, catalog: SellerCatalog, now: Date) -> [Allocation] {
        state.stock
            .map { (available: state.available(at: $0.location, now: now), priority: catalog.location($0.location)?.priority ?? Int.max, id: $0.location) }
            .sorted { ($1.available, $0.priority, $0.id) < ($0.available, $1.priority, $1.id) }
            .map { Allocation(location: $0.id, qty: $0.available) }
    }

    /// Splits `qty` across locations in routing order: fills the best location, then the next. Returns the units taken per
    /// location (only locations that give some) and the shortfall no location has.
    public static func allocate(_ qty: Int, state: SKUState, catalog: SellerCatalog, now: Date) -> (parts: [Allocation], shortfall: Int) {
        var remaining = max(0, qty)
        var parts: [Allocation] = []
        for candidate in routingOrder(state, catalog: catalog, now: now) where remaining > 0 && candidate.qty > 0 {
            let taken = min(remaining, candidate.qty)
            parts.append(Allocation(location: candidate.location, qty: taken))
            remaining -= taken
        }
        return (parts, remaining)
    }

    /// Where a cancellation or fulfilment (or a return) of `qty` units of an order gives its units back: the locations the
    /// order took them from, in the order it took them, as far as each still has units of the order open (confirmed less
    /// cancelled and fulfilled; for a return, confirmed less cancelled and returned). Units beyond what is open go to the
    /// order's first location. Nil when no confirmation of the order is recorded.
    static func giveBack(_ qty: Int, of type: EventType, orderHistory: [ShelfEvent]) -> [Allocation]? {
        var open: [Allocation] = []
        func change(_ location: String, _ units: Int, adding: Bool) {
            let index = open.firstIndex { $0.location == location } ?? {
                open.append(Allocation(location: location, qty: 0))
                return open.count - 1
            }()
            let current = open[index].qty
            open[index].qty = adding ? (Limits.stockSum(current, max(0, units)) ?? Limits.maxStockFigure) : max(0, current - max(0, units))
        }
        let consuming: Set<EventType> = type == .returnReceived ? [.orderCancelled, .returnReceived] : [.orderCancelled, .orderFulfilled]
        for event in orderHistory {
            if event.type == .orderConfirmed {
                for part in event.parts { change(part.location, part.qty, adding: true) }
            } else if consuming.contains(event.type) {
                for part in event.parts { change(part.location, part.qty, adding: false) }
            }
        }
        guard let first = open.first else { return nil }
        var remaining = max(0, qty)
        var parts: [Allocation] = []
        for candidate in open where remaining > 0 && candidate.qty > 0 {
            let taken = min(remaining, candidate.qty)
            parts.append(Allocation(location: candidate.location, qty: taken))
            remaining -= taken
        }
        if remaining > 0 {
            if let i = parts.firstIndex(where: { $0.location == first.location }) {
                parts[i].qty += remaining  // the parts and the remainder sum to qty: cannot overflow
            } else {
                parts.insert(Allocation(location: first.location, qty: remaining), at: 0)
            }
        }
        return parts
    }

    /// Applies one recorded fact to a SKU's state. Deterministic: the same events always give the same state. Never traps: a
    /// figure that would pass `Limits.maxStockFigure` stays at the bound (`decide` refuses such changes before they are recorded).
    public static func apply(_ event: ShelfEvent, to state: inout SKUState?, sequence: Int64, recordedAt: Date) {
        _ = applyChecked(event, to: &state, sequence: sequence, recordedAt: recordedAt)
    }

    /// `apply`, returning the name of the first figure that had to be held at its bound (nil when none did).
    static func applyChecked(_ event: ShelfEvent, to state: inout SKUState?, sequence: Int64, recordedAt: Date) -> String? {
        var exceeded: String?
        func add(_ a: Int, _ b: Int, _ figure: String) -> Int {
            if let sum = Limits.stockSum(max(0, a), max(0, b)) { return sum }
            if exceeded == nil { exceeded = figure }
            return Limits.maxStockFigure
        }
        if event.type == .skuUpserted, let item = event.item {
            var s = state ?? SKUState(item: item)
            s.item = item
            for given in event.levels ?? [] {
                s.withLevel(given.location) {
                    $0.onHand = max(0, given.level.onHand)
                    $0.unavailable = max(0, given.level.unavailable)
                    $0.safetyStock = max(0, given.level.safetyStock)
                    $0.incoming = max(0, given.level.incoming)
                }
            }
            for listing in event.listings ?? [] { s.upsertListing(listing) }
            state = s
            state!.lastSequence = sequence
            state!.updatedAt = recordedAt
            return nil
        }
        guard var s = state else { return nil }
        let qty = event.qty ?? 0
        let location = event.location ?? ""
        switch event.type {
        case .orderConfirmed:
            for part in event.parts { s.withLevel(part.location) { $0.committed = add($0.committed, part.qty, "committed") } }
        case .inventoryOversold:
            s.withLevel(location) { $0.oversold = add($0.oversold, qty, "oversold") }
        case .orderRerouted:
            s.withLevel(event.fromLocation ?? "") { $0.committed = max(0, $0.committed - qty) }
            s.withLevel(location) { $0.committed = add($0.committed, qty, "committed") }
        case .orderCancelled:
            for part in event.parts {
                s.withLevel(part.location) {
                    $0.committed = max(0, $0.committed - max(0, part.qty))
                    $0.oversold = max(0, $0.oversold - max(0, part.qty))
                }
            }
        case .orderFulfilled:
            for part in event.parts {
                s.withLevel(part.location) {
                    $0.onHand = max(0, $0.onHand - max(0, part.qty))
                    $0.committed = max(0, $0.committed - max(0, part.qty))
                }
            }
        case .returnReceived:
            for part in event.parts { s.withLevel(part.location) { $0.onHand = add($0.onHand, part.qty, "onHand") } }
        case .stockReceived:
            s.withLevel(location) {
                $0.onHand = add($0.onHand, qty, "onHand")
                $0.incoming = max(0, $0.incoming - qty)
            }
        case .stockAdjusted:
            s.withLevel(location) {
                $0.onHand = qty < 0 ? $0.onHand - Int(min(qty.magnitude, UInt(max(0, $0.onHand)))) : add($0.onHand, qty, "onHand")
            }
        case .stockSet:
            s.withLevel(location) { $0.onHand = min(max(0, qty), Limits.maxStockFigure) }
        case .safetyStockSet:
            s.withLevel(location) { $0.safetyStock = min(max(0, qty), Limits.maxQuantity) }
        case .priceChanged:
            if let price = event.price {
                if let channel = event.channel {
                    s.withListing(channel) { $0.price = price }
                } else {
                    s.item.price = price
                }
            }
        case .skuDeleted:
            s.item.active = false
        case .listingUpserted:
            if let listing = event.listing {
                s.upsertListing(listing)
            }
        case .listingPaused:
            s.withListing(event.channel ?? "") { $0.listed = false }
        case .listingResumed:
            s.withListing(event.channel ?? "") { $0.listed = true }
        case .reservationCreated:
            if let hold = event.reservation {
                s.holds.append(hold)
                s.holds.sort { $0.id < $1.id }
                for part in hold.parts { s.withLevel(part.location) { $0.reserved = add($0.reserved, part.qty, "reserved") } }
            }
        case .reservationReleased, .reservationExpired, .reservationCommitted:
            if let id = event.reservation?.id, let i = s.holds.firstIndex(where: { $0.id == id }) {
                let hold = s.holds.remove(at: i)
                for part in hold.parts {
                    s.withLevel(part.location) {
                        $0.reserved = max(0, $0.reserved - max(0, part.qty))
                        if event.type == .reservationCommitted { $0.committed = add($0.committed, part.qty, "committed") }
                    }
                }
            }
        case .demandSpikeStarted:
            s.spikeMultiplier = min(max(1, event.spikeMultiplier ?? 2), Limits.maxSpikeMultiplier)
        case .demandSpikeEnded:
            s.spikeMultiplier = 1
        case .syncFailed, .inputRejected:
            // A fact about a channel push: the SKU itself (and how fresh Shelf's own record of it is) did not change.
            return nil
        case .skuUpserted, .locationUpserted, .channelUpserted, .inventoryVarianceDetected, .ruleActed:
            break
        }
        s.lastSequence = sequence
        s.updatedAt = recordedAt
        state = s
        return exceeded
    }
}
