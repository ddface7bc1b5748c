import Foundation
import GRDB
import ShelfCore
import ShelfLedger
import Testing
import ShelfTestSupport

@Suite("Ledger")
struct LedgerTests {
    @Test("concurrent promises for more than the stock grant exactly the stock")
    func promisesNeverOversell() async throws {
        let t = try await TestLedger()
        try await t.addSKU("TEE-1", east: 30, west: 20)
        let granted = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<300 {
                group.addTask {
                    switch await t.hold("TEE-1", qty: 1 + i % 3) {
                    case .success(let outcome): return outcome.reservation!.qty
                    case .failure(.refused(.insufficientStock)): return 0
                    case .failure(let other): throw other
                    }
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(granted == 50)
        let state = try #require(t.state("TEE-1"))
        #expect(state.available(now: t.clock.now()) == 0)
        #expect(state.totalLevel(now: t.clock.now()).reserved == 50)
        #expect(state.stock.allSatisfy { $0.level.oversold == 0 })
        let reopened = try await t.reopened()
        #expect(reopened.snapshot.seller("s1")?.sku("TEE-1") == state)
    }

    @Test("concurrent channel orders beyond the stock leave available at 0 and record the exact shortfall")
    func factsRecordOversold() async throws {
        let t = try await TestLedger()
        try await t.addSKU("MUG-1", east: 10)
        let oversold = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<40 {
                group.addTask { try await t.order("MUG-1", qty: 1).get().oversold }
            }
            return try await group.reduce(0, +)
        }
        #expect(oversold == 30)
        let state = try #require(t.state("MUG-1"))
        #expect(state.available(now: t.clock.now()) == 0)
        #expect(state.totalLevel(now: t.clock.now()).committed == 40)
        #expect(state.totalLevel(now: t.clock.now()).oversold == 30)
        let oversoldEvents = try await t.ledger.events(seller: "s1", sku: "MUG-1").filter { $0.event.type == .inventoryOversold }
        #expect(oversoldEvents.reduce(0) { $0 + ($1.event.qty ?? 0) } == 30)
    }

    @Test("a duplicate command changes nothing and returns the original outcome")
    func duplicateReturnsOriginal() async throws {
        let t = try await TestLedger()
        try await t.addSKU("CAP-1", east: 5)
        let first = try await t.order("CAP-1", qty: 2, key: "amz-1").get()
        let before = try await t.eventCount()
        let second = try await t.order("CAP-1", qty: 2, key: "amz-1").get()
        #expect(first.status == .accepted)
        #expect(second.status == .duplicate)
        #expect(second.sequence == first.sequence)
        #expect(second.available == first.available)
        #expect(try await t.eventCount() == before)
        #expect(t.state("CAP-1")?.totalLevel(now: t.clock.now()).committed == 2)
    }

    @Test("duplicates inside one group-commit batch are answered as duplicates")
    func duplicatesInOneBatch() async throws {
        let t = try await TestLedger()
        try await t.addSKU("CAP-2", east: 5)
        let draft = ShelfEvent(type: .orderConfirmed, sku: "CAP-2", qty: 1, occurredAt: t.clock.now())
        let results = await t.ledger.submit((0..<5).map { _ in Command(seller: "s1", source: "direct", key: "k", draft: draft) })
        let outcomes = try results.map { try $0.get() }
        #expect(outcomes.filter { $0.status == .accepted }.count == 1)
        #expect(Set(outcomes.map(\.sequence)).count == 1)
        #expect(t.state("CAP-2")?.totalLevel(now: t.clock.now()).committed == 1)
    }

    @Test("the same key with a different request is a conflict and records nothing")
    func keyReuseConflicts() async throws {
        let t = try await TestLedger()
        try await t.addSKU("CAP-3", east: 5)
        let draft = ShelfEvent(type: .orderConfirmed, sku: "CAP-3", qty: 1, occurredAt: t.clock.now())
        _ = try await t.ledger.submit(Command(seller: "s1", source: "direct", key: "k", requestHash: "a", draft: draft)).get()
        let before = try await t.eventCount()
        let again = await t.ledger.submit(Command(seller: "s1", source: "direct", key: "k", requestHash: "b", draft: draft))
        #expect(again == .failure(.idempotencyConflict(key: "k")))
        #expect(try await t.eventCount() == before)
    }

    @Test("inside one group-commit batch, the same key with a different request is a conflict, not a duplicate, and records nothing")
    func keyReuseConflictsInOneBatch() async throws {
        let t = try await TestLedger()
        try await t.addSKU("CAP-4", east: 9)
        let one = ShelfEvent(type: .orderConfirmed, sku: "CAP-4", qty: 1, occurredAt: t.clock.now())
        let three = ShelfEvent(type: .orderConfirmed, sku: "CAP-4", qty: 3, occurredAt: t.clock.now())
        let before = try await t.eventCount()
        // One submission is one transaction: the second and third commands meet the first's key inside the same batch.
        let results = await t.ledger.submit([
            Command(seller: "s1", source: "direct", key: "k4", requestHash: "one", draft: one),
            Command(seller: "s1", source: "direct", key: "k4", requestHash: "three", draft: three),
            Command(seller: "s1", source: "direct", key: "k4", requestHash: "one", draft: one),
        ])
        let first = try results[0].get()
        #expect(first.status == .accepted)
        #expect(results[1] == .failure(.idempotencyConflict(key: "k4")))
        let third = try results[2].get()
        #expect(third.status == .duplicate && third.sequence == first.sequence)
        #expect(try await t.eventCount() == before + 1)
        #expect(t.state("CAP-4")?.totalLevel(now: t.clock.now()).committed == 1)
    }

    @Test("a refused promise leaves no trace but its refusal")
    func refusalLeavesNoTrace() async throws {
        let t = try await TestLedger()
        try await t.addSKU("SOCK-1", east: 3)
        let before = try await t.eventCount()
        let stateBefore = t.state("SOCK-1")
        let result = await t.hold("SOCK-1", qty: 4, key: "cart-1")
        #expect(result == .failure(.refused(.insufficientStock(sku: "SOCK-1", available: 3, requested: 4))))
        #expect(try await t.eventCount() == before)
        #expect(t.state("SOCK-1") == stateBefore)
        let keys = try await t.ledger.database.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM idempotency") }
        #expect(keys == 0)
        // The same key is free to succeed later.
        let later = await t.hold("SOCK-1", qty: 3, key: "cart-1")
        #expect(try later.get().status == .accepted)
    }

    @Test("an expired hold stops counting at once and is recorded as expired on the next hold")
    func expiredHoldsStopCounting() async throws {
        let t = try await TestLedger()
        try await t.addSKU("BTL-1", east: 4)
        _ = try await t.hold("BTL-1", qty: 4, ttl: 60).get()
        #expect(t.state("BTL-1")?.available(now: t.clock.now()) == 0)
        t.clock.advance(by: 61)
        #expect(t.state("BTL-1")?.available(now: t.clock.now()) == 4)
        _ = try await t.hold("BTL-1", qty: 4, ttl: 60).get()
        let types = try await t.ledger.events(seller: "s1", sku: "BTL-1").map(\.event.type)
        #expect(types.suffix(2) == [.reservationExpired, .reservationCreated])
        #expect(t.state("BTL-1")?.totalLevel(now: t.clock.now()).reserved == 4)
    }

    @Test("events are append-only")
    func appendOnly() async throws {
        let t = try await TestLedger()
        try await t.addSKU("X-1", east: 1)
        #expect(throws: (any Error).self) {
            try t.ledger.database.pool.write { db in try db.execute(sql: "UPDATE events SET type = 'x'") }
        }
        #expect(throws: (any Error).self) {
            try t.ledger.database.pool.write { db in try db.execute(sql: "DELETE FROM events") }
        }
    }

    @Test("outbox rows are written in the event's transaction, one per listed SKU, coalesced to the latest sequence")
    func outboxCoalesces() async throws {
        let connections = ["amazon", "ebay"].map {
            ConnectionFixture(id: "\($0)-1", channel: $0, kind: $0, baseURL: "http://127.0.0.1:1", webhookSecret: "s")
        }
        let t = try await TestLedger(connections: connections)
        try await t.addSKU("HOOD-1", east: 100, channels: ["amazon", "ebay"])
        try await t.addSKU("HOOD-2", east: 100, channels: ["amazon"])
        try await t.addSKU("HOOD-3", east: 100)
        var last: Int64 = 0
        for _ in 0..<10 { last = try await t.order("HOOD-1", qty: 1).get().sequence }
        let rows = try await t.ledger.database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT sku, sequence FROM outbox ORDER BY sku")
        }
        #expect(rows.map { $0[0] as String } == ["HOOD-1", "HOOD-2"])
        #expect(rows[0][1] as Int64 == last)
    }

    @Test("settling an outbox row read before a later change keeps the row that change moved on: only what was pushed is cleared")
    func settleKeepsALaterChange() async throws {
        let connections = [ConnectionFixture(id: "amazon-1", channel: "amazon", kind: "amazon", baseURL: "http://127.0.0.1:1", webhookSecret: "s")]
        let t = try await TestLedger(connections: connections)
        try await t.addSKU("HOOD-9", east: 100, channels: ["amazon"])
        let queue = SQLitePushQueueStore(database: t.ledger.database)
        let read = try #require(try await queue.pendingPushes().outbox.first { $0.sku == "HOOD-9" })
        // A change lands while the push of what was read is in flight; then that push is settled.
        let later = try await t.order("HOOD-9", qty: 1).get().sequence
        #expect(later > read.sequence)
        try await queue.settle([], outbox: [read], now: t.clock.now())
        let left = try await queue.pendingPushes().outbox.filter { $0.sku == "HOOD-9" }
        #expect(left.map { $0.sequence } == [later])
        try await queue.settle([], outbox: left, now: t.clock.now())
        #expect(try await queue.pendingPushes().outbox.filter { $0.sku == "HOOD-9" }.isEmpty)
    }

    @Test("stock at an instant matches what was current then")
    func stockAtInstant() async throws {
        let t = try await TestLedger()
        try await t.addSKU("JKT-1", east: 20)
        t.clock.advance(by: 10)
        _ = try await t.order("JKT-1", qty: 3).get()
        let afterFirst = try #require(t.state("JKT-1"))
        let instant = t.clock.now()
        t.clock.advance(by: 10)
        _ = try await t.order("JKT-1", qty: 5).get()
        _ = try await t.ledger.submit(Command(seller: "s1", source: "direct", draft: ShelfEvent(
            type: .stockReceived, sku: "JKT-1", location: "east", qty: 7, occurredAt: t.clock.now()))).get()
        let then = try #require(try await t.ledger.replay(seller: "s1", sku: "JKT-1", at: instant))
        #expect(then == afterFirst)
        #expect(then.totalLevel(now: instant).committed == 3)
        #expect(try await t.ledger.replay(seller: "s1", sku: "JKT-1", at: TestLedger.start.addingTimeInterval(-1)) == nil)
        let now = try #require(try await t.ledger.replay(seller: "s1", sku: "JKT-1", at: t.clock.now()))
        #expect(now == t.state("JKT-1"))
    }

    @Test("after a restart the rebuilt snapshot equals the live one and a replay of the ledger (random event sequences)",
          arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func snapshotEqualsReplay(seed: UInt64) async throws {
        let connections = [ConnectionFixture(id: "amz", channel: "amazon", kind: "amazon", baseURL: "http://127.0.0.1:1", webhookSecret: "s")]
        let t = try await TestLedger(connections: connections)
        var rng = SplitMix64(seed: seed)
        let skus = (0..<8).map { "SKU-\($0)" }
        for sku in skus { try await t.addSKU(sku, east: Int(rng.next() % 20), west: Int(rng.next() % 5), safety: Int(rng.next() % 3), channels: ["amazon"]) }
        var holds: [String: [String]] = [:]
        for step in 0..<250 {
            let sku = skus[Int(rng.next() % UInt64(skus.count))]
            let qty = Int(rng.next() % 6)
            let roll = rng.next() % 100
            let at = t.clock.now()
            var draft: ShelfEvent
            switch roll {
            case 0..<25: draft = ShelfEvent(type: .orderConfirmed, sku: sku, channel: "amazon", qty: qty + 1, occurredAt: at)
            case 25..<32: draft = ShelfEvent(type: .orderCancelled, sku: sku, qty: qty + 1, occurredAt: at)
            case 32..<38: draft = ShelfEvent(type: .orderFulfilled, sku: sku, qty: 1, occurredAt: at)
            case 38..<45: draft = ShelfEvent(type: .stockReceived, sku: sku, location: rng.next() % 2 == 0 ? "east" : "west", qty: qty, occurredAt: at)
            case 45..<50: draft = ShelfEvent(type: .stockAdjusted, sku: sku, location: "east", qty: qty - 3, occurredAt: at)
            case 50..<54: draft = ShelfEvent(type: .stockSet, sku: sku, location: "west", qty: qty * 3, occurredAt: at)
            case 54..<58: draft = ShelfEvent(type: .priceChanged, sku: sku, price: Money(amount: Int64(1000 + qty), currency: "USD"), occurredAt: at)
            case 58..<61: draft = ShelfEvent(type: rng.next() % 2 == 0 ? .listingPaused : .listingResumed, sku: sku, channel: "amazon", occurredAt: at)
            case 61..<63: draft = ShelfEvent(type: .returnReceived, sku: sku, location: "east", qty: 1, occurredAt: at)
            case 63..<66: draft = ShelfEvent(type: rng.next() % 2 == 0 ? .demandSpikeStarted : .demandSpikeEnded, sku: sku, spikeMultiplier: 2, occurredAt: at)
            case 66..<85:
                draft = ShelfEvent(type: .reservationCreated, sku: sku, qty: qty + 1,
                                   reservation: Reservation(id: "", sku: sku, location: "", qty: qty + 1, expiresAt: at.addingTimeInterval(Double(30 + rng.next() % 120))),
                                   occurredAt: at)
            default:
                guard let id = holds[sku]?.randomElement(using: &rng) else { continue }
                draft = ShelfEvent(type: rng.next() % 2 == 0 ? .reservationReleased : .reservationCommitted, sku: sku,
                                   reservation: Reservation(id: id, sku: sku, location: "", qty: 0, expiresAt: at), occurredAt: at)
            }
            if case .success(let outcome) = await t.ledger.submit(Command(seller: "s1", source: "direct", key: "k\(step)", draft: draft)),
               let hold = outcome.reservation, draft.type == .reservationCreated {
                holds[sku, default: []].append(hold.id)
            }
            t.clock.advance(by: Double(rng.next() % 20))
        }
        let live = try #require(t.ledger.snapshot.seller("s1"))
        let rebuilt = try #require(try await t.reopened().snapshot.seller("s1"))
        let replayed = try await t.ledger.replayAll(seller: "s1")
        #expect(rebuilt.allStates() == live.allStates())
        #expect(rebuilt.catalog == live.catalog)
        #expect(replayed.catalog == live.catalog)
        #expect(replayed.states.values.sorted { $0.sku < $1.sku } == live.allStates())
        #expect(rebuilt.lastSequence == live.lastSequence)
        for state in live.allStates() {
            #expect(state.stock.allSatisfy { $0.level.committed >= 0 && $0.level.reserved >= 0 && $0.level.onHand >= 0 })
        }
    }
}
