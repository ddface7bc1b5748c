import Foundation
import Logging
import ServiceLifecycle
import ShelfConnectors
import ShelfCore
import ShelfCurl
import ShelfLedger
import Synchronization

/// Keeps one push worker per push-enabled channel connection: starts a worker when a connection is added or enabled, stops it
/// when the connection is removed or disabled, and replaces it when its settings (credentials, URL, location) change. Each
/// worker pushes its channel on its own (see `ConnectionWorker`): there is no global pass and no barrier, so one slow or
/// failing channel delays nobody else. The registry also keeps what applies to all of them: the settlement queue that writes
/// outcomes and clears the outbox, rule-requested priorities, and the counters and gauges `/metrics` shows.
public final class ConnectionRegistry: Service, Sendable {
    struct Running: Sendable {
        var worker: ConnectionWorker
        var connection: ConnectionFixture
        var task: Task<Void, Never>?
    }

    struct State {
        var workers: [String: Running] = [:]
        /// Whether `run` is following the feed (workers then run their own loops).
        var running = false
        /// Counters of workers that were stopped, so totals never go backwards.
        var retired = PushStats()
    }

    let ledger: Ledger
    let curl: CurlClient
    let pulses: ChannelPulseBoard
    /// Sales velocity: among SKUs due at once, the fastest selling are pushed first.
    let velocity: SalesVelocity?
    let policy: PushPolicy
    let logger: Logger
    let onDelivered: @Sendable (_ connection: String, _ lag: TimeInterval) -> Void
    private let state = Mutex(State())
    /// Per seller and SKU: pushed ahead of everything else until this instant (a rule's `prioritize_sync`).
    private let priorities = Mutex<[String: Date]>([:])
    private let settlementBox = Mutex<PushSettlement?>(nil)

    public init(ledger: Ledger, curl: CurlClient, pulses: ChannelPulseBoard, velocity: SalesVelocity? = nil, policy: PushPolicy = PushPolicy(),
                logger: Logger = Logger(label: "shelf.push"),
                onDelivered: @escaping @Sendable (_ connection: String, _ lag: TimeInterval) -> Void = { _, _ in }) {
        self.ledger = ledger
        self.curl = curl
        self.pulses = pulses
        self.velocity = velocity
        self.policy = policy
        self.logger = logger
        self.onDelivered = onDelivered
    }

    var clock: any WallClock { ledger.clock }

    /// The settlement queue (built on first use: it calls back into the registry for the live connections).
    var settlement: PushSettlement {
        settlementBox.withLock { box in
            if let existing = box { return existing }
            let made = PushSettlement(
                ledger: ledger, logger: logger,
                liveConnections: { [weak self] seller in self?.liveConnections(seller: seller) ?? [] },
                recordFailures: { [weak self] failures in await self?.recordFailures(failures) }
            )
            box = made
            return made
        }
    }

    // MARK: Service

    public func run() async throws {
        // Nothing to do until start-up has built the snapshot; a shutdown during start-up ends the service at once.
        guard await ledger.snapshot.readyOrShutdown() else { return }
        let events = ledger.snapshot.feed.subscribe()
        state.withLock { $0.running = true }
        do {
            let dropped = try await ledger.discardUnpushable()
            if dropped > 0 { logger.notice("outbox rows of sellers without a push-enabled connection dropped", metadata: ["rows": "\(dropped)"]) }
        } catch {
            logger.error("outbox could not be tidied", metadata: ["error": "\(error)"])
        }
        await synchronize()
        await withGracefulShutdownHandler {
            // Connections change through the ledger, which pokes the feed (an empty batch); so do requested pushes and replays.
            for await batch in events where batch.isEmpty { await synchronize() }
        } onGracefulShutdown: {
            events.cancel()
        }
        let stopping = state.withLock { s -> [Task<Void, Never>] in
            s.running = false
            return s.workers.values.compactMap(\.task)
        }
        for task in stopping { task.cancel() }
        for task in stopping { await task.value }
        await settlement.flush()
    }

    /// Wakes every worker to read its queues now (a replay, a reconciliation, a requested push).
    public func poke() { ledger.snapshot.feed.poke() }

    /// Starts, stops and replaces workers to match the ledger's push-enabled connections, then hands every worker its queued
    /// pushes (one read for all of them).
    public func synchronize() async {
        let wanted: [String: (seller: String, connection: ConnectionFixture)]
        do {
            wanted = Dictionary(try await ledger.pushEnabledConnections().map { ("\($0.seller)\u{0}\($0.connection.id)", $0) },
                                uniquingKeysWith: { a, _ in a })
        } catch {
            logger.error("connections could not be read; workers left as they are", metadata: ["error": "\(error)"])
            return
        }
        var stopped: [(seller: String, connection: String, task: Task<Void, Never>?)] = []
        state.withLock { s in
            for (key, running) in s.workers where wanted[key]?.connection != running.connection {
                // Removed, disabled or changed: the old worker stops (a changed one is replaced below, in the same step, so
                // the settlement never sees the connection missing).
                s.workers.removeValue(forKey: key)
                s.retired = s.retired + running.worker.gauges(now: clock.now()).stats
                if wanted[key] == nil { stopped.append((running.worker.seller, running.worker.connectionID, running.task)) }
                else { running.task?.cancel() }
            }
            for (key, want) in wanted where s.workers[key] == nil {
                guard let link = ChannelLink(seller: want.seller, connection: want.connection) else { continue }
                s.workers[key] = Running(worker: makeWorker(link), connection: want.connection, task: nil)
            }
            // Each worker's loop starts with its subscription positioned before the queues are read below.
            for (key, running) in s.workers where running.task == nil && s.running {
                let subscription = ledger.snapshot.feed.subscribe()
                let worker = running.worker
                s.workers[key]?.task = Task { await worker.run(subscription) }
            }
        }
        for s in stopped {
            s.task?.cancel()
            settlement.forget(seller: s.seller, connection: s.connection)
        }
        await reloadQueues()
    }

    /// Reads the outbox and the retry queue once and hands each worker its part, then wakes them.
    func reloadQueues() async {
        let pending: (outbox: [OutboxRow], retries: [PushQueue.RetryRow])
        do {
            pending = try await ledger.pushQueue.pendingPushes()
        } catch {
            logger.error("push queues could not be read", metadata: ["error": "\(error)"])
            return
        }
        // Retries of a connection that no longer exists (deleting a connection removes its row, then its retries; a crash in
        // between leaves them) are discarded here, so they neither wait forever nor reach a later connection of that id.
        for seller in Set(pending.retries.map(\.seller)) {
            guard let known = try? await Set(ledger.connections(seller: seller).map(\.id)) else { continue }
            for connection in Set(pending.retries.filter { $0.seller == seller && !known.contains($0.connection) }.map(\.connection)) {
                do {
                    try await ledger.pushQueue.discardRetries(seller: seller, connection: connection)
                    logger.notice("retries of a deleted connection discarded", metadata: ["seller": "\(seller)", "connection": "\(connection)"])
                } catch {
                    logger.error("retries of a deleted connection could not be discarded", metadata: ["error": "\(error)"])
                }
            }
        }
        let outbox = Dictionary(grouping: pending.outbox, by: \.seller)
        let retries = Dictionary(grouping: pending.retries) { "\($0.seller)\u{0}\($0.connection)" }
        for (key, worker) in workers {
            worker.absorb(outbox: outbox[worker.seller] ?? [], retries: retries[key] ?? [])
            worker.signal()
        }
    }

    private func makeWorker(_ link: ChannelLink) -> ConnectionWorker {
        ConnectionWorker(
            link: link, ledger: ledger, curl: curl, policy: policy, settlement: settlement, pulses: pulses, logger: logger,
            order: { [weak self] seller, due, now in self?.hotFirst(seller: seller, due, now: now) ?? due },
            onDelivered: onDelivered
        )
    }

    /// The ids of the seller's connections that have a worker.
    func liveConnections(seller: String) -> Set<String> {
        let prefix = "\(seller)\u{0}"
        return state.withLock { s in Set(s.workers.keys.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }) }
    }

    /// The workers now, by `seller\0connection`.
    var workers: [String: ConnectionWorker] { state.withLock { $0.workers.mapValues(\.worker) } }

    /// The connections that have a worker (`seller`, `connection`), sorted.
    public var connections: [(seller: String, connection: String)] {
        workers.values.map { ($0.seller, $0.connectionID) }.sorted { ($0.seller, $0.connection) < ($1.seller, $1.connection) }
    }

    // MARK: One pass (tools and tests)

    /// Synchronizes the workers and has each push everything due now once, concurrently, ignoring the pacing budget; waits
    /// for the answers to be recorded (dead letters included). Returns the pushes attempted (one per SKU and request).
    @discardableResult
    public func drainOnce() async -> Int {
        await synchronize()
        let all = Array(workers.values)
        let attempted = await withTaskGroup(of: Int.self) { group in
            for worker in all { group.addTask { await worker.drainOnce() } }
            var total = 0
            for await n in group { total += n }
            return total
        }
        await settlement.flush()
        return attempted
    }

    // MARK: Observability

    /// Pushes attempted, delivered, retried and dead-lettered so far, over every worker.
    public var stats: PushStats {
        let now = clock.now()
        let (retired, live) = state.withLock { s in (s.retired, s.workers.values.map(\.worker)) }
        return live.reduce(retired) { $0 + $1.gauges(now: now).stats }
    }

    /// Each worker's queue depth, requests in flight, lag and counters at `now`, sorted by seller and connection.
    public func gauges(now: Date) -> [WorkerGauges] {
        workers.values.map { $0.gauges(now: now) }.sorted { ($0.seller, $0.connection) < ($1.seller, $1.connection) }
    }

    /// How far behind each of the seller's connections is at `now`: the age of the oldest change it has not acknowledged
    /// (retrying, rate limited or dead-lettered since pushes last went through cleanly). Connections caught up are absent.
    public func syncLag(seller: String, now: Date) -> [String: TimeInterval] {
        var out: [String: TimeInterval] = [:]
        for worker in workers.values where worker.seller == seller {
            if let lag = worker.syncLag(now: now) { out[worker.connectionID] = lag }
        }
        return out
    }

    // MARK: Priorities

    /// Pushes these SKUs ahead of every other due SKU (spikes included) until `until`.
    public func prioritize(seller: String, skus: [String], until: Date) {
        priorities.withLock { map in
            for sku in skus { map["\(seller)\u{0}\(sku)"] = max(until, map["\(seller)\u{0}\(sku)"] ?? until) }
        }
        poke()
    }

    /// True while a rule has put the SKU first in line.
    public func isPrioritized(seller: String, sku: String, now: Date) -> Bool {
        priorities.withLock { ($0["\(seller)\u{0}\(sku)"] ?? .distantPast) > now }
    }

    /// How hot a SKU is for push ordering: its spike multiplier and its sales velocity (units/s, from `SalesVelocity`).
    public func heat(seller: String, sku: String, now: Date) -> (spike: Int, rate: Double) {
        (ledger.snapshot.seller(seller)?.sku(sku)?.spikeMultiplier ?? 1, velocity?.totalRate(seller: seller, sku: sku, now: now) ?? 0)
    }

    /// The SKUs in the order their pending pushes would go out (prioritised, then spiking, then fastest selling; ties by name).
    public func pushOrder(seller: String, skus: [String], now: Date) -> [String] {
        let urgent = priorities.withLock { map in Set(map.filter { $0.value > now }.keys) }
        let keyed = skus.map { sku in (sku: sku, urgent: urgent.contains("\(seller)\u{0}\(sku)"), heat: heat(seller: seller, sku: sku, now: now)) }
        return keyed.sorted { a, b in
            if a.urgent != b.urgent { return a.urgent }
            if a.heat.spike != b.heat.spike { return a.heat.spike > b.heat.spike }
            if a.heat.rate != b.heat.rate { return a.heat.rate > b.heat.rate }
            return a.sku < b.sku
        }.map(\.sku)
    }

    /// Orders due SKUs: prioritised, then higher spike multiplier, then higher sales velocity, then older change.
    func hotFirst(seller: String, _ due: [PushCoalescer.Taken], now: Date) -> [PushCoalescer.Taken] {
        let urgent = priorities.withLock { map in
            map = map.filter { $0.value > now }
            return Set(map.keys)
        }
        var keys: [String: (urgent: Bool, spike: Int, rate: Double)] = [:]
        for t in due {
            let h = heat(seller: seller, sku: t.sku, now: now)
            keys[t.sku] = (urgent.contains("\(seller)\u{0}\(t.sku)"), h.spike, h.rate)
        }
        return due.sorted { a, b in
            let (ka, kb) = (keys[a.sku]!, keys[b.sku]!)
            if ka.urgent != kb.urgent { return ka.urgent }
            if ka.spike != kb.spike { return ka.spike > kb.spike }
            if ka.rate != kb.rate { return ka.rate > kb.rate }
            return a.entry.sequence < b.entry.sequence
        }
    }

    // MARK: Dead letters

    /// Each dead-lettered push becomes a `sync.failed` fact in the ledger (the audit trail, and what `sync.failed` rules run on).
    func recordFailures(_ failures: [PushSettlement.DeadLetterNotice]) async {
        guard !failures.isEmpty else { return }
        let now = clock.now()
        let commands = failures.map { f in
            // A SKU deleted since its push was queued can no longer carry events: the failure is then the seller's, naming it.
            let active = ledger.snapshot.seller(f.seller)?.sku(f.sku)?.item.active == true
            return Command(seller: f.seller, source: "push:\(f.connection)", draft: ShelfEvent(
                type: .syncFailed, sku: active ? f.sku : nil, channel: f.channel,
                note: "push\(active ? "" : " of \(f.sku)") to \(f.connection) dead-lettered after \(f.attempts) attempt(s): \(f.error)",
                occurredAt: now))
        }
        for result in await ledger.submit(commands) {
            if case .failure(let error) = result { logger.warning("sync.failed not recorded", metadata: ["error": "\(error)"]) }
        }
    }
}
