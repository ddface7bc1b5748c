import Foundation
import Logging
import ServiceLifecycle
import ShelfCore
import ShelfCurl
import ShelfLedger
import Synchronization

/// How watches are limited and their deliveries retried.
public struct WatchPolicy: Sendable {
    /// Most watches one token may hold.
    public var maxWatchesPerToken: Int
    /// Most SKUs one watch may name.
    public var maxSKUsPerWatch: Int
    /// Attempts of one delivery before it is dead-lettered.
    public var maxAttempts: Int
    /// Backoff: attempt n waits a random time in [0, min(maxDelay, baseDelay·2ⁿ⁻¹)] (full jitter).
    public var baseDelay: TimeInterval
    public var maxDelay: TimeInterval
    public var requestTimeout: Duration
    /// A target that has failed every attempt for this long (by the injected clock) is paused, with the reason on the watch.
    public var pauseAfter: TimeInterval
    /// Whether targets on loopback are delivered to: `shelf serve` allows them only when it listens on loopback itself
    /// (development, tests); non-public addresses are never delivered to (`WatchTargetAddress`).
    public var allowLoopbackTargets = true

    /// Loopback targets are for a server that itself listens on loopback (`host` as given to `shelf serve --host`).
    public static func allowsLoopbackTargets(listeningOn host: String) -> Bool {
        WatchTargetAddress.classify(host: host) == .loopback
    }

    public init(maxWatchesPerToken: Int = 100, maxSKUsPerWatch: Int = 100, maxAttempts: Int = 8, baseDelay: TimeInterval = 0.5,
                maxDelay: TimeInterval = 60, requestTimeout: Duration = .seconds(5), pauseAfter: TimeInterval = 3600) {
        self.maxWatchesPerToken = maxWatchesPerToken
        self.maxSKUsPerWatch = maxSKUsPerWatch
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.requestTimeout = requestTimeout
        self.pauseAfter = pauseAfter
    }
}

/// Delivers watches: reads the change feed (its own subscription, never the ingest path), judges each changed SKU against the
/// watches naming it, and queues one delivery per (watch, SKU) — a burst coalesces into one delivery of the latest state. Each
/// watch has its own lane (one task at a time, started on demand), so a slow or failing target only delays itself. A delivery
/// is the offer the offers API returns plus the event type, signed (`WatchSignature`), POSTed by libcurl, retried with
/// full-jitter backoff, then dead-lettered; a target failing for `pauseAfter` is paused with the reason.
public final class WatchDeliveryService: Service, Sendable {
    let ledger: Ledger
    let store: WatchStore
    let curl: CurlClient
    let velocity: SalesVelocity
    let pulses: ChannelPulseBoard
    let knownSince: Date
    let policy: WatchPolicy
    let logger: Logger
    /// Called per delivery made, with the time from the change's commit to the receiver's acknowledgement.
    let onDelivered: @Sendable (_ lag: TimeInterval) -> Void
    private let registry = Mutex(Registry())
    private let counters = Mutex(WatchDeliveryStats())
    /// Subscribed at construction, so no change committed before `run()` is missed.
    private let events: ChangeFeed.Subscription

    /// A watch the service judges changes for.
    struct ActiveWatch: Sendable {
        var stored: StoredWatch
        var spec: WatchSpec
        var lane: WatchLane
        var paused: Bool { stored.pausedReason != nil }
    }

    struct Registry {
        var watches: [String: ActiveWatch] = [:]
        /// Watch ids by `seller\0sku` and by `seller\0productId`.
        var bySKU: [String: Set<String>] = [:]
        var byProduct: [String: Set<String>] = [:]
        /// The last observation per `watchId\0sku` (edge triggers compare against it).
        var last: [String: WatchObservation] = [:]
        var loaded = false
        var stopped = false
    }

    /// Deliveries made, retried, dead-lettered so far (for tests and benchmarks).
    public var stats: WatchDeliveryStats { counters.withLock { $0 } }

    public init(ledger: Ledger, store: WatchStore, curl: CurlClient, velocity: SalesVelocity, pulses: ChannelPulseBoard, knownSince: Date,
                policy: WatchPolicy, logger: Logger = Logger(label: "shelf.watches"),
                onDelivered: @escaping @Sendable (_ lag: TimeInterval) -> Void = { _ in }) {
        self.ledger = ledger
        self.store = store
        self.curl = curl
        self.velocity = velocity
        self.pulses = pulses
        self.knownSince = knownSince
        self.policy = policy
        self.logger = logger
        self.onDelivered = onDelivered
        events = ledger.snapshot.feed.subscribe()
    }

    var clock: any WallClock { ledger.clock }

    public func run() async throws {
        guard await ledger.snapshot.readyOrShutdown() else { return }
        do {
            try loadWatches()
        } catch {
            logger.error("watches could not be read", metadata: ["error": "\(error)"])
            throw error
        }
        let events = self.events
        await withGracefulShutdownHandler {
            for await batch in events where !batch.isEmpty { judge(batch) }
        } onGracefulShutdown: {
            events.cancel()
        }
        let lanes = registry.withLock { r -> [WatchLane] in
            r.stopped = true
            return r.watches.values.map(\.lane)
        }
        for lane in lanes { await lane.stop() }
    }

    /// Reads every stored watch and takes each SKU's current state as its baseline.
    func loadWatches() throws {
        let stored = try store.all()
        registry.withLock { r in
            for watch in stored { add(watch, to: &r) }
            r.loaded = true
        }
    }

    /// Starts judging a watch created through the API (its baseline is the current state).
    func added(_ watch: StoredWatch) {
        registry.withLock { r in
            guard r.loaded, !r.stopped else { return }
            add(watch, to: &r)
        }
    }

    /// Stops judging a deleted watch; deliveries already queued for it are dropped.
    func removed(id: String) {
        let lane = registry.withLock { r -> WatchLane? in
            guard let w = r.watches.removeValue(forKey: id) else { return nil }
            for sku in w.spec.skus { r.bySKU["\(w.stored.seller)\u{0}\(sku)"]?.remove(id) }
            if let product = w.spec.productId { r.byProduct["\(w.stored.seller)\u{0}\(product)"]?.remove(id) }
            r.last = r.last.filter { !$0.key.hasPrefix("\(id)\u{0}") }
            return w.lane
        }
        lane?.discard()
    }

    /// Resumes a watch (after a replay took its dead letters) and queues the replayed SKUs for delivery now.
    func replay(_ letters: [WatchDeadLetter], watchId: String) {
        let lane = registry.withLock { r -> WatchLane? in
            r.watches[watchId]?.stored.pausedReason = nil
            r.watches[watchId]?.stored.pausedAt = nil
            return r.watches[watchId]?.lane
        }
        guard let lane else { return }
        for letter in letters {
            lane.enqueue(PendingDelivery(sku: letter.sku, type: WatchEventType(rawValue: letter.eventType) ?? .inventory, sequence: letter.sequence,
                                         changedAt: letter.failedAt))
        }
    }

    /// The watch as the service sees it (its pause state may be newer than a read of the store).
    func current(id: String) -> StoredWatch? { registry.withLock { $0.watches[id]?.stored } }

    /// Deliveries queued or being attempted for a watch.
    func queued(id: String) -> Int { registry.withLock { $0.watches[id]?.lane }?.queuedCount ?? 0 }

    private func add(_ watch: StoredWatch, to r: inout Registry) {
        guard let spec = try? ShelfJSON.decoder().decode(WatchSpec.self, from: Data(watch.spec.utf8)) else {
            logger.error("a stored watch could not be read; it is skipped", metadata: ["watch": "\(watch.id)"])
            return
        }
        let lane = WatchLane(watchId: watch.id, seller: watch.seller, service: self)
        r.watches[watch.id] = ActiveWatch(stored: watch, spec: spec, lane: lane)
        for sku in spec.skus { r.bySKU["\(watch.seller)\u{0}\(sku)", default: []].insert(watch.id) }
        if let product = spec.productId { r.byProduct["\(watch.seller)\u{0}\(product)", default: []].insert(watch.id) }
        guard let seller = ledger.snapshot.seller(watch.seller) else { return }
        let now = clock.now()
        let skus = spec.productId.map { seller.skus(ofProduct: $0) } ?? spec.skus
        for sku in skus {
            guard let state = seller.sku(sku) else { continue }
            r.last["\(watch.id)\u{0}\(sku)"] = Self.observe(state, spec: spec, catalog: seller.catalog, now: now)
        }
    }

    /// Judges one batch of the change feed: each changed SKU once (its latest state), against every watch naming it.
    func judge(_ batch: [LedgerEvent]) {
        var changed: [String: LedgerEvent] = [:]
        for e in batch {
            guard let sku = e.event.sku else { continue }
            changed["\(e.seller)\u{0}\(sku)"] = e
        }
        guard !changed.isEmpty else { return }
        let now = clock.now()
        var due: [(WatchLane, PendingDelivery)] = []
        registry.withLock { r in
            guard r.loaded, !r.watches.isEmpty else { return }
            for (key, e) in changed {
                guard let sku = e.event.sku, let seller = ledger.snapshot.seller(e.seller), let state = seller.sku(sku) else { continue }
                var ids = r.bySKU[key] ?? []
                if let product = r.byProduct["\(e.seller)\u{0}\(state.item.productId)"] { ids.formUnion(product) }
                for id in ids {
                    guard let watch = r.watches[id] else { continue }
                    let current = Self.observe(state, spec: watch.spec, catalog: seller.catalog, now: now)
                    let slot = "\(id)\u{0}\(sku)"
                    let previous = r.last[slot]
                    r.last[slot] = current
                    guard let type = watch.spec.fires(from: previous, to: current) else { continue }
                    due.append((watch.lane, PendingDelivery(sku: sku, type: type, sequence: e.sequence, changedAt: e.recordedAt)))
                }
            }
        }
        // The lanes do the rest (a paused watch's lane turns what fired into dead letters, coalesced per SKU): judging never
        // waits for a target or the disk.
        for (lane, delivery) in due { lane.enqueue(delivery) }
    }

    /// What a watch compares for one SKU now.
    static func observe(_ state: SKUState, spec: WatchSpec, catalog: SellerCatalog, now: Date) -> WatchObservation {
        var window: String?
        if let d = spec.destination,
           let first = DeliveryPlanner.options(for: state, qty: spec.qty, destination: Destination(country: d.country, postalCode: d.postalCode),
                                               catalog: catalog, now: now).first {
            window = "\(first.carrier)/\(first.service) \(first.earliestDate)..\(first.latestDate)"
        }
        return WatchObservation(available: state.item.active ? state.available(now: now) : 0, price: state.item.effectivePrice(at: now),
                                deliveryWindow: window)
    }

    // MARK: Sending

    /// What a lane needs to send one delivery.
    struct Target: Sendable {
        var watch: StoredWatch
        var spec: WatchSpec
    }

    func target(_ watchId: String) -> Target? {
        registry.withLock { r in r.watches[watchId].flatMap { $0.paused ? nil : Target(watch: $0.stored, spec: $0.spec) } }
    }

    /// The signed body of one delivery: `{"changedAt", "id", "offer", "sequence", "sku", "type", "watchId"}` (keys sorted), the
    /// offer built from the snapshot now (the latest state). Nil when the SKU is gone from the snapshot.
    func body(for delivery: PendingDelivery, id: String, target: Target) -> (body: [UInt8], sequence: Int64)? {
        guard let seller = ledger.snapshot.seller(target.watch.seller), let state = seller.sku(delivery.sku) else { return nil }
        let now = clock.now()
        let destination = target.spec.destination.map { Destination(country: $0.country, postalCode: $0.postalCode) } ?? Destination()
        let builder = OfferBuilder(catalog: seller.catalog, pulses: pulses.pulses(seller: seller.id), knownSince: knownSince, now: now)
        let offer = builder.offer(for: state, qty: target.spec.qty, destination: destination, channel: nil,
                                  rates: velocity.rates(seller: seller.id, sku: state.sku, now: now))
        var out: [UInt8] = []
        out.reserveCapacity(2048)
        out.append(contentsOf: Array("{\"changedAt\":".utf8))
        JSONText.appendQuoted(Timestamp.format(delivery.changedAt), to: &out)
        out.append(contentsOf: Array(",\"id\":".utf8))
        JSONText.appendQuoted(id, to: &out)
        out.append(contentsOf: Array(",\"offer\":".utf8))
        out.append(contentsOf: OfferJSON.encode(offer))
        out.append(contentsOf: Array(",\"sequence\":\(max(delivery.sequence, state.lastSequence)),\"sku\":".utf8))
        JSONText.appendQuoted(delivery.sku, to: &out)
        out.append(contentsOf: Array(",\"type\":".utf8))
        JSONText.appendQuoted(delivery.type.rawValue, to: &out)
        out.append(contentsOf: Array(",\"watchId\":".utf8))
        JSONText.appendQuoted(target.watch.id, to: &out)
        out.append(0x7D)
        return (out, state.lastSequence)
    }

    /// One attempt: the outcome's error text, nil on a 2xx.
    func attempt(_ body: [UInt8], id: String, type: WatchEventType, target: Target) async -> String? {
        let timestamp = Int64(clock.now().timeIntervalSince1970.rounded(.down))
        var request = CurlRequest(
            method: "POST", url: target.watch.url,
            headers: [("Content-Type", "application/json"), ("User-Agent", "shelf-watch/1"), (WatchSignature.idHeader, id),
                      (WatchSignature.eventHeader, type.rawValue),
                      (WatchSignature.header, WatchSignature.sign(body: body, secret: target.watch.secret, timestamp: timestamp))],
            body: body, timeout: policy.requestTimeout, connectTimeout: .seconds(2), maxResponseBodyBytes: 4096
        )
        let loopback = policy.allowLoopbackTargets
        request.allowsPeer = { WatchTargetAddress.allows($0, loopback: loopback) }
        do {
            let response = try await curl.execute(request)
            if (200..<300).contains(response.status) { return nil }
            return "HTTP \(response.status)"
        } catch {
            return "\(error)"
        }
    }

    /// Full-jitter backoff before attempt `attempt + 1`.
    func backoff(after attempt: Int) -> Duration {
        let cap = min(policy.maxDelay, policy.baseDelay * pow(2, Double(max(0, attempt - 1))))
        return .milliseconds(Int64(Double.random(in: 0...max(0, cap)) * 1000))
    }

    func count(_ change: (inout WatchDeliveryStats) -> Void) { counters.withLock { change(&$0) } }

    func deadLetter(_ delivery: PendingDelivery, watchId: String, seller: String, attempts: Int, error: String) {
        do {
            try store.deadLetter(WatchDeadLetter(watchId: watchId, sku: delivery.sku, eventType: delivery.type.rawValue, sequence: delivery.sequence,
                                                 attempts: attempts, lastError: error, failedAt: clock.now()), seller: seller)
            count { $0.deadLettered += 1 }
        } catch {
            logger.error("a watch dead letter could not be stored", metadata: ["watch": "\(watchId)", "error": "\(error)"])
        }
    }

    /// Pauses a watch whose target kept failing; returns false when it was deleted or already paused.
    func pause(watchId: String, reason: String) -> Bool {
        let now = clock.now()
        let watch = registry.withLock { r -> StoredWatch? in
            guard var w = r.watches[watchId], !w.paused else { return nil }
            w.stored.pausedReason = reason
            w.stored.pausedAt = now
            r.watches[watchId] = w
            return w.stored
        }
        guard let watch else { return false }
        do {
            try store.setPaused(reason, at: now, id: watch.id, seller: watch.seller)
        } catch {
            logger.error("a watch could not be paused in the store", metadata: ["watch": "\(watchId)", "error": "\(error)"])
        }
        logger.warning("watch paused", metadata: ["watch": "\(watchId)", "reason": "\(reason)"])
        return true
    }
}

/// Counts of the delivery service's work.
public struct WatchDeliveryStats: Sendable, Hashable {
    public var delivered = 0
    public var failedAttempts = 0
    public var deadLettered = 0
}

/// One delivery waiting in a lane: the SKU, what fired, and the change that fired it.
struct PendingDelivery: Sendable {
    var sku: String
    var type: WatchEventType
    var sequence: Int64
    var changedAt: Date
}

/// One watch's queue of deliveries, coalesced per SKU (a newer firing replaces a waiting one, keeping its place in line), drained
/// by at most one task at a time.
final class WatchLane: Sendable {
    let watchId: String
    let seller: String
    let service: WatchDeliveryService

    struct State {
        var order: [String] = []
        var pending: [String: PendingDelivery] = [:]
        /// Being attempted now (counted as queued).
        var inFlight = 0
        var task: Task<Void, Never>?
        /// Since when every attempt failed (nil after a success).
        var failingSince: Date?
        var closed = false
    }

    private let state = Mutex(State())

    init(watchId: String, seller: String, service: WatchDeliveryService) {
        self.watchId = watchId
        self.seller = seller
        self.service = service
    }

    var queuedCount: Int { state.withLock { $0.pending.count + $0.inFlight } }

    func enqueue(_ delivery: PendingDelivery) {
        state.withLock { s in
            guard !s.closed else { return }
            if s.pending[delivery.sku] == nil { s.order.append(delivery.sku) }
            s.pending[delivery.sku] = delivery
            if s.task == nil { s.task = Task { await self.drain() } }
        }
    }

    /// Drops everything queued (the watch was deleted).
    func discard() {
        let task = state.withLock { s -> Task<Void, Never>? in
            s.closed = true
            s.order.removeAll()
            s.pending.removeAll()
            return s.task
        }
        task?.cancel()
    }

    /// At shutdown: stops attempting, and dead-letters what is still queued, so nothing is lost.
    func stop() async {
        let task = state.withLock { s -> Task<Void, Never>? in
            s.closed = true
            return s.task
        }
        task?.cancel()
        await task?.value
        let left = state.withLock { s -> [PendingDelivery] in
            defer { s.pending.removeAll(); s.order.removeAll() }
            return s.order.compactMap { s.pending[$0] }
        }
        for d in left { service.deadLetter(d, watchId: watchId, seller: seller, attempts: 0, error: "the server stopped before delivering it") }
    }

    private func next() -> PendingDelivery? {
        state.withLock { s in
            guard !s.closed, !s.order.isEmpty else {
                s.task = nil
                return nil
            }
            let sku = s.order.removeFirst()
            s.inFlight += 1
            return s.pending.removeValue(forKey: sku)
        }
    }

    private func drain() async {
        while let delivery = next() {
            await deliver(delivery)
            state.withLock { $0.inFlight -= 1 }
        }
    }

    private func deliver(_ delivery: PendingDelivery) async {
        let id = "dlv_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        var lastError = "not attempted"
        var attempts = 0
        while attempts < service.policy.maxAttempts {
            guard let target = service.target(watchId) else {
                // Paused (kept as a dead letter for the seller's replay), or deleted (dropped).
                if let watch = service.current(id: watchId) {
                    let error = attempts == 0 ? "paused: \(watch.pausedReason ?? "deliveries failed")" : lastError
                    service.deadLetter(delivery, watchId: watchId, seller: seller, attempts: attempts, error: error)
                }
                return
            }
            guard let (body, sequence) = service.body(for: delivery, id: id, target: target) else { return }
            attempts += 1
            if let error = await service.attempt(body, id: id, type: delivery.type, target: target) {
                lastError = error
                service.count { $0.failedAttempts += 1 }
                let since = state.withLock { s -> Date in
                    if s.failingSince == nil { s.failingSince = service.clock.now() }
                    return s.failingSince!
                }
                if service.clock.now().timeIntervalSince(since) >= service.policy.pauseAfter {
                    let reason = "deliveries to \(target.watch.url) have failed since \(Timestamp.format(since)) (last: \(error))"
                    if service.pause(watchId: watchId, reason: reason) { parkQueued(reason: reason) }
                    service.deadLetter(delivery, watchId: watchId, seller: seller, attempts: attempts, error: error)
                    return
                }
                if attempts < service.policy.maxAttempts {
                    do {
                        try await Task.sleep(for: service.backoff(after: attempts))
                    } catch {
                        // Stopped (shutdown: kept as a dead letter) or the watch was deleted (dropped with it).
                        if service.current(id: watchId) != nil {
                            service.deadLetter(delivery, watchId: watchId, seller: seller, attempts: attempts, error: lastError)
                        }
                        return
                    }
                }
                continue
            }
            state.withLock { s in
                s.failingSince = nil
                // A firing queued meanwhile for the same SKU that this delivery's state already covers is done too.
                if let waiting = s.pending[delivery.sku], waiting.sequence <= sequence {
                    s.pending.removeValue(forKey: delivery.sku)
                    s.order.removeAll { $0 == delivery.sku }
                }
            }
            service.count { $0.delivered += 1 }
            service.onDelivered(max(0, service.clock.now().timeIntervalSince(delivery.changedAt)))
            return
        }
        if service.current(id: watchId) != nil {
            service.deadLetter(delivery, watchId: watchId, seller: seller, attempts: attempts, error: lastError)
        }
    }

    /// The watch was paused: what is still queued becomes dead letters.
    private func parkQueued(reason: String) {
        let left = state.withLock { s -> [PendingDelivery] in
            defer { s.pending.removeAll(); s.order.removeAll() }
            return s.order.compactMap { s.pending[$0] }
        }
        for d in left { service.deadLetter(d, watchId: watchId, seller: seller, attempts: 0, error: "paused: \(reason)") }
    }
}
