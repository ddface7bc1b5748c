import Foundation
import ShelfCore
import Testing

@Suite("Domain")
struct CoreTests {
    @Test func availableFollowsTheDesignFormula() {
        let level = StockLevel(onHand: 50, committed: 4, reserved: 3, unavailable: 1, safetyStock: 2)
        #expect(level.available() == 40)
        #expect(level.available(spikeMultiplier: 3) == 36)
        #expect(StockLevel(onHand: 2, committed: 5).available() == 0)
    }

    @Test func moneyFormatsWithoutFloatingPoint() {
        #expect(Money(amount: 1999, currency: "USD").decimalString == "19.99")
        #expect(Money(amount: 5, currency: "USD").decimalString == "0.05")
        #expect(Money(amount: -105, currency: "EUR").decimalString == "-1.05")
        #expect(Money(amount: 1200, currency: "JPY").decimalString == "1200")
        #expect(Money(amount: 1234, currency: "KWD").decimalString == "1.234")
        #expect(Money.isCurrencyCode("USD"))
        #expect(!Money.isCurrencyCode("usd"))
        #expect(!Money.isCurrencyCode("US"))
    }

    @Test func timestampsRoundTripWithMilliseconds() throws {
        let date = Date(timeIntervalSince1970: 1_795_413_600.12)
        #expect(Timestamp.format(date) == "2026-11-23T06:00:00.120Z")
        let parsed = try #require(Timestamp.parse("2026-11-23T06:00:00.120Z"))
        #expect(abs(parsed.timeIntervalSince(date)) < 0.0005)
        #expect(Timestamp.parse("2026-11-23T01:00:00-05:00") == Timestamp.parse("2026-11-23T06:00:00Z"))
        #expect(Timestamp.parse("2026-02-30T00:00:00Z") == nil)
        #expect(Timestamp.parse("yesterday") == nil)
        #expect(Timestamp.parse("2026-11-23T06:00:00") == nil)
    }

    @Test func civilDatesKnowTheirWeekday() {
        #expect(CivilDate("2026-11-23")?.isoWeekday == 1)
        #expect(CivilDate("2026-11-28")?.isWeekend == true)
        #expect(CivilDate("2026-11-27")?.isWeekend == false)
        #expect(CivilDate("2024-02-29") != nil)
        #expect(CivilDate("2026-02-29") == nil)
        #expect(CivilDate("2026-12-31")!.adding(days: 1) == CivilDate("2027-01-01"))
    }

    @Test func channelOrdersBeyondStockAreFactsWithAnOversoldEvent() throws {
        let now = Date()
        let catalog = SellerCatalog(locations: [Location(id: "a", name: "A", timeZone: "UTC")])
        var state: SKUState? = SKUState(
            item: CatalogItem(sku: "S", productId: "P", title: "S", price: Money(amount: 1, currency: "USD")),
            stock: [LocationStock(location: "a", level: StockLevel(onHand: 3))]
        )
        let draft = ShelfEvent(type: .orderConfirmed, sku: "S", qty: 5, occurredAt: now)
        let decision = try Inventory.decide(draft, state: state, catalog: catalog, now: now, newId: { "id" }).get()
        #expect(decision.oversold == 2)
        #expect(decision.events.map(\.type) == [.orderConfirmed, .inventoryOversold])
        for (i, e) in decision.events.enumerated() { Inventory.apply(e, to: &state, sequence: Int64(i + 1), recordedAt: now) }
        #expect(state?.available(now: now) == 0)
        #expect(state?.totalLevel(now: now).oversold == 2)
    }

    @Test func holdsArePromisesAndAreRefusedWithoutStock() {
        let now = Date()
        let catalog = SellerCatalog(locations: [Location(id: "a", name: "A", timeZone: "UTC")])
        let state = SKUState(
            item: CatalogItem(sku: "S", productId: "P", title: "S", price: Money(amount: 1, currency: "USD")),
            stock: [LocationStock(location: "a", level: StockLevel(onHand: 3, safetyStock: 1))]
        )
        let draft = ShelfEvent(type: .reservationCreated, sku: "S", qty: 3,
                               reservation: Reservation(id: "", sku: "S", location: "", qty: 3, expiresAt: now.addingTimeInterval(60)),
                               occurredAt: now)
        let result = Inventory.decide(draft, state: state, catalog: catalog, now: now, newId: { "h1" })
        #expect(result == .failure(.insufficientStock(sku: "S", available: 2, requested: 3)))
    }

    @Test func negativeQuantitiesAreRejected() {
        let now = Date()
        let state = SKUState(item: CatalogItem(sku: "S", productId: "P", title: "S", price: Money(amount: 1, currency: "USD")))
        let result = Inventory.decide(ShelfEvent(type: .stockReceived, sku: "S", qty: -1, occurredAt: now), state: state,
                                      catalog: SellerCatalog(), now: now, newId: { "" })
        #expect(result == .failure(.invalid(field: "qty", reason: "must not be negative")))
    }
}
