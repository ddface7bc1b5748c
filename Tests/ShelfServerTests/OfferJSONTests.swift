import Foundation
import ShelfCore
import Testing

@testable import ShelfServer

@Suite("Offer JSON writer")
struct OfferJSONTests {
    static let strings = ["TEE-RED-M", "Tee \"quoted\" \\ slash/", "tab\there\nline\r\u{8}\u{C}\u{1}\u{1F}", "Café — ünïcödé 🧢",
                          "", "a/b?c#d", "\u{7F}\u{2028}"]
    static let doubles: [Double] = [0, 1, 0.5, 0.999_999_999_9, 1e-7, 0.123_456_789_012_345, 2.25, 1234.5, 0.1 + 0.2, 37.0]

    func randomOffer(_ g: inout SplitMix64) -> OfferView {
        func s() -> String { Self.strings.randomElement(using: &g)! }
        func d() -> Double { Bool.random(using: &g) ? Self.doubles.randomElement(using: &g)! : Double.random(in: 0...1, using: &g) }
        func i() -> Int { Int.random(in: -5...1_000_000, using: &g) }
        let now = Date(timeIntervalSince1970: Double(Int.random(in: 1_700_000_000...1_900_000_000, using: &g)) + 0.123)
        let options = (0..<Int.random(in: 0...3, using: &g)).map { _ in
            DeliveryOptionView(DeliveryOption(
                carrier: s(), service: s(), location: s(), earliestDate: CivilDate(year: 2026, month: 11, day: 27),
                latestDate: CivilDate(year: 2026, month: 12, day: Int.random(in: 1...31, using: &g)), orderBy: now,
                handlingDays: i(), transitDays: TransitDays(min: 1, max: 3)))
        }
        let channels = (0..<Int.random(in: 0...4, using: &g)).map { _ in
            ChannelFreshnessView(channel: s(), connection: s(), lastHeardAt: Bool.random(using: &g) ? now : nil,
                                 lagMs: Bool.random(using: &g) ? Int64(i()) : nil, source: Bool.random(using: &g) ? s() : nil, salesPerHour: d())
        }
        var level = StockLevel()
        level.onHand = i()
        level.committed = i()
        level.reserved = i()
        return OfferView(
            sku: s(), title: s(), qty: i(), purchasable: Bool.random(using: &g),
            stock: StockView(level, available: i(), spikeMultiplier: Int.random(in: 1...3, using: &g)),
            price: Money(amount: Int64(i()), currency: "USD"), channel: Bool.random(using: &g) ? s() : nil,
            delivery: DeliveryView(options: options),
            freshness: FreshnessView(asOf: now, ageMs: Int64(i()), freshnessScore: d(), channels: channels),
            confidence: d(), reasons: (0..<Int.random(in: 0...3, using: &g)).map { _ in s() }
        )
    }

    @Test("writes the same bytes as ShelfJSON for 2,000 varied offers")
    func sameBytesAsShelfJSON() throws {
        var g = SplitMix64(seed: 20_261_124)
        for n in 0..<2_000 {
            let offer = randomOffer(&g)
            let fast = OfferJSON.encode(offer)
            let reference = [UInt8](try ShelfJSON.encode(offer))
            #expect(fast == reference, "offer \(n): \(String(decoding: fast, as: UTF8.self)) vs \(String(decoding: reference, as: UTF8.self))")
            if fast != reference { return }
        }
    }

    func randomStock(_ g: inout SplitMix64) -> StockDetailView {
        func s() -> String { Self.strings.randomElement(using: &g)! }
        func i() -> Int { Int.random(in: -5...1_000_000, using: &g) }
        func instant() -> Date { Date(timeIntervalSince1970: Double(Int.random(in: 1_700_000_000...1_900_000_000, using: &g)) + 0.5) }
        let locations = (0..<Int.random(in: 0...4, using: &g)).map { _ in
            LocationStockView(location: s(), available: i(), onHand: i(), committed: i(), reserved: i(), unavailable: i(), safetyStock: i(),
                              incoming: i(), oversold: i())
        }
        let channels = (0..<Int.random(in: 0...6, using: &g)).map { _ in
            ChannelStockView(channel: s(), connection: Bool.random(using: &g) ? s() : nil, externalId: s(), listed: Bool.random(using: &g),
                             buffer: i(), publishedQuantity: i(), lastPushedAt: Bool.random(using: &g) ? instant() : nil,
                             lastHeardAt: Bool.random(using: &g) ? instant() : nil, lagMs: Bool.random(using: &g) ? Int64(i()) : nil)
        }
        var level = StockLevel()
        level.onHand = i()
        level.safetyStock = i()
        level.oversold = i()
        return StockDetailView(sku: s(), asOf: instant(), sequence: Int64(i()), spikeMultiplier: Int.random(in: 1...3, using: &g),
                               total: StockView(level, available: i(), spikeMultiplier: 2), locations: locations, channels: channels)
    }

    @Test("writes the same stock answer bytes as ShelfJSON for 2,000 varied SKUs")
    func stockSameBytesAsShelfJSON() throws {
        var g = SplitMix64(seed: 20_261_207)
        for n in 0..<2_000 {
            let view = randomStock(&g)
            let fast = OfferJSON.encode(view)
            let reference = [UInt8](try ShelfJSON.encode(view))
            #expect(fast == reference, "stock \(n): \(String(decoding: fast, as: UTF8.self)) vs \(String(decoding: reference, as: UTF8.self))")
            if fast != reference { return }
        }
    }
}
