import Foundation
import Logging
import ServiceLifecycle
import ShelfConnectors
import ShelfCore
import ShelfCurl
import ShelfLedger
import Synchronization

/// Pushes each channel its new published quantity and price. Reads the durable outbox (one row per changed SKU), fans it out to
/// every push-enabled connection that lists the SKU, and sends the *current* value from the snapshot, so bursts coalesce.
/// Transient failures retry with exponential backoff and full jitter; 429 waits for Retry-After; after the retry budget a push
/// goes to the dead-letter queue. Nothing is dropped: a push leaves the outbox only when it was delivered or dead-lettered.
public final class Propagator: Service, Sendable {
    /// Retry policy.
    public struct Policy: Sendable {
        public var maxAttempts: Int
        public var baseDelay: TimeInterval
        public var maxDelay: TimeInterval
        public var requestTimeout: Duration

        public init(maxAttempts: Int = 6, baseDelay: TimeInterval = 0.2, maxDelay: TimeInterval = 30, requestTimeout: Duration = .seconds(5)) {
            self.maxAttempts = maxAttempts
            self.baseDelay = baseDelay
            self.maxDelay = maxDelay
            self.requestTimeout = requestTimeout
        }
    }

    let ledger: Ledger
    let curl: CurlClient
    let pulses: ChannelPulseBoard
    /// Sales velocity: among jobs of equal urgency, the SKUs selling fastest are pushed first.
    let velocity: SalesVelocity?
    let policy: Policy
    let logger: Logger
    private let wake = Mutex<AsyncStream<Void>.Continuation?>(nil)
    private let blockedUntil = Mutex<[String: Date]>([:])
    private let counters = Mutex(PropagatorStats())
    /// Per seller and connection: when the oldest change it has not acknowledged was recorded (absent when caught up).
    private let behindSince = Mutex<[String: Date]>([:])
    /// Per seller and SKU: pushed ahead of everything else until this instant (a rule's `prioritize_sync`).
    private let priorities = Mutex<[String: Date]>([:])
    /// Called for each delivered push with the connection and the sync lag (event recorded → channel acknowledged).
    let onDelivered: @Sendable (_ connection: String, _ lag: TimeInterval) -> Void

    /// Pushes attempted, delivered, retried and dead-lettered so far.
    public var stats: PropagatorStats { counters.withLock { $0 } }

    public init(ledger: Ledger, curl: CurlClient, pulses: ChannelPulseBoard, velocity: SalesVelocity? = nil, policy: Policy = Policy(),
                logger: Logger = Logger(label: "shelf.propagator"),
                onDelivered: @escaping @Sendable (_ connection: String, _ lag: TimeInterval) -> Void = { _, _ in }) {
        self.ledger = ledger
        self.onDelivered = onDelivered
        self.curl = curl
        self.pulses = pulses
        self.velocity = velocity
        self.policy = policy
        self.logger = logger
    }

    var clock: any WallClock { ledger.clock }

    public func run() async throws {
        // Nothing to do until start-up has built the snapshot; a shutdown during start-up ends the service at once.
        guard await ledger.snapshot.readyOrShutdown() else { return }
        let (wakeups, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        wake.withLock { $0 = continuation }
        let events = ledger.snapshot.feed.subscribe()
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await _ in events { continuation.yield() }
                }
                group.addTask {
                    // A heartbeat so due retries are noticed without new events.
                    while !Task.isCancelled {
                        try await Task.sleep(for: .milliseconds(100))
                        continuation.yield()
                    }
                }
                continuation.yield()
                for await _ in wakeups {
                    await drainOnce()
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            continuation.finish()
        }
    }

    /// Asks the loop to look at the outbox now.
    public func poke() { _ = wake.withLock { $0?.yield() } }

    /// How far behind each of the seller's connections is at `now`: the age of the oldest change it has not acknowledged
    /// (retrying, rate limited or dead-lettered since its last clean pass). Connections that are caught up are absent.
    public func syncLag(seller: String, now: Date) -> [String: TimeInterval] {
        let prefix = "\(seller)\u{0}"
        return behindSince.withLock { map in
            var out: [String: TimeInterval] = [:]
            for (key, since) in map where key.hasPrefix(prefix) { out[String(key.dropFirst(prefix.count))] = max(0, now.timeIntervalSince(since)) }
            return out
        }
    }

    /// Pushes these SKUs ahead of every other job (spikes included) until `until`.
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

    /// One pass: every outbox row and every due retry is pushed once. Returns the number of pushes attempted.
    @discardableResult
    public func drainOnce() async -> Int {
        let now = clock.now()
        let work: Work
        do {
            work = try await collect(now: now)
        } catch {
            logger.error("propagator could not read the outbox", metadata: ["error": "\(error)"])
            return 0
        }
        guard !work.jobs.isEmpty || !work.outbox.isEmpty else { return 0 }
        let results = await withTaskGroup(of: [JobResult].self) { group in
            for (key, jobs) in Dictionary(grouping: work.jobs, by: { "\($0.link.seller)\u{0}\($0.link.connection.id)" }) {
                if let until = blockedUntil.withLock({ $0[key] }), until > now {
                    group.addTask { jobs.map { JobResult(job: $0, outcome: .rateLimited(retryAfterSeconds: Int(until.timeIntervalSince(now).rounded(.up)))) } }
                    continue
                }
                group.addTask { await self.push(jobs) }
            }
            var all: [JobResult] = []
            for await r in group { all += r }
            return all
        }
        await record(results, outbox: work.outbox, now: now)
        return results.count
    }

    struct Job: Sendable {
        var link: ChannelLink
        var sku: String
        var sequence: Int64
        var attempts: Int
        var update: ListingUpdate
    }

    struct JobResult: Sendable {
        var job: Job
        var outcome: PushOutcome
    }

    struct Work: Sendable {
        var jobs: [Job]
        /// Outbox rows fanned out in this pass.
        var outbox: [PushQueue.OutboxRow]
    }

    private func collect(now: Date) async throws -> Work {
        let pending = try await ledger.pushQueue.pending()
        // A (connection, SKU) already waiting for a retry keeps its backoff; new changes ride on that retry.
        let waiting = Set(pending.retries.map { "\($0.seller)\u{0}\($0.connection)\u{0}\($0.sku)" })
        let retryRows = pending.retries.filter { $0.nextAttemptAt <= now }
        var links: [String: [ChannelLink]] = [:]
        for seller in pending.pushingSellers {
            links[seller] = try ledger.connections(seller: seller).filter(\.pushEnabled).compactMap { ChannelLink(seller: seller, connection: $0) }
        }
        var jobs: [String: Job] = [:]
        var outbox: [PushQueue.OutboxRow] = []
        for row in pending.outbox {
            let (seller, sku, sequence) = (row.seller, row.sku, row.sequence)
            // The row is committed a moment before the snapshot publishes the state it stands for: leave it for the next
            // pass rather than push (and then delete the row for) a value older than its sequence.
            let state = ledger.snapshot.seller(seller)?.sku(sku)
            if let state, state.lastSequence < sequence { continue }
            outbox.append(row)
            guard let state else { continue }
            for link in links[seller] ?? [] {
                guard let update = link.update(for: state, now: now) else { continue }
                guard !waiting.contains("\(seller)\u{0}\(link.connection.id)\u{0}\(sku)") else { continue }
                jobs["\(seller)\u{0}\(link.connection.id)\u{0}\(sku)"] = Job(link: link, sku: sku, sequence: sequence, attempts: 0, update: update)
            }
        }
        for row in retryRows {
            guard let link = links[row.seller]?.first(where: { $0.connection.id == row.connection }),
                  let state = ledger.snapshot.seller(row.seller)?.sku(row.sku), let update = link.update(for: state, now: now)
            else { continue }
            let key = "\(row.seller)\u{0}\(row.connection)\u{0}\(row.sku)"
            jobs[key] = Job(link: link, sku: row.sku, sequence: max(row.sequence, jobs[key]?.sequence ?? 0), attempts: row.attempts, update: update)
        }
        // SKUs a rule prioritised go first, then SKUs in a demand spike, then the fastest sellers: their quantities matter most.
        let urgent = priorities.withLock { map in
            map = map.filter { $0.value > now }
            return Set(map.keys)
        }
        let ordered = Self.hotFirst(Array(jobs.values), urgent: urgent) { heat(seller: $0, sku: $1, now: now) }
        return Work(jobs: ordered, outbox: outbox)
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

    /// Orders jobs: prioritised SKUs, then higher spike multiplier, then higher sales velocity, then older sequence.
    static func hotFirst(_ jobs: [Job], urgent: Set<String>, heat: (_ seller: String, _ sku: String) -> (spike: Int, rate: Double)) -> [Job] {
        var keys: [String: (urgent: Bool, spike: Int, rate: Double)] = [:]
        for job in jobs {
            let key = "\(job.link.seller)\u{0}\(job.sku)"
            if keys[key] == nil {
                let h = heat(job.link.seller, job.sku)
                keys[key] = (urgent.contains(key), h.spike, h.rate)
            }
        }
        return jobs.sorted { a, b in
            let ka = keys["\(a.link.seller)\u{0}\(a.sku)"]!
            let kb = keys["\(b.link.seller)\u{0}\(b.sku)"]!
            if ka.urgent != kb.urgent { return ka.urgent }
            if ka.spike != kb.spike { return ka.spike > kb.spike }
            if ka.rate != kb.rate { return ka.rate > kb.rate }
            return a.sequence < b.sequence
        }
    }

    /// Sends one connection's jobs (batched by the connector) and classifies each.
    private func push(_ jobs: [Job]) async -> [JobResult] {
        guard let link = jobs.first?.link else { return [] }
        let bySKU = Dictionary(jobs.map { ($0.sku, $0) }, uniquingKeysWith: { a, _ in a })
        let requests: [ChannelHTTPRequest]
        do {
            requests = try link.connector.pushRequests(jobs.map(\.update), settings: link.settings)
        } catch {
            return jobs.map { JobResult(job: $0, outcome: .rejected(reason: "\(error)", skus: [$0.sku])) }
        }
        var results: [JobResult] = []
        for request in requests {
            let covered = request.skus.isEmpty ? jobs.map(\.sku) : request.skus
            let outcome: PushOutcome
            do {
                let response = try await curl.execute(request.curlRequest(timeout: policy.requestTimeout))
                outcome = link.connector.pushOutcome(status: response.status, headers: response.lowercasedHeaders, body: response.body)
            } catch let error as CurlError {
                outcome = error == .shutdown ? .retryable(reason: "shutting down") : .retryable(reason: error.description)
            } catch {
                outcome = .retryable(reason: "\(error)")
            }
            counters.withLock { $0.requests += 1 }
            if case .rateLimited(let seconds) = outcome {
                let until = clock.now().addingTimeInterval(TimeInterval(seconds ?? 1))
                blockedUntil.withLock { $0["\(link.seller)\u{0}\(link.connection.id)"] = until }
            }
            for sku in covered {
                guard let job = bySKU[sku] else { continue }
                if case .rejected(let reason, let skus) = outcome, !skus.isEmpty, !skus.contains(sku) {
                    results.append(JobResult(job: job, outcome: .retryable(reason: "batch rejected for other items: \(reason)")))
                } else {
                    results.append(JobResult(job: job, outcome: outcome))
                }
            }
        }
        return results
    }

    private func record(_ results: [JobResult], outbox: [PushQueue.OutboxRow], now: Date) async {
        // Decide each push's fate here (the retry policy); the push queue stores it.
        var tally = Tally(delivered: 0, retried: 0, dead: 0, pushed: [], failures: [], waiting: [])
        let settled = results.map { r -> PushQueue.Settled in
            let j = r.job
            let outcome: PushQueue.Outcome
            switch r.outcome {
            case .accepted:
                outcome = .delivered
                tally.delivered += 1
                tally.pushed.append((j.link.seller, j.link.connection.id))
            case .rateLimited(let seconds):
                outcome = .retry(attempts: j.attempts, at: now.addingTimeInterval(TimeInterval(seconds ?? 1)), error: "rate limited")
                tally.retried += 1
            case .retryable(let reason):
                if j.attempts + 1 >= policy.maxAttempts {
                    outcome = .deadLetter(attempts: j.attempts + 1, error: reason)
                    tally.failures.append(DeadLetterNotice(job: j, attempts: j.attempts + 1, error: reason))
                    tally.dead += 1
                } else {
                    let ceiling = min(policy.maxDelay, policy.baseDelay * pow(2, Double(j.attempts)))
                    outcome = .retry(attempts: j.attempts + 1, at: now.addingTimeInterval(Double.random(in: 0...ceiling)), error: reason)
                    tally.retried += 1
                }
            case .rejected(let reason, _):
                outcome = .deadLetter(attempts: j.attempts + 1, error: reason)
                tally.failures.append(DeadLetterNotice(job: j, attempts: j.attempts + 1, error: reason))
                tally.dead += 1
            }
            return PushQueue.Settled(seller: j.link.seller, connection: j.link.connection.id, sku: j.sku, sequence: j.sequence, outcome: outcome)
        }
        do {
            // Every connection's push for these outbox rows is now delivered, scheduled or dead-lettered.
            tally.waiting = try await ledger.pushQueue.record(settled, fannedOut: outbox, now: now)
        } catch {
            logger.error("propagator could not record outcomes", metadata: ["error": "\(error)"])
            return
        }
        trackLag(results, waiting: tally.waiting, now: now)
        await recordFailures(tally.failures, now: now)
        let finished = clock.now()
        for r in results {
            guard case .accepted = r.outcome, let state = ledger.snapshot.seller(r.job.link.seller)?.sku(r.job.sku) else { continue }
            onDelivered(r.job.link.connection.id, max(0, finished.timeIntervalSince(state.updatedAt)))
        }
        for pair in Set(tally.pushed.map { "\($0.0)\u{0}\($0.1)" }) {
            let parts = pair.split(separator: "\u{0}").map(String.init)
            pulses.pushed(seller: parts[0], connection: parts[1], at: now)
        }
        counters.withLock {
            $0.delivered += tally.delivered
            $0.retried += tally.retried
            $0.deadLettered += tally.dead
        }
    }

    /// A connection falls behind at its first unacknowledged change and catches up after a pass in which every push to it
    /// was acknowledged and nothing is left waiting for a retry.
    private func trackLag(_ results: [JobResult], waiting: Set<String>, now: Date) {
        var failed: [String: Date] = [:]
        var succeeded: Set<String> = []
        for r in results {
            let key = "\(r.job.link.seller)\u{0}\(r.job.link.connection.id)"
            if case .accepted = r.outcome {
                succeeded.insert(key)
            } else {
                let changedAt = ledger.snapshot.seller(r.job.link.seller)?.sku(r.job.sku)?.updatedAt ?? now
                failed[key] = min(failed[key] ?? changedAt, changedAt)
            }
        }
        behindSince.withLock { map in
            for (key, since) in failed { map[key] = min(map[key] ?? since, since) }
            for key in succeeded where failed[key] == nil && !waiting.contains(key) { map.removeValue(forKey: key) }
        }
    }

    /// Each dead-lettered push becomes a `sync.failed` fact in the ledger (the audit trail, and what `sync.failed` rules run on).
    private func recordFailures(_ failures: [DeadLetterNotice], now: Date) async {
        guard !failures.isEmpty else { return }
        let commands = failures.map { f in
            // A SKU deleted since its push was queued can no longer carry events: the failure is then the seller's, naming it.
            let active = ledger.snapshot.seller(f.job.link.seller)?.sku(f.job.sku)?.item.active == true
            return Command(seller: f.job.link.seller, source: "push:\(f.job.link.connection.id)", draft: ShelfEvent(
                type: .syncFailed, sku: active ? f.job.sku : nil, channel: f.job.link.connection.channel,
                note: "push\(active ? "" : " of \(f.job.sku)") to \(f.job.link.connection.id) dead-lettered after \(f.attempts) attempt(s): \(f.error)",
                occurredAt: now))
        }
        for result in await ledger.submit(commands) {
            if case .failure(let error) = result { logger.warning("sync.failed not recorded", metadata: ["error": "\(error)"]) }
        }
    }
}

/// What one pass recorded.
struct Tally: Sendable {
    var delivered: Int
    var retried: Int
    var dead: Int
    var pushed: [(String, String)]
    var failures: [DeadLetterNotice]
    /// `seller\0connection` of every connection with a push still waiting for a retry.
    var waiting: Set<String>
}

/// A push that was just dead-lettered.
struct DeadLetterNotice: Sendable {
    var job: Propagator.Job
    var attempts: Int
    var error: String
}

/// Counters of the propagator.
public struct PropagatorStats: Sendable {
    public var requests = 0
    public var delivered = 0
    public var retried = 0
    public var deadLettered = 0
}
