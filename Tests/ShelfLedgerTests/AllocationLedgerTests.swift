import Foundation
import GRDB
import ShelfCore
import ShelfLedger
import Testing
import ShelfTestSupport

/// Orders and holds allocated across locations, as the ledger records them: atomic, durable, idempotent, and given back
/// to the same locations on cancellation.
@Suite("Ledger allocation")
struct AllocationLedgerTests {
    static func order(_ t: TestLedger, _ sku: String, qty: Int, channel: String = "amazon", orderId: String, key: String? = nil,
                      type: EventType = .orderConfirmed) async -> Result<CommandOutcome, LedgerError> {
        await t.ledger.submit(Command(seller: "s1", source: "direct", key: key ?? "\(type.rawValue):\(orderId)", draft: ShelfEvent(
            type: type, sku: sku, channel: channel, qty: qty, orderId: orderId, occurredAt: t.clock.now())))
    }

    static func stockRows(_ t: TestLedger, _ sku: String) throws -> [String: [Int]] {
        try t.ledger.database.pool.read { db in
            var rows: [String: [Int]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT location, onHand, committed, reserved, oversold FROM stock WHERE sku = ?", arguments: [sku]) {
                rows[row[0]] = [row[1], row[2], row[3], row[4]]
            }
            return rows
        }
    }

    @Test("a channel order larger than either location is split, persisted, and shows its allocation in the audit trail")
    func splitOrderIsDurableAndAudited() async throws {
        let t = try await TestLedger()
        try await t.addSKU("TEE-1", east: 60, west: 163)
        let outcome = try await Self.order(t, "TEE-1", qty: 228, orderId: "amz-1").get()
        #expect(outcome.oversold == 5)
        #expect(outcome.available == 0)
        let state = try #require(t.state("TEE-1"))
        #expect(state.available(at: "east", now: t.clock.now()) == 0)
        #expect(state.available(at: "west", now: t.clock.now()) == 0)
        #expect(state.totalLevel(now: t.clock.now()).oversold == 5)
        #expect(try Self.stockRows(t, "TEE-1") == ["east": [60, 60, 0, 0], "west": [163, 168, 0, 5]])
        let audit = try await t.ledger.events(seller: "s1", sku: "TEE-1").filter { $0.event.orderId == "amz-1" || $0.event.type == .inventoryOversold }
        #expect(audit.map(\.event.type) == [.orderConfirmed, .inventoryOversold])
        #expect(audit[0].event.allocation == [Allocation(location: "west", qty: 168), Allocation(location: "east", qty: 60)])
        #expect(audit[1].event.location == "west")
        #expect(Set(audit.map(\.externalId)) == ["order.confirmed:amz-1"])
        #expect(try await t.reopened().snapshot.seller("s1")?.sku("TEE-1") == state)
    }

    @Test("a duplicate of a split order is answered as a duplicate and changes nothing")
    func duplicateSplitOrder() async throws {
        let t = try await TestLedger()
        try await t.addSKU("TEE-2", east: 10, west: 20)
        let first = try await Self.order(t, "TEE-2", qty: 35, orderId: "o-1").get()
        let events = try await t.eventCount()
        let state = t.state("TEE-2")
        let rows = try Self.stockRows(t, "TEE-2")
        let again = try await Self.order(t, "TEE-2", qty: 35, orderId: "o-1").get()
        #expect(again.status == .duplicate)
        #expect(again.sequence == first.sequence)
        #expect(again.oversold == 5)
        #expect(try await t.eventCount() == events)
        #expect(t.state("TEE-2") == state)
        #expect(try Self.stockRows(t, "TEE-2") == rows)
    }

    @Test("cancelling a split order by its order id gives each location back what it took")
    func cancellationOfSplitOrder() async throws {
        let t = try await TestLedger()
        try await t.addSKU("TEE-3", east: 10, west: 20)
        let before = try Self.stockRows(t, "TEE-3")
        _ = try await Self.order(t, "TEE-3", qty: 33, orderId: "o-9").get()
        #expect(try Self.stockRows(t, "TEE-3") == ["east": [10, 10, 0, 0], "west": [20, 23, 0, 3]])
        _ = try await Self.order(t, "TEE-3", qty: 33, orderId: "o-9", type: .orderCancelled).get()
        #expect(try Self.stockRows(t, "TEE-3") == before)
        let cancel = try #require(try await t.ledger.events(seller: "s1", sku: "TEE-3").last)
        #expect(cancel.event.type == .orderCancelled)
        #expect(cancel.event.allocation == [Allocation(location: "west", qty: 23), Allocation(location: "east", qty: 10)])
    }

    @Test("an order and its cancellation in one group-commit batch still give back where the order took")
    func cancellationInTheSameBatch() async throws {
        let t = try await TestLedger()
        try await t.addSKU("TEE-4", east: 10, west: 20)
        let before = try Self.stockRows(t, "TEE-4")
        let drafts = [EventType.orderConfirmed, .orderCancelled].map {
            Command(seller: "s1", source: "direct", key: "\($0.rawValue):o-2",
                    draft: ShelfEvent(type: $0, sku: "TEE-4", channel: "ebay", qty: 25, orderId: "o-2", occurredAt: t.clock.now()))
        }
        for result in await t.ledger.submit(drafts) { _ = try result.get() }
        #expect(try Self.stockRows(t, "TEE-4") == before)
    }

    @Test("concurrent split orders from six channels oversell only what the channels sold beyond the stock")
    func concurrentOrdersFromSixChannels() async throws {
        let t = try await TestLedger()
        try await t.addSKU("HOT-1", east: 90, west: 78)
        let channels = ["amazon", "ebay", "etsy", "shopify", "tiktok", "walmart"]
        /// Sends every order at once; returns the oversold the ledger reported.
        func burst(_ round: String, _ sizes: [Int]) async throws -> Int {
            let orders = channels.flatMap { channel in sizes.enumerated().map { (channel: channel, id: "\(channel)-\(round)-\($0.offset)", qty: $0.element) } }
            return try await withThrowingTaskGroup(of: Int.self) { group in
                for order in orders {
                    group.addTask { try await Self.order(t, "HOT-1", qty: order.qty, channel: order.channel, orderId: order.id).get().oversold }
                }
                return try await group.reduce(0, +)
            }
        }
        // Exactly the stock (6 × 4 orders of 7 = 168 units; neither location holds a multiple of 7): no location is ever
        // oversold while another still has units.
        let exact = try await burst("a", [7, 7, 7, 7])
        #expect(exact == 0)
        var state = try #require(t.state("HOT-1"))
        #expect(state.available(at: "east", now: t.clock.now()) == 0)
        #expect(state.available(at: "west", now: t.clock.now()) == 0)
        #expect(state.totalLevel(now: t.clock.now()).oversold == 0)
        // Beyond the stock: the oversold is exactly what the channels sold beyond it.
        let beyond = try await burst("b", [2, 1])
        #expect(beyond == 18)
        state = try #require(t.state("HOT-1"))
        let total = state.totalLevel(now: t.clock.now())
        #expect(total.committed == 186)
        #expect(total.oversold == 18)
        let confirmed = try await t.ledger.events(seller: "s1", sku: "HOT-1").filter { $0.event.type == .orderConfirmed }
        #expect(confirmed.count == 36)
        #expect(confirmed.allSatisfy { $0.event.parts.reduce(0) { $0 + $1.qty } == $0.event.qty })
        #expect(confirmed.reduce(0) { $0 + $1.event.parts.reduce(0) { $0 + $1.qty } } == 186)
        #expect(try await t.reopened().snapshot.seller("s1")?.sku("HOT-1") == state)
    }

    @Test("a split hold is reserved at each location, survives a restart, and commits each part")
    func splitHoldCommit() async throws {
        let t = try await TestLedger()
        try await t.addSKU("CUP-1", east: 10, west: 20)
        let hold = try #require(try await t.hold("CUP-1", qty: 25).get().reservation)
        #expect(hold.allocation == [Allocation(location: "west", qty: 20), Allocation(location: "east", qty: 5)])
        #expect(try Self.stockRows(t, "CUP-1") == ["east": [10, 0, 5, 0], "west": [20, 0, 20, 0]])
        let reopened = try await t.reopened()
        #expect(reopened.snapshot.seller("s1")?.sku("CUP-1") == t.state("CUP-1"))
        _ = try await t.ledger.submit(Command(seller: "s1", source: "reservation", draft: ShelfEvent(
            type: .reservationCommitted, sku: "CUP-1", reservation: hold, occurredAt: t.clock.now()))).get()
        #expect(try Self.stockRows(t, "CUP-1") == ["east": [10, 5, 0, 0], "west": [20, 20, 0, 0]])
        let refused = await t.hold("CUP-1", qty: 6)
        #expect(refused == .failure(.refused(.insufficientStock(sku: "CUP-1", available: 5, requested: 6))))
    }

    @Test("a hold naming a location with too little stock is refused even when another location has enough")
    func explicitLocationHoldIsCheckedThere() async throws {
        let t = try await TestLedger()
        try await t.addSKU("CUP-2", east: 3, west: 50)
        let draft = ShelfEvent(type: .reservationCreated, sku: "CUP-2", location: "east", qty: 4,
                               reservation: Reservation(id: "", sku: "CUP-2", location: "east", qty: 4, expiresAt: t.clock.now().addingTimeInterval(60)),
                               occurredAt: t.clock.now())
        let result = await t.ledger.submit(Command(seller: "s1", source: "reservation", key: "h-1", draft: draft))
        #expect(result == .failure(.refused(.insufficientStock(sku: "CUP-2", available: 3, requested: 4))))
        #expect(try Self.stockRows(t, "CUP-2") == ["east": [3, 0, 0, 0], "west": [50, 0, 0, 0]])
    }

    @Test("a split whose second stock row changed under the writer is not half-applied: nothing is recorded")
    func splitIsAtomic() async throws {
        let t = try await TestLedger()
        try await t.addSKU("ATOM-1", east: 10, west: 20)
        // Change the west row behind the snapshot's back, so its compare-and-set fails after east was written.
        try await t.ledger.database.pool.write { db in
            try db.execute(sql: "UPDATE stock SET incoming = incoming + 1 WHERE sku = 'ATOM-1' AND location = 'west'")
        }
        let rows = try Self.stockRows(t, "ATOM-1")
        let events = try await t.eventCount()
        let result = await Self.order(t, "ATOM-1", qty: 25, orderId: "o-atom")
        guard case .failure(.storage) = result else {
            Issue.record("expected a storage failure, got \(result)")
            return
        }
        #expect(try Self.stockRows(t, "ATOM-1") == rows)
        #expect(try await t.eventCount() == events)
    }
}
