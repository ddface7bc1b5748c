import Foundation
import PropertyBased
import ShelfCore
import Testing

/// Inventory decide/apply over the whole `Int` range: nothing traps, refused input changes nothing, and every stored figure
/// stays within `Limits` whatever sequence of events arrives.
@Suite struct InventoryPropertyTests {
    static let now = Date(timeIntervalSince1970: 1_790_000_000)
    static let catalog = SellerCatalog(locations: [
        Location(id: "a", name: "A", timeZone: "UTC", priority: 0), Location(id: "b", name: "B", timeZone: "UTC", priority: 1),
    ])
    static let types: [EventType] = [
        .orderConfirmed, .orderCancelled, .orderFulfilled, .returnReceived, .stockReceived, .stockAdjusted, .stockSet, .safetyStockSet,
        .reservationCreated, .demandSpikeStarted, .priceChanged, .inventoryVarianceDetected,
    ]

    /// Quantities that hit the edges often: the extremes of `Int`, the limits and their neighbours, and anything in between.
    static let quantities = Gen.oneOf(
        Gen.int(in: Int.min...Int.max),
        Gen<Int?>.element(of: [Int.min, Int.min + 1, -1, 0, 1, Limits.maxQuantity, Limits.maxQuantity + 1, Limits.maxStockFigure, Int.max - 1, Int.max])
            .map { $0 ?? 0 },
        Gen.int(in: -5...50)
    )

    static func state() -> SKUState {
        SKUState(
            item: CatalogItem(sku: "S", productId: "P", title: "S", price: Money(amount: 1999, currency: "USD")),
            stock: [LocationStock(location: "a", level: StockLevel(onHand: 40)), LocationStock(location: "b", level: StockLevel(onHand: 7))]
        )
    }

    static func draft(_ type: EventType, qty: Int, location: String?) -> ShelfEvent {
        var event = ShelfEvent(type: type, sku: "S", location: location, qty: qty, occurredAt: now)
        switch type {
        case .reservationCreated:
            event.reservation = Reservation(id: "", sku: "S", location: "", qty: qty, expiresAt: now.addingTimeInterval(600))
        case .demandSpikeStarted:
            event.spikeMultiplier = qty
            event.qty = nil
        case .priceChanged:
            event.price = Money(amount: Int64(qty), currency: "USD")
            event.qty = nil
        default:
            break
        }
        return event
    }

    @Test func anySequenceKeepsEveryFigureWithinLimits() async {
        let types = Gen<EventType?>.element(of: Self.types).map { $0 ?? .orderConfirmed }
        let locations = Gen<String?>.element(of: ["", "a", "b"]).map { $0 == "" ? nil : $0 }
        let step = zip(types, Self.quantities, locations)
        await propertyCheck(count: 300, input: step.array(of: 1...40)) { steps in
            var state: SKUState? = Self.state()
            var sequence: Int64 = 1
            for (type, qty, location) in steps {
                let before = state
                switch Inventory.decide(Self.draft(type, qty: qty, location: location), state: state, catalog: Self.catalog, now: Self.now,
                                        newId: { "h\(sequence)" }) {
                case .failure:
                    #expect(state == before)
                case .success(let decision):
                    for event in decision.events {
                        Inventory.apply(event, to: &state, sequence: sequence, recordedAt: Self.now)
                        sequence += 1
                    }
                }
                guard let s = state else {
                    Issue.record("the SKU state disappeared")
                    return
                }
                for stock in s.stock { #expect(stock.level.isWithinLimits, "\(stock.location): \(stock.level)") }
                #expect((1...Limits.maxSpikeMultiplier).contains(s.spikeMultiplier))
                #expect(Limits.price.contains(s.item.price.amount))
                let available = s.available(now: Self.now)
                #expect(available >= 0)
                #expect(available <= s.totalLevel(now: Self.now).onHand)
            }
        }
    }

    @Test func quantitiesOutsideTheLimitsAreRefusedNamingTheField() async {
        let outside = Gen.oneOf(Gen.int(in: (Limits.maxQuantity + 1)...Int.max), Gen.int(in: Int.min...(-1)))
        let types = Gen<EventType?>.element(of: [EventType.orderConfirmed, .stockReceived, .returnReceived, .stockSet]).map { $0 ?? .stockSet }
        await propertyCheck(count: 200, input: types, outside) {
            type, qty in
            let result = Inventory.decide(Self.draft(type, qty: qty, location: "a"), state: Self.state(), catalog: Self.catalog, now: Self.now,
                                          newId: { "h" })
            guard case .failure(let refusal) = result else {
                Issue.record("\(type.rawValue) of \(qty) was accepted")
                return
            }
            switch refusal {
            case .outOfRange(let field, _), .invalid(let field, _): #expect(field == "qty")
            default: Issue.record("unexpected refusal \(refusal)")
            }
        }
    }

    @Test func ordersThatWouldPassTheStoredBoundAreRefusedNotWrapped() throws {
        var state: SKUState? = Self.state()
        state!.stock[0].level.committed = Limits.maxStockFigure - 5
        let result = Inventory.decide(Self.draft(.orderConfirmed, qty: 6, location: "a"), state: state, catalog: Self.catalog, now: Self.now,
                                      newId: { "" })
        #expect(result == .failure(.outOfRange(field: "committed", reason: "would exceed \(Limits.maxStockFigure) units; the change was not recorded")))
        let fits = try Inventory.decide(Self.draft(.orderConfirmed, qty: 5, location: "a"), state: state, catalog: Self.catalog, now: Self.now,
                                        newId: { "" }).get()
        #expect(fits.events.first?.qty == 5)
    }

    @Test func aDamagedStoredRowCannotMakeAvailabilityTrap() {
        var state = Self.state()
        state.stock[0].level = StockLevel(onHand: 0, committed: Int.max, reserved: Int.max, unavailable: Int.max, safetyStock: Int.max)
        state.spikeMultiplier = Int.max
        #expect(state.available(now: Self.now) == 7)
        #expect(state.totalLevel(now: Self.now).committed == Int.max)
    }
}
