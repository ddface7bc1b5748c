import Foundation
import Logging
import NIOCore
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

    /// Most catalog-query watches one token may hold (each one is matched against every change of its seller).
    public var maxQueryWatchesPerToken = 10

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
/// watches naming it (by SKU, product or catalog query), and queues one delivery per (watch, SKU) — a burst coalesces into one
/// delivery of the latest state. What a judged batch leaves behind (the observations edge triggers compare against, the
/// deliveries that fired, the deliveries made, and how far each seller was judged) is written in one transaction before any of
/// its deliveries is attempted, so after a restart (a kill -9 included) every waiting delivery is retried and every change
/// committed after the judged position is judged, read from the ledger, against what was last observed: a transition fires
/// once. Each watch has its own lane (one task at a time, started on demand), so a slow or failing target only delays itself.
/// A delivery is the offer the offers API returns plus the event type, signed (`WatchSignature`), POSTed by libcurl, retried
/// with full-jitter backoff, then dead-lettered; a target failing for `pauseAfter` is paused with the reason.
public final class WatchDeliveryService: Service, Sendable {
    let ledger: Ledger
    let store: any WatchStore
    let curl: CurlClient
    let velocity: SalesVelocity
    let pulses: ChannelPulseBoard
    let reads: ReadCaches
    let knownSince: Date
    let policy: WatchPolicy
    let logger: Logger
    /// Called per delivery made, with the time from the change's commit to the receiver's acknowledgement.
    let onDelivered: @Sendable (_ lag: TimeInterval) -> Void
    private let registry = Mutex(Registry())
    private let counters = Mutex(WatchDeliveryStats())
    /// Deliveries made since the last write: their outbox rows go with the next one.
    private let made = Mutex<[(key: WatchObservationKey, through: Int64)]>([])
    /// Subscribed at construction, so no change committed before `run()` is missed.
    private let events: ChangeFeed.Subscription
    /// When the judged positions were last written. Judging again what was judged is harmless (a SKU whose observation did
    /// not change fires nothing), so a batch that changed nothing else writes them at most once per `cursorInterval`.
    private let cursorWritten = Mutex(ContinuousClock.now)
    static let cursorInterval: Duration = .seconds(1)

    /// A watch the service judges changes for.
    struct ActiveWatch: Sendable {
        var stored: StoredWatch
        var spec: WatchSpec
        /// The catalog query's filter, for a query watch.
        var filter: CatalogFilter?
        var lane: WatchLane
        var paused: Bool { stored.pausedReason != nil }
        /// A product or query watch: its SKUs come and go, and one not observed before counts as unavailable until now.
        var open: Bool { spec.productId != nil || spec.query != nil }
    }

    struct Registry {
        var watches: [String: ActiveWatch] = [:]
        /// Watch ids by `seller\0sku`, by `seller\0productId`, and query watches by seller.
        var bySKU: [String: Set<String>] = [:]
        var byProduct: [String: Set<String>] = [:]
        var byQuery: [String: Set<String>] = [:]
        /// Watches per seller (a seller's judged position is kept while it has any).
        var perSeller: [String: Int] = [:]
        /// The last observation per `watchId\0sku` (edge triggers compare against it).
        var last: [String: WatchObservation] = [:]
        /// The last judged ledger sequence per seller.
        var judged: [String: Int64] = [:]
        var loaded = false
        var stopped = false
    }

    /// Deliveries made, retried, dead-lettered so far (for tests and benchmarks).
    public var stats: WatchDeliveryStats { counters.withLock { $0 } }

    public init(ledger: Ledger, store: any WatchStore, curl: CurlClient, velocity: SalesVelocity, pulses: ChannelPulseBoard, reads: ReadCaches,
                knownSince: Date, policy: WatchPolicy, logger: Logger = Logger(label: "shelf.watches"),
                onDelivered: @escaping @Sendable (_ lag: TimeInterval) -> Void = { _ in }) {
        self.ledger = ledger
        self.store = store
        self.curl = curl
        self.velocity = velocity
        self.pulses = pulses
        self.reads = reads
        self.knownSince = knownSince
        self.policy = policy
        self.logger = logger
        self.onDelivered = onDelivered
        events = ledger.snapshot.feed.subscribe()
    }

    var clock: any WallClock { ledger.clock }

    public func run() async throws {
        guard await ledger.snapshot.readyOrShutdown() else { return }
        let events = self.events
        do {
            try await resume()
        } catch {
            logger.error("watches could not be read", metadata: ["error": "\(error)"])
            throw error
        }
        await withGracefulShutdownHandler {
            await catchUp()
            // While one batch is written, the feed gathers the next: under load, batches (and transactions) grow.
            for await batch in events { await process(batch) }
        } onGracefulShutdown: {
            events.cancel()
        }
        let lanes = registry.withLock { r -> [WatchLane] in
            r.stopped = true
            return r.watches.values.map(\.lane)
        }
        // What is still queued stays in the outbox for the next start; deliveries made are settled now.
        for lane in lanes { await lane.stop() }
        await process([], final: true)
    }

    // MARK: Watches

    /// Reads every stored watch with the durable state: observations, judged positions, and the outbox, whose deliveries are
    /// queued again. A seller with watches but no judged position (watches stored before the outbox existed) is judged from
    /// now, with the current state as its watches' baseline.
    func resume() async throws {
        let stored = try await store.all()
        let point = try await store.resumePoint()
        let now = clock.now()
        var baseline = WatchJudgement()
        let lanes = registry.withLock { r -> [String: WatchLane] in
            r.judged = point.cursors
            for watch in stored { add(watch, to: &r) }
            for (key, o) in point.observations { r.last["\(key.watchId)\u{0}\(key.sku)"] = o }
            for (seller, count) in r.perSeller where count > 0 && point.cursors[seller] == nil {
                guard let snapshot = ledger.snapshot.seller(seller) else { continue }
                baseline.cursors[seller] = snapshot.lastSequence
                r.judged[seller] = snapshot.lastSequence
                for w in r.watches.values where w.stored.seller == seller {
                    for (sku, o) in Self.baseline(w.spec, filter: w.filter, seller: snapshot, now: now)
                    where r.last["\(w.stored.id)\u{0}\(sku)"] == nil {
                        r.last["\(w.stored.id)\u{0}\(sku)"] = o
                        baseline.observations[WatchObservationKey(seller: seller, watchId: w.stored.id, sku: sku)] = o
                    }
                }
            }
            r.loaded = true
            return r.watches.mapValues(\.lane)
        }
        try await store.commit(baseline)
        for entry in point.outbox { lanes[entry.watchId]?.enqueue(PendingDelivery(entry)) }
    }

    /// What a new watch observes now of the SKUs it names (for a query watch, those satisfying the query).
    static func baseline(_ spec: WatchSpec, filter: CatalogFilter?, seller: SellerSnapshot, now: Date) -> [String: WatchObservation] {
        var out: [String: WatchObservation] = [:]
        let catalog = seller.catalog
        if let filter {
            for state in seller.allStates() where state.item.active && filter.admits(state, now: now) {
                out[state.sku] = observe(state, spec: spec, catalog: catalog, now: now)
            }
            return out
        }
        for sku in spec.productId.map({ seller.skus(ofProduct: $0) }) ?? spec.skus {
            guard let state = seller.sku(sku) else { continue }
            out[sku] = observe(state, spec: spec, catalog: catalog, now: now)
        }
        return out
    }

    /// Stores a new watch with its baseline (what it observes now) and starts judging it; false when the token already holds
    /// `limit` watches.
    func create(_ watch: StoredWatch, spec: WatchSpec, seller: SellerSnapshot, limitPerToken limit: Int) async throws -> Bool {
        // The seller's snapshot moves on as changes are applied: the position is read first, so the baseline shows at least it.
        let position = seller.lastSequence
        let observations = Self.baseline(spec, filter: spec.query?.filter, seller: seller, now: clock.now())
        guard try await store.insert(watch, observations: observations, position: position, limitPerToken: limit) else { return false }
        await register(watch, baseline: observations, at: position)
        return true
    }

    /// Starts judging a stored watch whose baseline was observed at ledger sequence `position` or later. Changes committed after that
    /// may already have been judged without it (a batch judged while the watch was being stored): under the registry lock,
    /// which judging holds too, the watch is added and its SKUs observed again in the current snapshot, so a transition the
    /// baseline does not show fires now, and a batch judged later compares against what was observed here (never twice).
    func register(_ watch: StoredWatch, baseline: [String: WatchObservation], at position: Int64) async {
        let (judgement, due) = registry.withLock { r -> (WatchJudgement, [(WatchLane, PendingDelivery)]) in
            var judgement = WatchJudgement()
            var due: [(WatchLane, PendingDelivery)] = []
            guard r.loaded, !r.stopped else { return (judgement, due) }
            add(watch, to: &r)
            for (sku, o) in baseline { r.last["\(watch.id)\u{0}\(sku)"] = o }
            if r.judged[watch.seller] == nil { r.judged[watch.seller] = position }
            guard let active = r.watches[watch.id], let seller = ledger.snapshot.seller(watch.seller), seller.lastSequence > position else {
                return (judgement, due)
            }
            let now = clock.now()
            let current = Self.baseline(active.spec, filter: active.filter, seller: seller, now: now)
            for sku in Set(baseline.keys).union(current.keys).sorted() {
                guard let state = seller.sku(sku) else { continue }
                Self.observed(current[sku] ?? Self.outside(state, spec: active.spec, now: now), of: state, by: active, id: watch.id,
                              seller: watch.seller, sequence: state.lastSequence, changedAt: state.updatedAt, now: now,
                              registry: &r, judgement: &judgement, due: &due)
            }
            return (judgement, due)
        }
        guard !judgement.isEmpty else { return }
        do {
            try await store.commit(judgement)
        } catch {
            logger.error("watch deliveries could not be written; they are attempted from memory", metadata: ["error": "\(error)"])
        }
        for (lane, delivery) in due { lane.enqueue(delivery) }
    }

    /// Brings the seller's watches up to the store after another node created, deleted, paused or replayed one (on the node
    /// that delivers; elsewhere the service is not running and this does nothing): deleted watches stop, new ones start
    /// from the baseline their node stored, pause states are taken over, and the seller's outbox is queued again (a
    /// delivery already queued is replaced by the same one, keyed by its delivery id, so a receiver sees it at least once).
    public func sync(seller: String) async {
        guard registry.withLock({ $0.loaded && !$0.stopped }) else { return }
        do {
            let stored = try await store.list(seller: seller)
            let known = registry.withLock { r in Set(r.watches.values.filter { $0.stored.seller == seller }.map(\.stored.id)) }
            for id in known.subtracting(stored.map(\.id)) { removed(id: id) }
            let point = try await store.resumePoint()
            for watch in stored where !known.contains(watch.id) {
                var baseline: [String: WatchObservation] = [:]
                for (key, o) in point.observations where key.watchId == watch.id && key.seller == seller { baseline[key.sku] = o }
                await register(watch, baseline: baseline, at: point.cursors[seller] ?? 0)
            }
            let lanes = registry.withLock { r -> [String: WatchLane] in
                for watch in stored {
                    r.watches[watch.id]?.stored.pausedReason = watch.pausedReason
                    r.watches[watch.id]?.stored.pausedAt = watch.pausedAt
                }
                return r.watches.filter { $0.value.stored.seller == seller }.mapValues(\.lane)
            }
            for entry in point.outbox where entry.seller == seller { lanes[entry.watchId]?.enqueue(PendingDelivery(entry)) }
        } catch {
            logger.error("watches could not be brought up to the store", metadata: ["seller": "\(seller)", "error": "\(error)"])
        }
    }

    /// Stops judging a deleted watch; deliveries already queued for it are dropped.
    func removed(id: String) {
        let lane = registry.withLock { r -> WatchLane? in
            guard let w = r.watches.removeValue(forKey: id) else { return nil }
            let seller = w.stored.seller
            for sku in w.spec.skus { r.bySKU["\(seller)\u{0}\(sku)"]?.remove(id) }
            if let product = w.spec.productId { r.byProduct["\(seller)\u{0}\(product)"]?.remove(id) }
            if w.spec.query != nil { r.byQuery[seller]?.remove(id) }
            r.perSeller[seller, default: 1] -= 1
            r.last = r.last.filter { !$0.key.hasPrefix("\(id)\u{0}") }
            return w.lane
        }
        lane?.discard()
    }

    /// Resumes a watch (after a replay took its dead letters into the outbox) and queues the replayed SKUs for delivery now.
    func replay(_ entries: [WatchOutboxEntry], watchId: String) {
        let lane = registry.withLock { r -> WatchLane? in
            r.watches[watchId]?.stored.pausedReason = nil
            r.watches[watchId]?.stored.pausedAt = nil
            return r.watches[watchId]?.lane
        }
        guard let lane else { return }
        for entry in entries { lane.enqueue(PendingDelivery(entry)) }
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
        r.watches[watch.id] = ActiveWatch(stored: watch, spec: spec, filter: spec.query?.filter, lane: lane)
        for sku in spec.skus { r.bySKU["\(watch.seller)\u{0}\(sku)", default: []].insert(watch.id) }
        if let product = spec.productId { r.byProduct["\(watch.seller)\u{0}\(product)", default: []].insert(watch.id) }
        if spec.query != nil { r.byQuery[watch.seller, default: []].insert(watch.id) }
        r.perSeller[watch.seller, default: 0] += 1
    }

    // MARK: Judging

    /// Judges every change committed after each seller's judged position (written before the last stop, a crash included).
    func catchUp() async {
        let sellers = registry.withLock { r in r.judged.filter { r.perSeller[$0.key, default: 0] > 0 } }
        for (seller, _) in sellers.sorted(by: { $0.key < $1.key }) {
            while !Task.isCancelled {
                let after = registry.withLock { $0.judged[seller] } ?? 0
                let page: [LedgerEvent]
                do {
                    page = try await ledger.readEvents(seller: seller, after: after, limit: 1024)
                } catch {
                    logger.error("watches could not catch up from the ledger", metadata: ["seller": "\(seller)", "error": "\(error)"])
                    break
                }
                if page.isEmpty { break }
                await process(page)
            }
        }
    }

    /// One batch of the change feed (or of the catch-up, or an empty wake-up): events already judged are skipped, a hole
    /// before a seller's first event is read from the ledger, the rest judged; what that leaves behind (and the deliveries made
    /// meanwhile) is written in one transaction, then the deliveries that fired are queued.
    func process(_ batch: [LedgerEvent], final: Bool = false) async {
        var events: [LedgerEvent] = []
        events.reserveCapacity(batch.count)
        var judged = registry.withLock { $0.judged }
        var holes: [(seller: String, after: Int64, before: Int64)] = []
        for e in batch {
            if let last = judged[e.seller] {
                if e.sequence <= last { continue }
                if e.sequence > last + 1 { holes.append((e.seller, last, e.sequence)) }
            }
            judged[e.seller] = e.sequence
            events.append(e)
        }
        for hole in holes {
            var after = hole.after
            while after < hole.before - 1 {
                guard let page = try? await ledger.readEvents(seller: hole.seller, after: after, limit: 1024), let last = page.last else { break }
                events.append(contentsOf: page.filter { $0.sequence < hole.before })
                after = last.sequence
            }
        }
        if !holes.isEmpty { events.sort { ($0.seller, $0.sequence) < ($1.seller, $1.sequence) } }
        var (judgement, due) = judge(events)
        judgement.delivered = made.withLock { m in
            defer { m.removeAll() }
            return m
        }
        let now = ContinuousClock.now
        if judgement.observations.isEmpty && judgement.fired.isEmpty && judgement.delivered.isEmpty && !final
            && now - cursorWritten.withLock({ $0 }) < Self.cursorInterval {
            judgement.cursors = [:]
        }
        if !judgement.cursors.isEmpty { cursorWritten.withLock { $0 = now } }
        do {
            try await store.commit(judgement)
        } catch {
            logger.error("watch deliveries could not be written; they are attempted from memory", metadata: ["error": "\(error)"])
        }
        // The lanes do the rest (a paused watch's lane turns what fired into dead letters, coalesced per SKU): judging never
        // waits for a target.
        for (lane, delivery) in due { lane.enqueue(delivery) }
    }

    /// Judges events (in sequence order per seller): each changed SKU once (its latest state), against every watch naming it.
    func judge(_ batch: [LedgerEvent]) -> (WatchJudgement, [(WatchLane, PendingDelivery)]) {
        var judgement = WatchJudgement()
        var due: [(WatchLane, PendingDelivery)] = []
        guard !batch.isEmpty else { return (judgement, due) }
        var changed: [String: LedgerEvent] = [:]
        var through: [String: Int64] = [:]
        for e in batch {
            through[e.seller] = max(through[e.seller] ?? 0, e.sequence)
            guard let sku = e.event.sku else { continue }
            changed["\(e.seller)\u{0}\(sku)"] = e
        }
        let now = clock.now()
        registry.withLock { r in
            for (seller, sequence) in through {
                r.judged[seller] = max(r.judged[seller] ?? 0, sequence)
                if r.perSeller[seller, default: 0] > 0 { judgement.cursors[seller] = r.judged[seller] }
            }
            guard r.loaded, !r.watches.isEmpty else { return }
            var snapshots: [String: SellerSnapshot] = [:]
            // In commit order, so one watch's deliveries queue in the order their changes were made.
            for (key, e) in changed.sorted(by: { $0.value.sequence < $1.value.sequence }) {
                guard r.perSeller[e.seller, default: 0] > 0, let sku = e.event.sku else { continue }
                guard let seller = snapshots[e.seller] ?? ledger.snapshot.seller(e.seller), let state = seller.sku(sku) else { continue }
                snapshots[e.seller] = seller
                var ids = r.bySKU[key] ?? []
                if let product = r.byProduct["\(e.seller)\u{0}\(state.item.productId)"] { ids.formUnion(product) }
                if let queries = r.byQuery[e.seller] { ids.formUnion(queries) }
                for id in ids {
                    guard let watch = r.watches[id] else { continue }
                    let matches: Bool
                    if let filter = watch.filter {
                        matches = state.item.active && filter.admits(state, now: now)
                    } else if let product = watch.spec.productId {
                        matches = state.item.productId == product
                    } else {
                        matches = true
                    }
                    let current = matches ? Self.observe(state, spec: watch.spec, catalog: seller.catalog, now: now) : Self.outside(state, spec: watch.spec, now: now)
                    Self.observed(current, of: state, by: watch, id: id, seller: e.seller, sequence: e.sequence, changedAt: e.recordedAt, now: now,
                                  registry: &r, judgement: &judgement, due: &due)
                }
            }
        }
        return (judgement, due)
    }

    /// One watch has observed `current` of a SKU: against what it observed last (for a product or query watch, a SKU not seen
    /// before counts as outside it) the change is recorded, and a transition into one of its conditions fires a delivery
    /// for the change at `sequence`. A SKU of a SKU watch observed for the first time is its baseline.
    static func observed(_ current: WatchObservation, of state: SKUState, by watch: ActiveWatch, id: String, seller: String, sequence: Int64,
                         changedAt: Date, now: Date, registry r: inout Registry, judgement: inout WatchJudgement,
                         due: inout [(WatchLane, PendingDelivery)]) {
        let slot = "\(id)\u{0}\(state.sku)"
        let previous = r.last[slot] ?? (watch.open ? outside(state, spec: watch.spec, now: now) : nil)
        guard previous != current else { return }
        r.last[slot] = current
        judgement.observations[WatchObservationKey(seller: seller, watchId: id, sku: state.sku)] = current
        guard let previous, let type = watch.spec.fires(from: previous, to: current) else { return }
        let entry = WatchOutboxEntry(seller: seller, watchId: id, sku: state.sku, deliveryId: WatchOutboxEntry.newDeliveryId(),
                                     eventType: type.rawValue, sequence: sequence, changedAt: changedAt)
        judgement.fired.append(entry)
        due.append((watch.lane, PendingDelivery(entry)))
    }

    /// What a watch compares for one SKU now.
    static func observe(_ state: SKUState, spec: WatchSpec, catalog: SellerCatalog, now: Date) -> WatchObservation {
        var window: String?
        if let d = spec.destination,
           let first = DeliveryPlanner.options(for: state, qty: spec.qty, destination: Destination(country: d.country, postalCode: d.postalCode),
                                               catalog: catalog, now: now).first {
            window = "\(first.carrier)/\(first.service) \(first.earliestDate)..\(first.latestDate)"
        }
        return spec.projected(WatchObservation(available: state.item.active ? state.available(now: now) : 0,
                                               price: state.item.effectivePrice(at: now), deliveryWindow: window))
    }

    /// What a product or query watch observes of a SKU outside its product or query: nothing available (entering it is like
    /// coming into stock, leaving it like selling out), at the SKU's price.
    static func outside(_ state: SKUState, spec: WatchSpec, now: Date) -> WatchObservation {
        spec.projected(WatchObservation(available: 0, price: state.item.effectivePrice(at: now), deliveryWindow: nil))
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
    /// offer as the offers API answers it now (the latest state; its encoded part shared with the reads through `ReadCaches`).
    /// Nil when the SKU is gone from the snapshot.
    func body(for delivery: PendingDelivery, target: Target) -> (body: [UInt8], sequence: Int64)? {
        guard let seller = ledger.snapshot.seller(target.watch.seller), let state = seller.sku(delivery.sku) else { return nil }
        let (catalog, catalogVersion) = seller.versionedCatalog
        let destination = target.spec.destination.map { Destination(country: $0.country, postalCode: $0.postalCode) } ?? Destination()
        let builder = OfferBuilder(catalog: catalog, pulses: pulses.pulses(seller: seller.id), knownSince: knownSince, now: clock.now())
        let cached = reads.offer(seller: seller.id, state: state, qty: target.spec.qty, destination: destination, channel: nil, builder: builder,
                                 catalogVersion: catalogVersion)
        let offer = cached.template.render(builder.dynamics(cached.basis, state: state, rates: velocity.rates(seller: seller.id, sku: state.sku,
                                                                                                             now: builder.now)))
        var out: [UInt8] = []
        out.reserveCapacity(offer.readableBytes + 256)
        out.append(contentsOf: #"{"changedAt":"#.utf8)
        JSONText.appendQuoted(Timestamp.format(delivery.changedAt), to: &out)
        out.append(contentsOf: #","id":"#.utf8)
        JSONText.appendQuoted(delivery.id, to: &out)
        out.append(contentsOf: #","offer":"#.utf8)
        out.append(contentsOf: offer.readableBytesView)
        out.append(contentsOf: ",\"sequence\":\(max(delivery.sequence, state.lastSequence)),\"sku\":".utf8)
        JSONText.appendQuoted(delivery.sku, to: &out)
        out.append(contentsOf: #","type":"#.utf8)
        JSONText.appendQuoted(delivery.type.rawValue, to: &out)
        out.append(contentsOf: #","watchId":"#.utf8)
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

    /// A delivery was made: its outbox row goes with the next write (soon: the feed loop is woken for it).
    func settle(_ delivery: PendingDelivery, watchId: String, seller: String, through sequence: Int64) {
        let first = made.withLock { m -> Bool in
            m.append((WatchObservationKey(seller: seller, watchId: watchId, sku: delivery.sku), max(sequence, delivery.sequence)))
            return m.count == 1
        }
        if first { events.wake() }
    }

    func deadLetter(_ deliveries: [(PendingDelivery, attempts: Int, error: String)], watchId: String, seller: String) async {
        guard !deliveries.isEmpty else { return }
        let now = clock.now()
        do {
            try await store.deadLetter(deliveries.map { d, attempts, error in
                WatchDeadLetter(watchId: watchId, sku: d.sku, eventType: d.type.rawValue, sequence: d.sequence, attempts: attempts, lastError: error,
                                failedAt: now)
            }, seller: seller)
            count { $0.deadLettered += deliveries.count }
        } catch {
            logger.error("a watch dead letter could not be stored", metadata: ["watch": "\(watchId)", "error": "\(error)"])
        }
    }

    /// Pauses a watch whose target kept failing; returns false when it was deleted or already paused.
    func pause(watchId: String, reason: String) async -> Bool {
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
            try await store.setPaused(reason, at: now, id: watch.id, seller: watch.seller)
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

/// One delivery waiting in a lane: its id (kept across retries and restarts), the SKU, what fired, and the change that fired it.
struct PendingDelivery: Sendable {
    var id: String
    var sku: String
    var type: WatchEventType
    var sequence: Int64
    var changedAt: Date

    init(_ entry: WatchOutboxEntry) {
        id = entry.deliveryId
        sku = entry.sku
        type = WatchEventType(rawValue: entry.eventType) ?? .inventory
        sequence = entry.sequence
        changedAt = entry.changedAt
    }
}

/// One watch's queue of deliveries, coalesced per SKU (a newer firing replaces a waiting one, keeping its place in line), drained
/// by at most one task at a time. The queue mirrors the watch's rows in the outbox, which outlive the process.
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

    /// At shutdown: stops attempting. What is still queued stays in the outbox for the next start.
    func stop() async {
        let task = state.withLock { s -> Task<Void, Never>? in
            s.closed = true
            return s.task
        }
        task?.cancel()
        await task?.value
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
        var lastError = "not attempted"
        var attempts = 0
        while attempts < service.policy.maxAttempts {
            guard let target = service.target(watchId) else {
                // Paused (kept as a dead letter for the seller's replay), or deleted (dropped).
                if let watch = service.current(id: watchId) {
                    let error = attempts == 0 ? "paused: \(watch.pausedReason ?? "deliveries failed")" : lastError
                    await service.deadLetter([(delivery, attempts, error)], watchId: watchId, seller: seller)
                }
                return
            }
            guard let (body, sequence) = service.body(for: delivery, target: target) else {
                service.settle(delivery, watchId: watchId, seller: seller, through: delivery.sequence)
                return
            }
            attempts += 1
            if let error = await service.attempt(body, id: delivery.id, type: delivery.type, target: target) {
                lastError = error
                service.count { $0.failedAttempts += 1 }
                // Stopping (shutdown): the delivery stays in the outbox for the next start.
                if Task.isCancelled && service.current(id: watchId) != nil && state.withLock({ $0.closed }) { return }
                let since = state.withLock { s -> Date in
                    if s.failingSince == nil { s.failingSince = service.clock.now() }
                    return s.failingSince!
                }
                if service.clock.now().timeIntervalSince(since) >= service.policy.pauseAfter {
                    let reason = "deliveries to \(target.watch.url) have failed since \(Timestamp.format(since)) (last: \(error))"
                    if await service.pause(watchId: watchId, reason: reason) { await parkQueued(reason: reason) }
                    await service.deadLetter([(delivery, attempts, error)], watchId: watchId, seller: seller)
                    return
                }
                if attempts < service.policy.maxAttempts {
                    do {
                        try await Task.sleep(for: service.backoff(after: attempts))
                    } catch {
                        // Stopped (shutdown: it stays in the outbox) or the watch was deleted (dropped with it).
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
            service.settle(delivery, watchId: watchId, seller: seller, through: sequence)
            service.count { $0.delivered += 1 }
            service.onDelivered(max(0, service.clock.now().timeIntervalSince(delivery.changedAt)))
            return
        }
        if service.current(id: watchId) != nil {
            await service.deadLetter([(delivery, attempts, lastError)], watchId: watchId, seller: seller)
        }
    }

    /// The watch was paused: what is still queued becomes dead letters.
    private func parkQueued(reason: String) async {
        let left = state.withLock { s -> [PendingDelivery] in
            defer { s.pending.removeAll(); s.order.removeAll() }
            return s.order.compactMap { s.pending[$0] }
        }
        await service.deadLetter(left.map { ($0, 0, "paused: \(reason)") }, watchId: watchId, seller: seller)
    }
}
