import Foundation
import ShelfChannels
import Testing

@Suite("coalescing to the latest change per SKU")
struct PushCoalescerTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("many changes on one SKU wait as one push carrying the latest sequence")
    func burstCoalesces() {
        var c = PushCoalescer()
        for sequence in Int64(1)...500 { c.mark(sku: "A", sequence: sequence, now: t0) }
        c.mark(sku: "B", sequence: 7, now: t0)
        #expect(c.depth == 2)
        let taken = c.take(now: t0, limit: 10, ready: { _, _ in true })
        #expect(taken.count == 2)
        #expect(taken.first { $0.sku == "A" }?.entry.sequence == 500)
        #expect(c.depth == 0 && c.inFlightCount == 2)
    }

    @Test("a change during the push waits for it to finish, then goes once more; a SKU is never in flight twice")
    func changeDuringFlight() {
        var c = PushCoalescer()
        c.mark(sku: "A", sequence: 1, now: t0)
        let first = c.take(now: t0, limit: 10, ready: { _, _ in true })
        c.mark(sku: "A", sequence: 2, now: t0)
        c.mark(sku: "A", sequence: 3, now: t0)
        #expect(take(&c, now: t0, limit: 10, ready: { _, _ in true }).isEmpty)
        c.delivered(first[0])
        let second = c.take(now: t0, limit: 10, ready: { _, _ in true })
        #expect(second.map(\.sku) == ["A"])
        #expect(second.first?.entry.sequence == 3)
    }

    @Test("a failed push keeps its backoff, and changes made meanwhile ride on the retry")
    func retryMergesAndWaits() {
        var c = PushCoalescer()
        c.mark(sku: "A", sequence: 1, now: t0)
        let taken = c.take(now: t0, limit: 10, ready: { _, _ in true })
        c.mark(sku: "A", sequence: 5, now: t0)
        c.retry(taken[0], attempts: 1, at: t0.addingTimeInterval(2))
        c.mark(sku: "A", sequence: 6, now: t0)
        #expect(take(&c, now: t0.addingTimeInterval(1), limit: 10, ready: { _, _ in true }).isEmpty)
        #expect(c.nextDue(after: t0.addingTimeInterval(1)) == t0.addingTimeInterval(2))
        let retried = c.take(now: t0.addingTimeInterval(2), limit: 10, ready: { _, _ in true })
        #expect(retried.first?.entry.sequence == 6)
        #expect(retried.first?.entry.attempts == 1)
        #expect(retried.first?.entry.stored == true)
    }

    @Test("a SKU whose change the snapshot does not have yet is left waiting")
    func notReadyStays() {
        var c = PushCoalescer()
        c.mark(sku: "A", sequence: 9, now: t0)
        #expect(take(&c, now: t0, limit: 10, ready: { _, entry in entry.sequence <= 8 }).isEmpty)
        #expect(c.depth == 1)
    }

    @Test("when more are due than one dispatch takes, the order decides which go first")
    func orderApplies() {
        var c = PushCoalescer()
        for (i, sku) in ["A", "B", "C", "D"].enumerated() { c.mark(sku: sku, sequence: Int64(i + 1), now: t0) }
        let taken = c.take(now: t0, limit: 2, ready: { _, _ in true }, order: { $0.sorted { $0.sku > $1.sku } })
        #expect(taken.map(\.sku) == ["D", "C"])
        #expect(c.depth == 2)
    }

    @Test("lag is the age of the oldest change waiting or in flight")
    func oldestSince() {
        var c = PushCoalescer()
        #expect(c.oldestSince == nil)
        c.mark(sku: "A", sequence: 1, now: t0)
        c.mark(sku: "B", sequence: 2, now: t0.addingTimeInterval(5))
        _ = c.take(now: t0.addingTimeInterval(5), limit: 1, ready: { sku, _ in sku == "A" })
        #expect(c.oldestSince == t0)
    }

    @Test("a replayed retry read back from the ledger merges with what waits")
    func restoreMerges() {
        var c = PushCoalescer()
        c.mark(sku: "A", sequence: 10, now: t0)
        c.restore(sku: "A", sequence: 4, attempts: 0, notBefore: .distantPast, now: t0)
        let taken = c.take(now: t0, limit: 5, ready: { _, _ in true })
        #expect(taken.first?.entry.sequence == 10)
        #expect(taken.first?.entry.stored == true)
    }
}

/// `#expect` cannot call a mutating method; this takes the coalescer inout.
func take(_ c: inout PushCoalescer, now: Date, limit: Int, ready: (String, PushCoalescer.Entry) -> Bool) -> [PushCoalescer.Taken] {
    c.take(now: now, limit: limit, ready: ready)
}
