import Foundation
import ShelfCore
import Testing

/// Orders and holds without a location are allocated across locations in routing order (most available first); an
/// explicit location is kept and checked there alone; cancellations give back where the order took from.
@Suite("Allocation across locations")
struct AllocationTests {
    static let now = Date(timeIntervalSince1970: 1_795_400_000)
    static let catalog = SellerCatalog(locations: [
        Location(id: "a", name: "A", timeZone: "UTC", priority: 0),
        Location(id: "b", name: "B", timeZone: "UTC", priority: 1),
        Location(id: "c", name: "C", timeZone: "UTC", priority: 2),
    ])

    static func state(_ onHand: [String: Int], safety: [String: Int] = [:]) -> SKUState? {
        SKUState(
            item: CatalogItem(sku: "S", productId: "P", title: "S", price: Money(amount: 100, currency: "USD")),
            stock: onHand.keys.sorted().map { LocationStock(location: $0, level: StockLevel(onHand: onHand[$0]!, safetyStock: safety[$0] ?? 0)) }
        )
    }

    /// Decides `draft` and applies its events; returns the decision.
    @discardableResult
    static func record(_ draft: ShelfEvent, _ state: inout SKUState?, history: [ShelfEvent] = []) throws -> Decision {
        let decision = try Inventory.decide(draft, state: state, catalog: catalog, now: now, orderHistory: history, newId: { "hold-1" }).get()
        for event in decision.events { Inventory.apply(event, to: &state, sequence: 1, recordedAt: now) }
        return decision
    }

    static func order(_ qty: Int, location: String? = nil, orderId: String = "o-1") -> ShelfEvent {
        ShelfEvent(type: .orderConfirmed, sku: "S", location: location, channel: "amazon", qty: qty, orderId: orderId, occurredAt: now)
    }

    static func hold(_ qty: Int, location: String? = nil) -> ShelfEvent {
        ShelfEvent(type: .reservationCreated, sku: "S", location: location, qty: qty,
                   reservation: Reservation(id: "", sku: "S", location: location ?? "", qty: qty, expiresAt: now.addingTimeInterval(600)),
                   occurredAt: now)
    }

    @Test("the reported bug: 60 + 163 units, a channel order for 228 oversells 5 in total and leaves 0 everywhere")
    func channelOrderFillsTheBestLocationThenTheNext() throws {
        var state = Self.state(["a": 60, "b": 163])
        let decision = try Self.record(Self.order(228), &state)
        #expect(decision.oversold == 5)
        let confirmed = try #require(decision.events.first)
        #expect(confirmed.type == .orderConfirmed)
        #expect(confirmed.qty == 228)
        #expect(confirmed.allocation == [Allocation(location: "b", qty: 168), Allocation(location: "a", qty: 60)])
        #expect(decision.events.filter { $0.type == .inventoryOversold }.map(\.qty) == [5])
        #expect(state?.available(at: "a", now: Self.now) == 0)
        #expect(state?.available(at: "b", now: Self.now) == 0)
        #expect(state?.totalLevel(now: Self.now).oversold == 5)
        #expect(state?.totalLevel(now: Self.now).committed == 228)
    }

    @Test("split across three locations in routing order", arguments: [
        (33, [Allocation(location: "b", qty: 20), Allocation(location: "a", qty: 10), Allocation(location: "c", qty: 3)]),
        (25, [Allocation(location: "b", qty: 20), Allocation(location: "a", qty: 5)]),
        (20, nil),
    ])
    func threeLocations(_ qty: Int, _ expected: [Allocation]?) throws {
        var state = Self.state(["a": 10, "b": 20, "c": 5])
        let decision = try Self.record(Self.order(qty), &state)
        #expect(decision.oversold == 0)
        #expect(decision.events.map(\.type) == [.orderConfirmed])
        #expect(decision.events[0].allocation == expected)
        #expect(decision.events[0].location == "b")
        #expect(state?.available(now: Self.now) == 35 - qty)
    }

    @Test("exact fit leaves 0 everywhere and oversells nothing")
    func exactFit() throws {
        var state = Self.state(["a": 10, "b": 20], safety: ["a": 2])
        let decision = try Self.record(Self.order(28), &state)
        #expect(decision.oversold == 0)
        #expect(!decision.events.contains { $0.type == .inventoryOversold })
        #expect(state?.available(at: "a", now: Self.now) == 0)
        #expect(state?.available(at: "b", now: Self.now) == 0)
        #expect(state?.totalLevel(now: Self.now).oversold == 0)
    }

    @Test("one unit over oversells 1 in total and leaves 0 everywhere")
    func oneUnitOver() throws {
        var state = Self.state(["a": 10, "b": 20])
        let decision = try Self.record(Self.order(31), &state)
        #expect(decision.oversold == 1)
        #expect(state?.available(at: "a", now: Self.now) == 0)
        #expect(state?.available(at: "b", now: Self.now) == 0)
        #expect(state?.totalLevel(now: Self.now).oversold == 1)
        #expect(state?.stock.map(\.level.oversold) == [0, 1])
    }

    @Test("an order naming its location stays there, oversold there, even when another location has the units")
    func explicitLocationOrderStays() throws {
        var state = Self.state(["a": 10, "b": 20])
        let decision = try Self.record(Self.order(15, location: "a"), &state)
        #expect(decision.oversold == 5)
        #expect(decision.events[0].allocation == nil)
        #expect(state?.level(at: "a", now: Self.now).committed == 15)
        #expect(state?.level(at: "b", now: Self.now).committed == 0)
        #expect(state?.available(at: "b", now: Self.now) == 20)
    }

    @Test("cancelling a split order gives each location back what it took, oversold included")
    func cancellationRestoresEachLocation() throws {
        let original = Self.state(["a": 10, "b": 20, "c": 5])
        var state = original
        let order = try Self.record(Self.order(40), &state)
        #expect(order.oversold == 5)
        let cancel = ShelfEvent(type: .orderCancelled, sku: "S", qty: 40, orderId: "o-1", occurredAt: Self.now)
        let decision = try Self.record(cancel, &state, history: [order.events[0]])
        #expect(decision.events[0].allocation == order.events[0].allocation)
        #expect(state?.stock == original?.stock)
    }

    @Test("a partial cancellation gives back in allocation order, then the rest of the order")
    func partialCancellations() throws {
        var state = Self.state(["a": 10, "b": 20])
        let order = try Self.record(Self.order(30), &state)
        let first = try Self.record(ShelfEvent(type: .orderCancelled, sku: "S", qty: 25, orderId: "o-1", occurredAt: Self.now), &state,
                                    history: [order.events[0]])
        #expect(first.events[0].allocation == [Allocation(location: "b", qty: 20), Allocation(location: "a", qty: 5)])
        let second = try Self.record(ShelfEvent(type: .orderCancelled, sku: "S", qty: 5, orderId: "o-1", occurredAt: Self.now), &state,
                                     history: [order.events[0], first.events[0]])
        #expect(second.events[0].location == "a")
        #expect(second.events[0].allocation == nil)
        #expect(state?.totalLevel(now: Self.now).committed == 0)
    }

    @Test("a return of a split order goes back to the locations it came from")
    func returnGoesBackToEachLocation() throws {
        var state = Self.state(["a": 10, "b": 20])
        let order = try Self.record(Self.order(30), &state)
        let fulfilled = try Self.record(ShelfEvent(type: .orderFulfilled, sku: "S", qty: 30, orderId: "o-1", occurredAt: Self.now), &state,
                                        history: [order.events[0]])
        #expect(state?.level(at: "a", now: Self.now).onHand == 0)
        #expect(state?.level(at: "b", now: Self.now).onHand == 0)
        try Self.record(ShelfEvent(type: .returnReceived, sku: "S", qty: 30, orderId: "o-1", occurredAt: Self.now), &state,
                        history: [order.events[0], fulfilled.events[0]])
        #expect(state?.level(at: "a", now: Self.now).onHand == 10)
        #expect(state?.level(at: "b", now: Self.now).onHand == 20)
    }

    @Test("a hold larger than any one location but within the total is split, and its commit commits each part")
    func splitHoldAndCommit() throws {
        var state = Self.state(["a": 10, "b": 20])
        let decision = try Self.record(Self.hold(25), &state)
        let hold = try #require(decision.reservation)
        #expect(hold.qty == 25)
        #expect(hold.allocation == [Allocation(location: "b", qty: 20), Allocation(location: "a", qty: 5)])
        #expect(state?.level(at: "b", now: Self.now).reserved == 20)
        #expect(state?.level(at: "a", now: Self.now).reserved == 5)
        #expect(state?.available(now: Self.now) == 5)
        let commit = ShelfEvent(type: .reservationCommitted, sku: "S", reservation: hold, occurredAt: Self.now)
        let committed = try Self.record(commit, &state)
        #expect(committed.events[0].allocation == hold.allocation)
        #expect(state?.level(at: "b", now: Self.now).committed == 20)
        #expect(state?.level(at: "a", now: Self.now).committed == 5)
        #expect(state?.totalLevel(now: Self.now).reserved == 0)
        #expect(state?.available(now: Self.now) == 5)
    }

    @Test("an expired split hold stops counting at every location at once")
    func expiredSplitHold() throws {
        var state = Self.state(["a": 10, "b": 20])
        try Self.record(Self.hold(25), &state)
        let later = Self.now.addingTimeInterval(601)
        #expect(state?.available(at: "a", now: later) == 10)
        #expect(state?.available(at: "b", now: later) == 20)
    }

    @Test("a hold beyond the total is refused and changes nothing")
    func holdBeyondTotalIsRefused() throws {
        let state = Self.state(["a": 10, "b": 20])
        let result = Inventory.decide(Self.hold(31), state: state, catalog: Self.catalog, now: Self.now, newId: { "h" })
        #expect(result == .failure(.insufficientStock(sku: "S", available: 30, requested: 31)))
    }

    @Test("a hold naming a location is checked there alone")
    func explicitLocationHold() throws {
        let state = Self.state(["a": 10, "b": 20])
        let refused = Inventory.decide(Self.hold(15, location: "a"), state: state, catalog: Self.catalog, now: Self.now, newId: { "h" })
        #expect(refused == .failure(.insufficientStock(sku: "S", available: 10, requested: 15)))
        var granted = state
        let decision = try Self.record(Self.hold(10, location: "a"), &granted)
        #expect(decision.reservation?.location == "a")
        #expect(decision.reservation?.allocation == nil)
        #expect(granted?.available(at: "a", now: Self.now) == 0)
        #expect(granted?.available(at: "b", now: Self.now) == 20)
    }
}
