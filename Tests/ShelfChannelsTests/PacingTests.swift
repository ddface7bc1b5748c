import Foundation
import ShelfChannels
import ShelfConnectors
import ShelfCore
import Testing

@Suite("pacing: the token bucket on an injected clock, and each channel's published budget")
struct PacingTests {
    /// The reference date itself: offsets of a fraction of a second stay exact.
    let t0 = Date(timeIntervalSinceReferenceDate: 0)

    @Test("a full bucket lets a burst through, then one request per 1/rate seconds")
    func burstThenRate() {
        let clock = ManualWallClock(t0)
        var bucket = TokenBucket(rate: 4, capacity: 4, now: clock.now())
        for _ in 0..<4 { #expect(take(&bucket, 1, now: clock.now())) }
        #expect(!take(&bucket, 1, now: clock.now()))
        #expect(nextSend(&bucket, clock.now()) == t0.addingTimeInterval(0.25))
        clock.advance(by: 0.125)
        #expect(!take(&bucket, 1, now: clock.now()))
        clock.advance(by: 0.125)
        #expect(take(&bucket, 1, now: clock.now()))
        #expect(!take(&bucket, 1, now: clock.now()))
    }

    @Test("a batch standing for several requests may overdraw; the debt is paid before the next send")
    func debtIsRepaid() {
        let clock = ManualWallClock(t0)
        var bucket = TokenBucket(rate: 10, capacity: 2, now: clock.now())
        #expect(take(&bucket, 5, now: clock.now()))
        #expect(bucket.tokens == -3)
        // From -3 to 1 token at 10/s: 0.4 s.
        #expect(abs(nextSend(&bucket, clock.now()).timeIntervalSince(t0) - 0.4) < 1e-9)
        clock.advance(by: 0.39)
        #expect(!take(&bucket, 1, now: clock.now()))
        clock.advance(by: 0.02)
        #expect(take(&bucket, 1, now: clock.now()))
    }

    @Test("an idle bucket refills to its capacity, never beyond")
    func refillCapped() {
        let clock = ManualWallClock(t0)
        var bucket = TokenBucket(rate: 100, capacity: 3, now: clock.now())
        for _ in 0..<3 { #expect(take(&bucket, 1, now: clock.now())) }
        clock.advance(by: 3600)
        for _ in 0..<3 { #expect(take(&bucket, 1, now: clock.now())) }
        #expect(!take(&bucket, 1, now: clock.now()))
    }

    @Test("a 429 closes the bucket until its Retry-After instant, and it opens empty")
    func retryAfterCloses() {
        let clock = ManualWallClock(t0)
        var bucket = TokenBucket(rate: 10, capacity: 10, now: clock.now())
        bucket.close(until: t0.addingTimeInterval(2), now: clock.now())
        clock.advance(by: 1.99)
        #expect(!take(&bucket, 1, now: clock.now()))
        #expect(nextSend(&bucket, clock.now()) > t0.addingTimeInterval(2))
        clock.advance(by: 0.01 + 0.15)
        #expect(take(&bucket, 1, now: clock.now()))
        #expect(!take(&bucket, 1, now: clock.now()))
    }

    @Test("each channel kind is paced by its published push budget")
    func publishedBudgets() {
        func push(_ kind: ChannelKind) -> ChannelRateLimit { ChannelRateLimit.published(for: kind, operation: "push").limit }
        #expect(push(.shopify) == ChannelRateLimit(perSecond: 10, burst: 100))
        #expect(push(.amazon) == ChannelRateLimit(perSecond: 5, burst: 5))
        #expect(push(.ebay) == ChannelRateLimit(perSecond: 25, burst: 50))
        #expect(push(.tiktok) == ChannelRateLimit(perSecond: 20, burst: 20))
        #expect(push(.woocommerce) == ChannelRateLimit(perSecond: 25, burst: 50))
        #expect(ChannelRateLimit.published(for: .amazon, operation: "poll").bucket != ChannelRateLimit.published(for: .amazon, operation: "push").bucket)
        // Amazon's bucket: five at once, then 200 ms apart.
        let clock = ManualWallClock(t0)
        var bucket = TokenBucket(push(.amazon), now: clock.now())
        var sent = 0
        for _ in 0..<100 where bucket.take(1, now: clock.now()) { sent += 1 }
        #expect(sent == 5)
        clock.advance(by: 1)
        for _ in 0..<100 where bucket.take(1, now: clock.now()) { sent += 1 }
        #expect(sent == 10)
    }
}

@Suite("backoff: exponential with full jitter")
struct BackoffTests {
    @Test("the ceiling doubles per attempt from the base and stops at the cap")
    func ceilings() {
        let backoff = FullJitterBackoff(base: 0.2, cap: 30)
        #expect(backoff.ceiling(attempt: 0) == 0.2)
        #expect(backoff.ceiling(attempt: 1) == 0.4)
        #expect(backoff.ceiling(attempt: 4) == 3.2)
        #expect(backoff.ceiling(attempt: 8) == 30)
        #expect(backoff.ceiling(attempt: 10_000) == 30)
        #expect(backoff.ceiling(attempt: -3) == 0.2)
    }

    @Test("every wait lies in [0, ceiling] and the draws spread over the whole range")
    func fullJitterBounds() {
        let backoff = FullJitterBackoff(base: 0.5, cap: 8)
        var generator = SplitMix64(seed: 42)
        for attempt in 0..<6 {
            let ceiling = backoff.ceiling(attempt: attempt)
            let draws = (0..<2000).map { _ in backoff.delay(attempt: attempt, using: &generator) }
            #expect(draws.allSatisfy { $0 >= 0 && $0 <= ceiling })
            // Full jitter, not "ceiling plus a little": waits near zero and near the ceiling both occur.
            #expect(draws.min()! < ceiling * 0.05)
            #expect(draws.max()! > ceiling * 0.95)
            let mean = draws.reduce(0, +) / Double(draws.count)
            #expect(abs(mean - ceiling / 2) < ceiling * 0.05)
        }
    }

    @Test("a zero base never waits")
    func zeroBase() {
        var generator = SplitMix64(seed: 1)
        #expect(FullJitterBackoff(base: 0, cap: 10).delay(attempt: 5, using: &generator) == 0)
    }
}

/// `#expect` cannot call a mutating method; these take the bucket inout.
func take(_ bucket: inout TokenBucket, _ count: Int, now: Date) -> Bool { bucket.take(count, now: now) }
func nextSend(_ bucket: inout TokenBucket, _ now: Date) -> Date { bucket.nextSend(now: now) }
