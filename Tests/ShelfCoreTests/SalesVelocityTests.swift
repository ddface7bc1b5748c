import Foundation
import ShelfCore
import Testing

@Suite("Sales velocity, reporting delays and confidence")
struct SalesVelocityTests {
    let t0 = Date(timeIntervalSince1970: 1_795_413_600)

    @Test("the reporting delay follows a channel's lag and one replayed hour-old order barely moves it")
    func reportingDelayIsRobust() {
        var d = ReportingDelay()
        for i in 0..<200 { d.observe(i.isMultiple(of: 2) ? 1.8 : 2.2) }
        #expect(abs(d.mean - 2.0) < 0.1)
        #expect(d.deviation > 0.1 && d.deviation < 0.3)
        d.observe(3600)
        #expect(d.mean < 2.2)
        d.observe(-5)  // clock skew counts as 0, never a negative delay
        #expect(d.mean >= 0)
    }

    @Test("with three sales in three seconds the rate is already near the truth, not 3/900 of a rolling window")
    func rateIsSoundWithLittleHistory() {
        let v = SalesVelocity(origin: t0)
        for s in 0..<3 {
            let at = t0.addingTimeInterval(Double(s) + 1)
            v.record(seller: "demo", sku: "A", channel: "amazon", qty: 1, occurredAt: at, recordedAt: at)
        }
        let rate = v.rates(seller: "demo", sku: "A", now: t0.addingTimeInterval(3)).rate("amazon").mean
        #expect(rate > 0.5 && rate < 1.5)
        // A SKU that never sold: the prior fades as exposure accumulates.
        let idle = v.rates(seller: "demo", sku: "B", now: t0.addingTimeInterval(600)).rate("amazon").mean
        #expect(idle < 0.005)
        // Decay: ten quiet minutes later, the rate of A has fallen well below its early pace.
        let later = v.rates(seller: "demo", sku: "A", now: t0.addingTimeInterval(603)).rate("amazon").mean
        #expect(later < rate / 20)
    }

    @Test("readings are per SKU: another SKU's sales never leak into its rate or window counts")
    func readingsArePerSKU() {
        let v = SalesVelocity(origin: t0)
        for s in 0..<20 {
            let at = t0.addingTimeInterval(Double(s))
            v.record(seller: "demo", sku: "HOT", channel: "ebay", qty: 2, occurredAt: at, recordedAt: at.addingTimeInterval(3))
        }
        let now = t0.addingTimeInterval(30)
        #expect(v.units(seller: "demo", sku: "HOT", within: 60, now: now) == 40)
        #expect(v.units(seller: "demo", sku: "COLD", within: 60, now: now) == 0)
        #expect(v.rates(seller: "demo", sku: "COLD", now: now).observed.isEmpty)
        #expect(v.totalRate(seller: "demo", sku: "HOT", now: now) > 1)
        #expect(v.units(seller: "other", sku: "HOT", within: 60, now: now) == 0)
        // The channel's delay was learned from occurredAt → recordedAt.
        #expect(abs((v.delays(seller: "demo")["ebay"]?.mean ?? 0) - 3) < 0.01)
    }

    @Test("rate uncertainty widens the tail: a negative binomial is less sure than a Poisson of the same mean")
    func overdispersionLowersConfidence() {
        let poisson = Confidence.probability(available: 10, qty: 2, unseenMean: 3, unseenVariance: 3)
        let wide = Confidence.probability(available: 10, qty: 2, unseenMean: 3, unseenVariance: 12)
        #expect(poisson > 0.99 && poisson < 1)
        #expect(wide < poisson - 0.02)
        // The negative binomial's CDF at its mean is the textbook figure: r = 1, p = 1/4 (geometric), P(U ≤ 3) = 1 − 0.75⁴.
        #expect(abs(Confidence.probability(available: 5, qty: 2, unseenMean: 3, unseenVariance: 12) - (1 - pow(0.75, 4))) < 0.001)
        #expect(Confidence.probability(available: 1, qty: 2, unseenMean: 0, unseenVariance: 0) == 0)
        #expect(Confidence.probability(available: 2, qty: 2, unseenMean: 0, unseenVariance: 0) == 1)
    }
}
