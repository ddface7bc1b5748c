import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import ShelfCore
import Synchronization
import Testing
import ShelfTestSupport
import ShelfLedger
import ShelfPostgres

/// Several nodes on one PostgreSQL database: each tails the others' writes (`PostgresChangeTail`), and one at a time runs the
/// singletons (`PostgresLeadership`). Real PostgreSQL, real notifications and locks.
@Suite("Several nodes on one PostgreSQL", .postgresCluster, .timeLimit(.minutes(2)))
struct ClusterTests {
    /// Polls `condition` every 10 ms for at most `seconds`; true when it held.
    static func eventually(within seconds: Double = 5, _ condition: @Sendable () async throws -> Bool) async rethrows -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return try await condition()
    }

    /// Runs `tail` until `body` returns.
    static func running<T: Sendable>(_ services: [any Service], _ body: () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for service in services { group.addTask { try await service.run() } }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    static func available(_ ledger: Ledger, _ sku: String) -> Int? {
        ledger.snapshot.seller("s1")?.sku(sku)?.available(now: ledger.clock.now())
    }

    @Test("a write on one node is applied to another node's snapshot, announced and read by sequence")
    func writeVisibleOnOtherNode() async throws {
        try await StoreFixture.with(.postgres) { f in
            let (client, connection) = try #require(f.postgres)
            let a = try await f.node()
            let b = try await f.node(setUp: false)
            // B starts level with the store (A's set-up already followed), so any sweep that finds it behind is a failure.
            await b.follow(sellers: ["s1"])
            #expect(b.snapshot.seller("s1")?.lastSequence == a.snapshot.seller("s1")?.lastSequence)
            let heard = Mutex<[ClusterChange]>([])
            // A long sweep interval: only the notification can bring the change this fast.
            let tail = PostgresChangeTail(configuration: connection, client: client, ledger: b, sweepInterval: .seconds(60)) { change in
                heard.withLock { $0.append(change) }
            }
            try await Self.running([tail]) {
                #expect(await Self.eventually { tail.stats.connects == 1 })
                try await f.addSKU(a, "TEE", east: 7)
                #expect(await Self.eventually { Self.available(b, "TEE") == 7 })
                #expect(b.snapshot.seller("s1")?.lastSequence == a.snapshot.seller("s1")?.lastSequence)
                _ = try await f.order(a, "TEE", qty: 3).get()
                #expect(await Self.eventually { Self.available(b, "TEE") == 4 })
                #expect(tail.stats.notifications >= 2)
                #expect(tail.stats.sweptBehind == 0)
                // B's own write, decided on what it followed, is visible to A's next read of the store.
                _ = try await f.order(b, "TEE", qty: 1).get()
                #expect(Self.available(b, "TEE") == 3)
                let events = try await f.allEvents()
                #expect(events.map(\.sequence) == Array(1...Int64(events.count)))
            }
            // On (re)connect the tail announces `.everything`, so other caches reload.
            #expect(heard.withLock { $0.contains(.everything) })
        }
    }

    @Test("a node that was not listening catches up from the store by sequence when it starts; the sweep finds what notifications miss")
    func lateNodeCatchesUp() async throws {
        try await StoreFixture.with(.postgres) { f in
            let (client, connection) = try #require(f.postgres)
            let a = try await f.node()
            let b = try await f.node(setUp: false)
            for i in 0..<30 { try await f.addSKU(a, "SKU-\(i)", east: i) }
            #expect(Self.available(b, "SKU-29") == nil)
            let tail = PostgresChangeTail(configuration: connection, client: client, ledger: b, sweepInterval: .seconds(60)) { _ in }
            try await Self.running([tail]) {
                #expect(await Self.eventually { Self.available(b, "SKU-29") == 29 })
                for i in 0..<30 { #expect(Self.available(b, "SKU-\(i)") == i) }
                #expect(tail.stats.sweptBehind == 1)
                // A seller B has never seen (created by another node): its events are read from the first.
                let other = Command(seller: "s2", source: "test", draft: ShelfEvent(
                    type: .locationUpserted, locationInfo: Location(id: "x", name: "X", timeZone: "UTC", priority: 0), occurredAt: f.clock.now()))
                try await a.ensureSeller(id: "s2", name: "Two", currency: "EUR", timeZone: "UTC")
                _ = try await a.submit(other).get()
                #expect(await Self.eventually { b.snapshot.seller("s2")?.catalog.locations.map(\.id) == ["x"] })
            }
            // A sweep alone (no notification) brings a node up to the store.
            try await f.addSKU(a, "LATE", east: 5)
            #expect(Self.available(b, "LATE") == nil)
            await tail.sweep()
            #expect(await Self.eventually { Self.available(b, "LATE") == 5 })
        }
    }

    @Test("a token revoked on one node is refused by another node's cache once the revocation is announced")
    func revocationAcrossNodes() async throws {
        try await StoreFixture.with(.postgres) { f in
            let (client, connection) = try #require(f.postgres)
            let b = try await f.node(setUp: false)
            let nodeA = TokenStore(records: f.stores.tokens, clock: f.clock)
            let nodeB = TokenStore(records: f.stores.tokens, clock: f.clock)
            let (info, secret) = try await nodeA.create(seller: "s1", scopes: [.read], ttl: nil)
            // B has the token in its cache: without the announcement it would keep accepting it.
            #expect(await nodeB.authenticate(secret)?.id == info.id)
            let tail = PostgresChangeTail(configuration: connection, client: client, ledger: b, sweepInterval: .seconds(60)) { change in
                if case .tokens(let seller) = change { nodeB.forget(seller: seller) }
            }
            try await Self.running([tail]) {
                #expect(await Self.eventually { tail.stats.connects == 1 })
                let revoked = try await nodeA.revoke(id: info.id, seller: "s1")
                #expect(revoked)
                #expect(await Self.eventually { await nodeB.authenticate(secret) == nil })
            }
        }
    }

    @Test("one node at a time runs the singletons; when the leader's session dies, it stops them and another node takes over")
    func leadershipFailsOver() async throws {
        try await StoreFixture.with(.postgres) { f in
            let (client, connection) = try #require(f.postgres)
            try await Self.failOver(client: client, connection: connection)
        }
    }

    static func failOver(client: PostgresClient, connection: PostgresConnection.Configuration) async throws {
        let log = LogBook()
        let probes = [Probe("n1", log: log), Probe("n2", log: log)]
        let nodes = probes.map { probe in
            PostgresLeadership(configuration: connection, retry: .milliseconds(50), heartbeat: .milliseconds(50),
                               heartbeatTimeout: .seconds(1), singletons: { [probe] })
        }
        let outcomes = Outcomes()
        let tasks = nodes.enumerated().map { i, node in
            Task {
                do {
                    try await node.run()
                    outcomes.set(i, "returned")
                } catch let lost as PostgresLeadership.LeadershipLost {
                    outcomes.set(i, "lost: \(lost.reason)")
                } catch {
                    outcomes.set(i, "\(error)")
                }
            }
        }
        defer { for t in tasks { t.cancel() } }
        #expect(await eventually { nodes.filter(\.isLeader).count == 1 })
        let first = try #require(nodes.firstIndex { $0.isLeader })
        let second = 1 - first
        // Once it has had time to start them, the leader alone runs the singletons.
        #expect(await eventually { probes[first].running })
        try await Task.sleep(for: .milliseconds(300))
        #expect(nodes.filter(\.isLeader).count == 1)
        #expect(probes.filter(\.running).map(\.name) == [probes[first].name])
        // The leader's session ends (as when its node dies or its connection is cut).
        let key = PostgresLeadership.lockKey & 0xFFFF_FFFF
        try await client.query(
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid::bigint = \(key)",
            logger: Logger(label: "test")
        )
        #expect(await eventually { outcomes.get(first)?.hasPrefix("lost") == true })
        #expect(await eventually { nodes[second].isLeader && probes[second].running })
        #expect(!probes[first].running)
        #expect(!nodes[first].isLeader)
        // The old leader stopped its singleton before the new one started it.
        let entries = log.entries
        let stopped = try #require(entries.firstIndex(of: "stop \(probes[first].name)"))
        let started = try #require(entries.firstIndex(of: "start \(probes[second].name)"))
        #expect(stopped < started)
    }
}

/// What each node's `run` ended with.
final class Outcomes: Sendable {
    private let values = Mutex<[Int: String]>([:])
    func set(_ i: Int, _ value: String) { values.withLock { $0[i] = value } }
    func get(_ i: Int) -> String? { values.withLock { $0[i] } }
}

/// Lines written by the probes, in order.
final class LogBook: Sendable {
    let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var entries: [String] { lines.withLock { $0 } }
}

/// A singleton that records when it runs.
final class Probe: Service, Sendable {
    let name: String
    private let flag = Atomic<Bool>(false)
    var running: Bool { flag.load(ordering: .acquiring) }

    let log: LogBook

    init(_ name: String, log: LogBook) {
        self.name = name
        self.log = log
    }

    func run() async throws {
        flag.store(true, ordering: .releasing)
        log.append("start \(name)")
        defer {
            flag.store(false, ordering: .releasing)
            log.append("stop \(name)")
        }
        try? await gracefulShutdown()
    }
}
