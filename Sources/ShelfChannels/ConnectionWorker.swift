import Foundation
import Logging
import ShelfConnectors
import ShelfCore
import ShelfCurl
import ShelfLedger
import Synchronization

/// Pushes one channel connection its SKUs' current quantities and prices. Fed by the change feed (changes of its seller) and
/// by its seller's outbox rows and its own retry rows (at start, and whenever the feed is poked), it coalesces to the latest
/// value per SKU, keeps up to `maxInFlight` requests in flight over libcurl's reused connections, paces itself with a token
/// bucket sized to the channel's published limits, honours 429 + Retry-After, retries with full-jitter backoff and
/// dead-letters after its retry budget. It shares nothing with the other connections' workers but the settlement queue, so a
/// slow or failing channel holds back only itself.
final class ConnectionWorker: Sendable {
    /// One request of a dispatch and the SKUs it carries.
    struct Launch: Sendable {
        var request: ChannelHTTPRequest
        var skus: [String]
    }

    /// What one dispatch sends: the SKUs taken and the requests the connector built for them.
    struct Dispatch: Sendable {
        var taken: [PushCoalescer.Taken]
        var launches: [Launch]
        /// When each SKU's state was last changed (for the sync-lag histogram).
        var changedAt: [String: Date]
        /// The ledger sequence of each SKU's state as pushed: the push settles the SKU up to there (a command's last event,
        /// which the outbox row carries, may be one that does not itself change what channels show).
        var through: [String: Int64]
        /// The price each SKU's push carries, where the channel takes prices in requests of their own (recorded as the
        /// channel's once it acknowledges the push).
        var prices: [String: Money] = [:]
        /// Why the connector could not build the requests (the SKUs are then refused as the channel would refuse them).
        var buildError: String? = nil
    }

    struct State {
        var coalescer = PushCoalescer()
        var bucket: TokenBucket
        var requestsInFlight = 0
        /// Dispatches sent and not yet settled (a channel that batches keeps one in flight, see `plan`).
        var dispatchesInFlight = 0
        /// When the oldest change this connection has not acknowledged since its last clean stretch was made.
        var behindSince: Date?
        var stats = PushStats()
        var signal: AsyncStream<Void>.Continuation?
        var timer: (task: Task<Void, Never>, at: Date)?
        /// Per SKU, the price the channel last acknowledged and when (only for channels that push prices separately;
        /// forgotten when a push fails, so the next one sends it again, and sent again once older than the policy's
        /// `priceRefresh`). A quantity change then costs one request, not two.
        var acknowledgedPrice: [String: (price: Money, at: Date)] = [:]
        /// Entries after the last sweep of expired acknowledged prices: the next sweep runs when the table has doubled.
        var acknowledgedAfterSweep = 0
    }

    let link: ChannelLink
    let ledger: Ledger
    let curl: CurlClient
    let policy: PushPolicy
    let settlement: PushSettlement
    let pulses: ChannelPulseBoard
    let logger: Logger
    /// Orders due SKUs when more are due than one dispatch takes (prioritised, spiking, fastest selling first).
    let ordering: @Sendable (_ seller: String, _ due: [PushCoalescer.Taken], _ now: Date) -> [PushCoalescer.Taken]
    let onDelivered: @Sendable (_ connection: String, _ lag: TimeInterval) -> Void
    private let state: Mutex<State>
    private let random = Mutex(SystemRandomNumberGenerator())

    init(link: ChannelLink, ledger: Ledger, curl: CurlClient, policy: PushPolicy, settlement: PushSettlement, pulses: ChannelPulseBoard,
         logger: Logger, order: @escaping @Sendable (_ seller: String, _ due: [PushCoalescer.Taken], _ now: Date) -> [PushCoalescer.Taken],
         onDelivered: @escaping @Sendable (_ connection: String, _ lag: TimeInterval) -> Void) {
        self.link = link
        self.ledger = ledger
        self.curl = curl
        self.policy = policy
        self.settlement = settlement
        self.pulses = pulses
        ordering = order
        self.onDelivered = onDelivered
        var logger = logger
        logger[metadataKey: "connection"] = .string(link.connection.id)
        self.logger = logger
        let now = ledger.clock.now()
        let limit = policy.pacing == .published
            ? ChannelRateLimit.published(for: link.connector.kind, operation: "push").limit
            : ChannelRateLimit(perSecond: 1e9, burst: 1e9)
        state = Mutex(State(bucket: TokenBucket(limit, now: now)))
    }

    var seller: String { link.seller }
    var connectionID: String { link.connection.id }
    var clock: any WallClock { ledger.clock }

    /// Counters, queue depth, requests in flight and lag of this connection at `now`.
    func gauges(now: Date) -> WorkerGauges {
        state.withLock { s in
            WorkerGauges(seller: seller, connection: connectionID, channel: link.connection.channel, queueDepth: s.coalescer.depth,
                         inFlight: s.requestsInFlight, lag: s.coalescer.oldestSince.map { max(0, now.timeIntervalSince($0)) } ?? 0,
                         stats: s.stats)
        }
    }

    /// How long this connection has been behind at `now` (nil when caught up): the age of the oldest change it has not
    /// acknowledged since pushes last went through with nothing left waiting for a retry.
    func syncLag(now: Date) -> TimeInterval? {
        state.withLock { $0.behindSince }.map { max(0, now.timeIntervalSince($0)) }
    }

    // MARK: Running

    /// Runs until the task is cancelled or the feed ends: follows `subscription` (positioned before the registry read the
    /// queues for this worker, so nothing committed in between is missed).
    func run(_ subscription: ChangeFeed.Subscription) async {
        let (signals, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        state.withLock { $0.signal = continuation }
        defer {
            subscription.cancel()
            let timer = state.withLock { s -> Task<Void, Never>? in
                s.signal = nil
                defer { s.timer = nil }
                return s.timer?.task
            }
            timer?.cancel()
        }
        await withDiscardingTaskGroup { group in
            group.addTask {
                // An empty batch is a poke: the registry reads the queues for every worker and signals them.
                for await batch in subscription where !batch.isEmpty {
                    self.absorb(batch)
                    continuation.yield()
                }
                continuation.finish()
            }
            continuation.yield()
            for await _ in signals {
                for dispatch in self.plan(paced: true) {
                    group.addTask {
                        await self.send(dispatch)
                        continuation.yield()
                    }
                }
            }
            group.cancelAll()
        }
    }

    /// One pass for tools and tests: sends every SKU that is due now once (regardless of the pacing budget,
    /// though a 429's Retry-After still holds), and waits for the answers. Returns the pushes attempted (one per SKU and request).
    func drainOnce() async -> Int {
        var attempted = 0
        await withTaskGroup(of: Int.self) { group in
            for dispatch in plan(paced: false) {
                group.addTask { await self.send(dispatch) }
            }
            for await n in group { attempted += n }
        }
        return attempted
    }

    /// Takes the seller's changes from a feed batch.
    func absorb(_ batch: [LedgerEvent]) {
        let now = clock.now()
        state.withLock { s in
            for e in batch where e.seller == seller && e.event.type.affectsChannels {
                guard let sku = e.event.sku else { continue }
                s.coalescer.mark(sku: sku, sequence: e.sequence, now: now)
            }
        }
    }

    /// Takes the seller's outbox rows this connection has not settled yet and its own retry rows, as the registry read them
    /// (at start, and whenever the feed is poked); a replayed retry starts over.
    func absorb(outbox: [OutboxRow], retries: [PushQueue.RetryRow]) {
        let now = clock.now()
        let settled = settlement.settled(seller: seller, connection: connectionID, skus: outbox.map(\.sku))
        state.withLock { s in
            for row in outbox where (settled[row.sku] ?? -1) < row.sequence {
                s.coalescer.mark(sku: row.sku, sequence: row.sequence, now: now)
            }
            for row in retries {
                let replayed = row.attempts == 0 && row.nextAttemptAt.timeIntervalSince1970 <= 0
                // A retry this worker already holds is newer in memory than its row, unless an operator replayed it.
                guard replayed || !s.coalescer.isPending(row.sku) else { continue }
                s.coalescer.restore(sku: row.sku, sequence: row.sequence, attempts: row.attempts, notBefore: row.nextAttemptAt, now: now)
            }
        }
    }

    /// Wakes the loop.
    func signal() { _ = state.withLock { $0.signal?.yield() } }

    // MARK: Planning

    /// Takes what may be sent now and builds its requests. Paced: within the in-flight limit and the token bucket, and arms a
    /// timer for the next instant something becomes due. Unpaced (`drainOnce`): everything due.
    private func plan(paced: Bool) -> [Dispatch] {
        let now = clock.now()
        var dispatches: [Dispatch] = []
        var notApplicable: [(sku: String, sequence: Int64)] = []
        var wakeAt: Date?
        let separatePrices = link.connector.pushesPriceSeparately
        let batches = link.connector.batchesPushes
        state.withLock { s in
            while true {
                if paced {
                    guard s.requestsInFlight < policy.maxInFlight else { break }
                    // A channel that takes many SKUs per request gets one dispatch at a time: what changes while it is in
                    // flight goes in the next one, together (one request for many changes instead of one each).
                    guard !batches || s.dispatchesInFlight == 0 else { break }
                    let next = s.bucket.nextSend(now: now)
                    if next > now {
                        if s.coalescer.hasDue(now: now) { wakeAt = next }
                        break
                    }
                } else if s.bucket.closedUntil > now {
                    break
                }
                var states: [String: SKUState] = [:]
                let snapshot = ledger.snapshot.seller(seller)
                let taken = s.coalescer.take(now: now, limit: policy.maxSKUsPerDispatch, ready: { sku, entry in
                    guard let state = snapshot?.sku(sku) else { return true }
                    // The outbox row may be committed a moment before the snapshot publishes the state it stands for.
                    guard state.lastSequence >= entry.sequence else { return false }
                    states[sku] = state
                    return true
                }, order: { self.ordering(self.seller, $0, now) })
                guard !taken.isEmpty else { break }
                var sendable: [PushCoalescer.Taken] = []
                var updates: [ListingUpdate] = []
                var changedAt: [String: Date] = [:]
                var through: [String: Int64] = [:]
                var prices: [String: Money] = [:]
                for t in taken {
                    // Deleted, or not listed on this channel: nothing to push, settled as is (a deleted SKU up to the
                    // seller's latest change).
                    guard let state = states[t.sku], var update = link.update(for: state, now: now) else {
                        s.coalescer.dropped(t)
                        let through = states[t.sku]?.lastSequence ?? snapshot?.lastSequence ?? t.entry.sequence
                        notApplicable.append((t.sku, max(t.entry.sequence, through)))
                        continue
                    }
                    if separatePrices, let price = update.price {
                        if let known = s.acknowledgedPrice[t.sku], known.price == price, now.timeIntervalSince(known.at) < policy.priceRefresh {
                            update.price = nil
                        } else {
                            prices[t.sku] = price
                        }
                    }
                    sendable.append(t)
                    updates.append(update)
                    changedAt[t.sku] = state.updatedAt
                    through[t.sku] = max(t.entry.sequence, state.lastSequence)
                }
                guard !sendable.isEmpty else { continue }
                let launches: [Launch]
                do {
                    launches = try link.connector.pushRequests(updates, settings: link.settings).map { request in
                        Launch(request: request, skus: request.skus.isEmpty ? sendable.map(\.sku) : request.skus)
                    }
                } catch {
                    // The connector cannot build this push (e.g. the connection lacks a location): the channel would refuse it too.
                    dispatches.append(Dispatch(taken: sendable, launches: [], changedAt: changedAt, through: through, prices: prices,
                                              buildError: "\(error)"))
                    s.dispatchesInFlight += 1
                    logger.warning("push not built", metadata: ["error": "\(error)"])
                    continue
                }
                if paced { _ = s.bucket.take(launches.count, now: now) }
                s.requestsInFlight += launches.count
                s.dispatchesInFlight += 1
                s.stats.requests += launches.count
                dispatches.append(Dispatch(taken: sendable, launches: launches, changedAt: changedAt, through: through, prices: prices))
            }
            guard paced else { return }
            if let due = s.coalescer.nextDue(after: now) { wakeAt = min(wakeAt ?? due, due) }
            // SKUs waiting for the snapshot to catch up are looked at again within a second.
            if wakeAt == nil, s.coalescer.depth > 0 { wakeAt = now.addingTimeInterval(1) }
            if let at = wakeAt { armTimer(&s, at: at, now: now) }
        }
        if !notApplicable.isEmpty {
            settlement.settle(seller: seller, connection: connectionID, skus: notApplicable, outcomes: [])
        }
        return dispatches
    }

    /// Wakes the loop at `at` (on the injected clock, slept in real time; at most a second at a time).
    private func armTimer(_ s: inout State, at: Date, now: Date) {
        if let timer = s.timer, timer.at <= at { return }
        s.timer?.task.cancel()
        let seconds = min(1, max(0.001, at.timeIntervalSince(now)))
        s.timer = (Task { [weak self] in
            try? await Task.sleep(for: .milliseconds(Int((seconds * 1000).rounded(.up))))
            guard !Task.isCancelled, let self else { return }
            self.state.withLock { $0.timer = nil }
            self.signal()
        }, at)
    }

    // MARK: Sending

    /// Sends a dispatch's requests concurrently, settles each SKU by the worst answer among the requests that carried it.
    /// Returns the pushes attempted (one per SKU and request).
    @discardableResult
    private func send(_ dispatch: Dispatch) async -> Int {
        var outcomes: [String: PushOutcome] = [:]
        if dispatch.launches.isEmpty {
            let reason = dispatch.buildError ?? "the connector could not build the push"
            for t in dispatch.taken { outcomes[t.sku] = .rejected(reason: reason, skus: [t.sku]) }
        }
        await withTaskGroup(of: (Launch, PushOutcome).self) { group in
            for launch in dispatch.launches {
                group.addTask { (launch, await self.execute(launch.request)) }
            }
            for await (launch, outcome) in group {
                for sku in launch.skus {
                    var mine = outcome
                    if case .rejected(let reason, let skus) = outcome, !skus.isEmpty, !skus.contains(sku) {
                        mine = .retryable(reason: "batch rejected for other items: \(reason)")
                    }
                    outcomes[sku] = Self.worse(outcomes[sku], mine)
                }
            }
        }
        if Task.isCancelled {
            // Stopped (shutdown, or the connection changed): nothing is settled; the outbox and the retry queue still hold
            // these SKUs for the worker that takes over.
            state.withLock { s in
                s.requestsInFlight -= dispatch.launches.count
                s.dispatchesInFlight -= 1
                for t in dispatch.taken { s.coalescer.putBack(t) }
            }
            return 0
        }
        settle(dispatch, outcomes: outcomes)
        return dispatch.launches.reduce(0) { $0 + $1.skus.count }
    }

    private func execute(_ request: ChannelHTTPRequest) async -> PushOutcome {
        do {
            let response = try await curl.execute(request.curlRequest(timeout: policy.requestTimeout))
            return link.connector.pushOutcome(status: response.status, headers: response.lowercasedHeaders, body: response.body)
        } catch let error as CurlError {
            return error == .shutdown ? .retryable(reason: "shutting down") : .retryable(reason: error.description)
        } catch {
            return .retryable(reason: "\(error)")
        }
    }

    /// The answer that decides a SKU carried by several requests: refused over failed over rate limited over accepted.
    static func worse(_ a: PushOutcome?, _ b: PushOutcome) -> PushOutcome {
        guard let a else { return b }
        func rank(_ o: PushOutcome) -> Int {
            switch o {
            case .accepted: return 0
            case .rateLimited: return 1
            case .retryable: return 2
            case .rejected: return 3
            }
        }
        return rank(b) > rank(a) ? b : a
    }

    /// Decides each SKU's fate (the retry policy), updates the coalescer and the bucket, and hands the outcomes to the settlement.
    private func settle(_ dispatch: Dispatch, outcomes: [String: PushOutcome]) {
        let now = clock.now()
        var rows: [PushQueue.Settled] = []
        var settledSKUs: [(sku: String, sequence: Int64)] = []
        var failures: [PushSettlement.DeadLetterNotice] = []
        var deliveredLags: [TimeInterval] = []
        state.withLock { s in
            s.requestsInFlight -= dispatch.launches.count
            s.dispatchesInFlight -= 1
            // Expired acknowledged prices would be sent again anyway: dropped in sweeps (amortised: when the table doubled),
            // so the table holds what was acknowledged recently, not every SKU ever pushed.
            if s.acknowledgedPrice.count > max(1024, 2 * s.acknowledgedAfterSweep) {
                let refresh = policy.priceRefresh
                s.acknowledgedPrice = s.acknowledgedPrice.filter { now.timeIntervalSince($0.value.at) < refresh }
                s.acknowledgedAfterSweep = s.acknowledgedPrice.count
            }
            for t in dispatch.taken {
                let outcome = outcomes[t.sku] ?? .retryable(reason: "no request carried the SKU")
                let changedAt = dispatch.changedAt[t.sku] ?? now
                let through = dispatch.through[t.sku] ?? t.entry.sequence
                settledSKUs.append((t.sku, through))
                if case .accepted = outcome {
                    if let price = dispatch.prices[t.sku] { s.acknowledgedPrice[t.sku] = (price, now) }
                } else {
                    // What the channel shows is not known now: the next push sends the price again.
                    s.acknowledgedPrice.removeValue(forKey: t.sku)
                }
                func row(_ o: PushQueue.Outcome) -> PushQueue.Settled {
                    PushQueue.Settled(seller: seller, connection: connectionID, sku: t.sku, sequence: through, outcome: o)
                }
                func deadLetter(_ attempts: Int, _ reason: String) {
                    s.coalescer.dropped(t)
                    rows.append(row(.deadLetter(attempts: attempts, error: reason)))
                    failures.append(PushSettlement.DeadLetterNotice(seller: seller, connection: connectionID, channel: link.connection.channel,
                                                                    sku: t.sku, attempts: attempts, error: reason))
                    s.stats.deadLettered += 1
                    s.behindSince = min(s.behindSince ?? changedAt, changedAt)
                }
                switch outcome {
                case .accepted:
                    s.coalescer.delivered(t)
                    if t.entry.stored { rows.append(row(.delivered)) }
                    s.stats.delivered += 1
                    deliveredLags.append(max(0, now.timeIntervalSince(changedAt)))
                case .rateLimited(let seconds):
                    let until = now.addingTimeInterval(TimeInterval(max(1, seconds ?? 1)))
                    s.bucket.close(until: until, now: now)
                    s.coalescer.retry(t, attempts: t.entry.attempts, at: until)
                    rows.append(row(.retry(attempts: t.entry.attempts, at: until, error: "rate limited")))
                    s.stats.retried += 1
                    s.behindSince = min(s.behindSince ?? changedAt, changedAt)
                case .retryable(let reason):
                    let attempts = t.entry.attempts + 1
                    if attempts >= policy.maxAttempts {
                        deadLetter(attempts, reason)
                    } else {
                        let wait = random.withLock { policy.backoff.delay(attempt: t.entry.attempts, using: &$0) }
                        let at = now.addingTimeInterval(wait)
                        s.coalescer.retry(t, attempts: attempts, at: at)
                        rows.append(row(.retry(attempts: attempts, at: at, error: reason)))
                        s.stats.retried += 1
                        s.behindSince = min(s.behindSince ?? changedAt, changedAt)
                    }
                case .rejected(let reason, _):
                    deadLetter(t.entry.attempts + 1, reason)
                }
            }
            // Caught up: everything sent lately was acknowledged and nothing waits for a retry.
            if !outcomes.isEmpty, outcomes.values.allSatisfy({ if case .accepted = $0 { true } else { false } }), s.coalescer.retrying == 0 {
                s.behindSince = nil
            }
        }
        settlement.settle(seller: seller, connection: connectionID, skus: settledSKUs, outcomes: rows, failures: failures)
        if !deliveredLags.isEmpty {
            pulses.pushed(seller: seller, connection: connectionID, at: now)
            for lag in deliveredLags { onDelivered(connectionID, lag) }
        }
    }
}

/// What a connection's worker has done so far (counters) and holds now (gauges).
public struct WorkerGauges: Sendable, Hashable {
    public var seller: String
    public var connection: String
    public var channel: String
    /// SKUs waiting to be pushed.
    public var queueDepth: Int
    /// Requests in flight.
    public var inFlight: Int
    /// Age of the oldest change waiting or in flight (seconds; 0 when there is none).
    public var lag: TimeInterval
    public var stats: PushStats
}

/// Counters of the push workers.
public struct PushStats: Sendable, Hashable {
    public var requests = 0
    public var delivered = 0
    public var retried = 0
    public var deadLettered = 0

    public init() {}

    static func + (a: PushStats, b: PushStats) -> PushStats {
        var out = a
        out.requests += b.requests
        out.delivered += b.delivered
        out.retried += b.retried
        out.deadLettered += b.deadLettered
        return out
    }
}
