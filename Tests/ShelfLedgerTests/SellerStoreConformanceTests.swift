import Foundation
import ShelfCore
import ShelfLedger
import ShelfTestSupport
import Synchronization
import Testing

/// Sellers, connections, history reads and the snapshot's state rows: the same bodies on SQLite and PostgreSQL (in the
/// conformance suite, so on its cluster).
extension LedgerStoreConformanceTests {
    @Test("sellers: inserted once (also by many at once), with their profile; listed by id; settings replaced per kind",
          arguments: StoreKind.allCases)
    func sellers(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { f in
            let sellers = f.stores.sellers
            let t = f.clock.now()
            let b = SellerRow(id: "b", name: "Bee", currency: "EUR", timeZone: "Europe/Paris", createdAt: t)
            #expect(try await sellers.insert(b, profile: #"{"id":"b"}"#))
            #expect(try await !sellers.insert(SellerRow(id: "b", name: "Other", currency: "USD", timeZone: "UTC", createdAt: t), profile: "{}"))
            #expect(try await sellers.seller(id: "b") == b)
            #expect(try await sellers.profile(seller: "b") == #"{"id":"b"}"#)  // a taken id changes nothing, its profile included
            let wins = try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<12 {
                    group.addTask {
                        try await sellers.insert(SellerRow(id: "a", name: "A\(i)", currency: "USD", timeZone: "UTC", createdAt: t), profile: nil) ? 1 : 0
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(wins == 1)
            #expect(try await sellers.sellers().map(\.id) == ["a", "b"])
            #expect(try await sellers.seller(id: "nobody") == nil)
            #expect(try await sellers.profile(seller: "a") == nil)
            try await sellers.saveProfile("one", seller: "a")
            try await sellers.saveProfile("two", seller: "a")
            #expect(try await sellers.profile(seller: "a") == "two")
            #expect(try await sellers.setting("spike-policy", seller: "a") == nil)
            try await sellers.saveSetting("spike-policy", seller: "a", body: "1")
            try await sellers.saveSetting("spike-policy", seller: "a", body: "2")
            try await sellers.saveSetting("other", seller: "a", body: "x")
            #expect(try await sellers.setting("spike-policy", seller: "a") == "2")
            #expect(try await sellers.setting("other", seller: "a") == "x")
            #expect(try await sellers.setting("spike-policy", seller: "b") == nil)
        }
    }

    @Test("connections: upserted in place, listed by id, found by id across sellers, push-enabled ones by seller, deleted once",
          arguments: StoreKind.allCases)
    func connections(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { f in
            let store = f.stores.connections
            func connection(_ id: String, channel: String = "web", push: Bool = true) -> ConnectionFixture {
                ConnectionFixture(id: id, channel: channel, kind: "generic", baseURL: "http://127.0.0.1:1/\(id)", credentials: ["token": id],
                                  webhookSecret: "secret-\(id)", pollIntervalSeconds: 30, pushEnabled: push, channelLocationId: nil)
            }
            try await store.upsert(connection("web-2"), seller: "s1", at: f.clock.now())
            try await store.upsert(connection("web-1"), seller: "s1", at: f.clock.now())
            try await store.upsert(connection("web-1", push: false), seller: "s2", at: f.clock.now())
            var changed = connection("web-2", channel: "amazon")
            changed.credentials = ["token": "new", "region": "eu"]
            changed.channelLocationId = "loc-9"
            try await store.upsert(changed, seller: "s1", at: f.clock.now())
            #expect(try await store.connections(seller: "s1") == [connection("web-1"), changed])
            #expect(try await store.connections(seller: "nobody").isEmpty)
            #expect(try await store.sellers(connection: "web-1") == ["s1", "s2"])
            #expect(try await store.pushEnabled().map { "\($0.seller)/\($0.connection.id)" } == ["s1/web-1", "s1/web-2"])
            #expect(try await store.delete(id: "web-1", seller: "s1"))
            #expect(try await !store.delete(id: "web-1", seller: "s1"))
            #expect(try await store.sellers(connection: "web-1") == ["s2"])
        }
    }

    @Test("history: events by SKU and instant, newest of some types in a window, the sequence before an instant, sales events, due holds",
          arguments: StoreKind.allCases)
    func history(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { f in
            let history = f.stores.history
            #expect(try await history.isEmpty())
            let ledger = try await f.node()
            #expect(try await !history.isEmpty())
            let start = f.clock.now()  // sequences 1, 2: the locations
            try await f.addSKU(ledger, "A", east: 10)  // 3
            f.clock.advance(by: 10)
            try await f.addSKU(ledger, "B", east: 10)  // 4
            _ = try await f.order(ledger, "A", qty: 1).get()  // 5
            f.clock.advance(by: 10)
            let middle = f.clock.now()
            _ = try await f.order(ledger, "B", qty: 2).get()  // 6
            _ = try await f.order(ledger, "A", qty: 3).get()  // 7
            f.clock.advance(by: 10)
            _ = try await ledger.submit(Command(seller: "s1", source: "reservation", draft: ShelfEvent(
                type: .reservationCreated, sku: "B", qty: 1,
                reservation: Reservation(id: "", sku: "B", location: "", qty: 1, expiresAt: f.clock.now().addingTimeInterval(60)),
                occurredAt: f.clock.now()))).get()  // 8

            #expect(try await history.events(seller: "s1", sku: "A", after: 0, until: nil, limit: 100).map(\.sequence) == [3, 5, 7])
            #expect(try await history.events(seller: "s1", sku: nil, after: 4, until: middle, limit: 100).map(\.sequence) == [5, 6, 7])
            #expect(try await history.events(seller: "s1", sku: nil, after: 0, until: nil, limit: 3).map(\.sequence) == [1, 2, 3])
            let a7 = try #require(try await history.events(seller: "s1", sku: "A", after: 6, until: nil, limit: 1).first)
            #expect(a7.event.type == .orderConfirmed && a7.event.qty == 3 && a7.source == "direct" && a7.recordedAt == middle)

            let orders: Set<EventType> = [.orderConfirmed]
            #expect(try await history.newest(NewestEventsQuery(seller: "s1", sku: nil, types: orders, limit: 100)).map(\.sequence) == [7, 6, 5])
            #expect(try await history.newest(NewestEventsQuery(seller: "s1", sku: "A", types: orders, limit: 1)).map(\.sequence) == [7])
            #expect(try await history.newest(NewestEventsQuery(seller: "s1", sku: nil, types: [.orderConfirmed, .skuUpserted],
                                                               beforeSequence: 6, limit: 100)).map(\.sequence) == [5, 4, 3])
            #expect(try await history.newest(NewestEventsQuery(seller: "s1", sku: nil, types: orders, afterSequence: 5,
                                                               recordedAfter: start, recordedThrough: middle, limit: 100)).map(\.sequence) == [7, 6])
            #expect(try await history.newest(NewestEventsQuery(seller: "s1", sku: nil, types: [], limit: 100)).isEmpty)

            #expect(try await history.sequence(seller: "s1", before: start) == 0)
            #expect(try await history.sequence(seller: "s1", before: start.addingTimeInterval(1)) == 3)
            #expect(try await history.sequence(seller: "s1", before: middle) == 5)
            #expect(try await history.sequence(seller: "s1", before: f.clock.now().addingTimeInterval(1)) == 8)
            #expect(try await history.sequence(seller: "nobody", before: middle) == 0)

            // The newest 3 sales events after sequence 3 in (start, now]: 5, 6, 7 (4 is the upsert at +10 s, left out by the limit).
            let seen = SalesSeen()
            try await history.salesEvents(seller: "s1", afterSequence: 3, recordedAfter: start, through: f.clock.now(), limit: 3) { seen.add($0) }
            #expect(seen.events.map(\.sequence) == [5, 6, 7])
            let all = SalesSeen()
            try await history.salesEvents(seller: "s1", afterSequence: 0, recordedAfter: start.addingTimeInterval(-1), through: middle,
                                          limit: 100) { all.add($0) }
            #expect(all.events.map(\.sequence) == [3, 4, 5, 6, 7])
            // An upsert comes bare (its SKU and time only); an order whole.
            #expect(all.events[1].event.type == .skuUpserted && all.events[1].event.sku == "B" && all.events[1].event.item == nil)
            #expect(all.events[4].event.qty == 3 && all.events[4].event.channel == "amazon")

            #expect(try await history.dueHolds(at: f.clock.now(), limit: 10).isEmpty)
            let due = try await history.dueHolds(at: f.clock.now().addingTimeInterval(60), limit: 10)
            #expect(due.count == 1 && due.first?.seller == "s1" && due.first?.sku == "B")
        }
    }

    @Test("snapshot state: every SKU's stock, listings and holds as the live snapshot holds them; progress counts; a bad row quarantines its SKU",
          arguments: StoreKind.allCases)
    func snapshotState(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { f in
            let ledger = try await f.node()
            for (i, sku) in ["A", "B", "C", "D"].enumerated() { try await f.addSKU(ledger, sku, east: 10 + i, channels: i.isMultiple(of: 2) ? ["amazon"] : []) }
            _ = try await f.order(ledger, "A", qty: 2).get()
            _ = try await ledger.submit(Command(seller: "s1", source: "reservation", draft: ShelfEvent(
                type: .reservationCreated, sku: "C", qty: 4,
                reservation: Reservation(id: "", sku: "C", location: "", qty: 4, expiresAt: f.clock.now().addingTimeInterval(600)),
                occurredAt: f.clock.now()))).get()
            let live = try #require(ledger.snapshot.seller("s1"))
            let progress = RebuildProgress()
            let loaded = try await f.stores.state.loadState(progress: progress)
            #expect(loaded.map(\.seller) == ["s1"])
            let s1 = try #require(loaded.first)
            #expect(progress.total == 4 && progress.loaded == 4)
            #expect(s1.count == 4 && s1.quarantined.isEmpty)
            for state in live.allStates() { #expect(s1[state.sku] == state) }
            #expect(s1["C"]?.holds.first?.qty == 4)
            #expect(s1.catalog.locations.map(\.id).sorted() == ["east", "west"])
            #expect(s1.lastSequence == live.lastSequence && s1.lastRecordedAt == live.lastRecordedAt)

            // A stock figure out of Limits keeps its SKU out, with the reason; the others load.
            try await f.execute("UPDATE stock SET onHand = -5 WHERE seller = 's1' AND sku = 'B'")
            let damaged = try #require(try await f.stores.state.loadState(progress: RebuildProgress()).first)
            #expect(damaged.count == 3 && damaged["B"] == nil)
            #expect(damaged.quarantined["B"]?.contains("lies outside") == true)
            // The ledger quarantines it at rebuild and refuses writes to it.
            let again = try await f.node(setUp: false)
            #expect(again.snapshot.seller("s1")?.quarantineReason("B") != nil)
            #expect(again.snapshot.seller("s1")?.sku("A") == live.sku("A"))
        }
    }
}

/// Sales events handed over one at a time (the body is `@Sendable`).
final class SalesSeen: Sendable {
    private let seen = Mutex<[LedgerEvent]>([])
    func add(_ e: LedgerEvent) { seen.withLock { $0.append(e) } }
    var events: [LedgerEvent] { seen.withLock { $0 } }
}
