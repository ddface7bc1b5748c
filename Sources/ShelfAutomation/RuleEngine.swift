import Foundation
import Logging
import ServiceLifecycle
import ShelfChannels
import ShelfCore
import ShelfCurl
import ShelfLedger
import ShelfRules
import Synchronization

/// Runs sellers' rules: on the change feed (sync failures arrive there as `sync.failed` events), on their schedules (the
/// injected clock, in the store's time zone) and on connections' sync lag. Conditions are checked right after the event, or at
/// the tick; thresholds marked `edge` fire when they become true, not while they stay true. Evaluation only decides which
/// rules fire: their actions run on the seller's lane of the action executor, and notifications go through the durable
/// notification outbox, so a slow action or a webhook that never answers holds back nobody else's rules. Every action goes
/// through the ledger as an event carrying the rule id and, as its key, the triggering event (provenance); a rule's own events
/// never trigger it again, and each rule fires at most `maxFiringsPerMinute` times a minute.
public final class RuleEngine: Service, Sendable {
    let ledger: Ledger
    let store: any RuleStore
    let curl: CurlClient
    let notifyURL: String?
    let logger: Logger
    public let maxFiringsPerMinute = 30
    /// A schedule occurrence missed by more than this (the server was down) is skipped rather than fired late.
    public let scheduleGrace: TimeInterval = 3600
    /// Most SKUs one scheduled firing acts on (Flow's loops stop at 100; a seller's sweep may be larger, but bounded).
    public let maxSKUsPerFiring = 1000
    /// How long `prioritize_sync` keeps a SKU first in the propagator's line.
    public let priorityWindow: TimeInterval = 900
    /// A `sync.failed` rule fires once per channel outage (per item when it names items): again only after this long.
    public let syncFailureQuiet: TimeInterval = 300
    /// A rule whose firings fail this many times in a row (actions refused or out of range) is paused with the reason.
    public let maxConsecutiveFailures = 5
    let state = Mutex(EngineState())
    let parts = Mutex(Parts())
    let executor = ActionExecutor()
    /// Delivers the notifications rules send (the engine's `run` runs it).
    public let notifications: NotificationDispatcher
    /// Subscribed at construction, so no event committed between start-up and `run()` is missed; the change feed never drops one.
    private let events: ChangeFeed.Subscription

    struct Compiled: Sendable {
        var seller: String
        var id: String
        var rule: Rule
        var createdAt: Date
    }

    struct EngineState {
        var rules: [String: [Compiled]] = [:]
        /// Last truth of a rule's conditions per rule and SKU (or connection, for sync lag), for edge thresholds.
        var truth: [String: Bool] = [:]
        var firings: [String: [Date]] = [:]
        /// Last schedule occurrence handled per rule (mirrors the store).
        var occurrences: [String: Date] = [:]
        var timeZones: [String: TimeZone] = [:]
        /// Per rule and channel: a channel-wide `sync.failed` rule stays quiet until then.
        var quietUntil: [String: Date] = [:]
        /// Consecutive failed firings per rule id.
        var failureStreaks: [String: Int] = [:]
    }

    /// The services rules act through; absent ones make their actions record that they could not run.
    struct Parts: Sendable {
        var propagator: ConnectionRegistry?
        var reconciler: Reconciler?
        var spikes: DemandSpikeMonitor?
    }

    /// `outbox` keeps the rules' notifications (by default the ledger's own store).
    public init(ledger: Ledger, store: any RuleStore, outbox: (any NotificationOutbox)? = nil, curl: CurlClient, notifyURL: String?,
                logger: Logger = Logger(label: "shelf.rules")) {
        self.ledger = ledger
        self.store = store
        self.curl = curl
        self.notifyURL = notifyURL
        self.logger = logger
        notifications = NotificationDispatcher(outbox: outbox ?? ledger.stores.notifications, curl: curl, clock: ledger.clock)
        events = ledger.snapshot.feed.subscribe()
    }

    /// Lets rules read sync lag and velocity, prioritise pushes and reconcile channels.
    public func connect(propagator: ConnectionRegistry, reconciler: Reconciler, spikes: DemandSpikeMonitor) {
        parts.withLock { $0 = Parts(propagator: propagator, reconciler: reconciler, spikes: spikes) }
    }

    var measurer: RuleMeasurer {
        let p = parts.withLock { $0 }
        return RuleMeasurer(ledger: ledger, propagator: p.propagator, spikes: p.spikes)
    }

    /// Re-reads the enabled rules and primes edge conditions with the current state (so "drops below" means a crossing).
    public func reload() async {
        let rows = (try? await store.enabled()) ?? []
        var rules: [String: [Compiled]] = [:]
        for (seller, stored) in rows {
            guard let rule = try? JSONDecoder().decode(Rule.self, from: Data(stored.rule.utf8)) else { continue }
            rules[seller, default: []].append(Compiled(seller: seller, id: stored.id, rule: rule, createdAt: stored.createdAt))
        }
        let now = ledger.clock.now()
        let known = state.withLock { $0.truth }
        let measurer = self.measurer
        var primed: [String: Bool] = [:]
        for (seller, compiled) in rules {
            guard let snapshot = ledger.snapshot.seller(seller) else { continue }
            for c in compiled where c.rule.trigger.event == .stockChanged {
                for sku in c.rule.trigger.scope.skus ?? snapshot.allSKUIDs() {
                    guard let sku = snapshot.sku(sku) else { continue }
                    let key = "\(c.id)\u{0}\(sku.sku)"
                    if let truth = known[key] {
                        primed[key] = truth
                    } else {
                        primed[key] = await measurer.holds(c.rule.conditions, .init(
                            seller: seller, trigger: c.rule.trigger, sku: sku, firing: .schedule(now), at: now))
                    }
                }
            }
            for c in compiled where c.rule.trigger.event == .syncLagging {
                for (key, value) in known where key.hasPrefix("\(c.id)\u{0}") { primed[key] = value }
            }
        }
        state.withLock { s in
            s.rules = rules
            s.truth = primed
        }
    }

    public func run() async throws {
        // Nothing to do until start-up has built the snapshot; a shutdown during start-up ends the service at once.
        guard await ledger.snapshot.readyOrShutdown() else { return }
        await reload()
        let events = self.events
        // Cancelled on graceful shutdown, which ends the subscription loop and the ticker.
        try await cancelWhenGracefulShutdown {
            try await withThrowingTaskGroup(of: Void.self) { group in
                // The notification outbox is delivered beside evaluation, never on its path.
                group.addTask { try await self.notifications.run() }
                group.addTask {
                    // Decides the firings and hands their actions to the executor without waiting for them.
                    for await batch in events where !batch.isEmpty { _ = await self.fire(batch) }
                }
                group.addTask {
                    // `try?`: a cancelled sleep ends this child quietly (an error here would fail the whole service group at
                    // shutdown whenever it finished before the subscription loop).
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(1))
                        if Task.isCancelled { break }
                        _ = await self.fireDue()
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        }
        await executor.drain()
    }

    /// Evaluates rules against one committed batch and waits for the actions of the firings it caused; returns how many.
    @discardableResult
    public func evaluate(_ batch: [LedgerEvent]) async -> Int {
        let actions = await fire(batch)
        for task in actions { await task.value }
        return actions.count
    }

    /// Actions queued or running on the executor now.
    public var pendingActions: Int { executor.pending }

    /// Queues a firing's actions on the seller's lane of the executor.
    func queueActions(_ c: Compiled, skus: [SKUState], firing: RuleFiring, now: Date) -> Task<Void, Never> {
        executor.submit(seller: c.seller) { await self.act(c, skus: skus, firing: firing, now: now) }
    }

    /// Evaluates rules against one committed batch and queues the actions of every firing; returns their tasks.
    func fire(_ batch: [LedgerEvent]) async -> [Task<Void, Never>] {
        let now = ledger.clock.now()
        let rules = state.withLock { $0.rules }
        let measurer = self.measurer
        var candidates: [(Compiled, SKUState, LedgerEvent, Bool)] = []
        for event in batch {
            guard let compiled = rules[event.seller], let sku = event.event.sku,
                  let current = ledger.snapshot.seller(event.seller)?.sku(sku) else { continue }
            for c in compiled where event.event.ruleId != c.id && Self.matches(c.rule.trigger, event: event.event, state: current) {
                let truth = await measurer.holds(c.rule.conditions, .init(
                    seller: c.seller, trigger: c.rule.trigger, sku: current, firing: .event(event), at: event.recordedAt))
                candidates.append((c, current, event, truth))
            }
        }
        var fire: [(Compiled, SKUState, LedgerEvent)] = []
        state.withLock { s in
            for (c, sku, event, truth) in candidates {
                if c.rule.trigger.event == .syncFailed {
                    // "When Amazon sync fails" is about the channel: one firing per outage, not one per dead-lettered SKU; a rule
                    // that names items fires once per item. Quiet for a while after, so a rule whose action pushes again
                    // (prioritize, reconcile) cannot loop on a channel that keeps failing.
                    let item = RuleMeasurer.hasItems(c.rule.trigger.scope) ? sku.sku : ""
                    let key = "\(c.id)\u{0}failed\u{0}\(event.event.channel ?? "")\u{0}\(item)"
                    guard truth, (s.quietUntil[key] ?? .distantPast) <= now else { continue }
                    guard admit(c, key: key, truth: true, now: now, state: &s) else { continue }
                    s.truth[key] = false
                    s.quietUntil[key] = now.addingTimeInterval(syncFailureQuiet)
                    fire.append((c, sku, event))
                } else if admit(c, key: "\(c.id)\u{0}\(sku.sku)", truth: truth, now: now, state: &s) {
                    fire.append((c, sku, event))
                }
            }
        }
        return fire.map { c, sku, event in queueActions(c, skus: [sku], firing: .event(event), now: now) }
    }

    /// Records the truth of a rule for one key and decides whether it fires now (edge crossing or level truth, within the rate).
    func admit(_ c: Compiled, key: String, truth: Bool, now: Date, state s: inout EngineState) -> Bool {
        let edge = c.rule.conditions.contains { $0.edge == true }
        let was = s.truth[key] ?? false
        s.truth[key] = truth
        guard truth, !edge || !was else { return false }
        var recent = (s.firings[c.id] ?? []).filter { now.timeIntervalSince($0) < 60 }
        guard recent.count < maxFiringsPerMinute else { return false }
        recent.append(now)
        s.firings[c.id] = recent
        return true
    }

    /// Whether an event is one the trigger watches, for an item in its scope.
    static func matches(_ trigger: RuleTrigger, event: ShelfEvent, state: SKUState) -> Bool {
        guard inScope(trigger.scope, state: state) else { return false }
        let scope = trigger.scope
        if let channels = scope.channels, let channel = event.channel, !channels.contains(channel) { return false }
        if let excluded = scope.excludeChannels, let channel = event.channel, excluded.contains(channel) { return false }
        // An event spread over several locations (an allocated order) is in scope when any of its locations is.
        if let locations = scope.locations, event.location != nil, !event.parts.contains(where: { locations.contains($0.location) }) { return false }
        if let excluded = scope.excludeLocations, event.location != nil, event.parts.allSatisfy({ excluded.contains($0.location) }) { return false }
        switch trigger.event {
        case .stockChanged:
            return [.orderConfirmed, .orderCancelled, .orderFulfilled, .orderRerouted, .returnReceived, .stockReceived, .stockAdjusted,
                    .stockSet, .safetyStockSet, .reservationCreated, .reservationReleased, .reservationExpired, .reservationCommitted,
                    .demandSpikeStarted, .demandSpikeEnded, .skuUpserted, .listingPaused, .listingResumed, .listingUpserted]
                .contains(event.type)
        case .orderConfirmed: return event.type == .orderConfirmed
        case .orderCancelled: return event.type == .orderCancelled
        case .returnReceived: return event.type == .returnReceived
        case .stockReceived: return event.type == .stockReceived
        case .priceChanged: return event.type == .priceChanged
        case .reservationCreated: return event.type == .reservationCreated
        case .reservationExpired: return event.type == .reservationExpired
        case .demandSpike: return event.type == .demandSpikeStarted
        case .varianceDetected: return event.type == .inventoryVarianceDetected
        case .syncFailed: return event.type == .syncFailed
        case .syncLagging, .schedule: return false
        }
    }

    /// Whether a SKU belongs to a scope's item keys (SKUs, prefix, pattern, tags, collection, supplier) and exclusions.
    static func inScope(_ scope: RuleScope, state: SKUState) -> Bool {
        let sku = state.sku
        if let skus = scope.skus, !skus.contains(sku) { return false }
        if let excluded = scope.excludeSkus, excluded.contains(sku) { return false }
        if let prefix = scope.skuPrefix, !sku.hasPrefix(prefix) { return false }
        if let pattern = scope.skuPattern, !glob(pattern, matches: sku) { return false }
        let tags = Set(state.item.tags.map { $0.lowercased() })
        if let wanted = scope.tags, !wanted.contains(where: { tags.contains($0.lowercased()) }) { return false }
        if let excluded = scope.excludeTags, excluded.contains(where: { tags.contains($0.lowercased()) }) { return false }
        if let collection = scope.collection,
           !state.item.collections.contains(where: { $0.caseInsensitiveCompare(collection) == .orderedSame }) { return false }
        if let suppliers = scope.suppliers, !suppliers.contains(state.item.supplier ?? "") { return false }
        return true
    }

    /// `*` matches any run of characters (SKU patterns like `CAP-*-RED`); everything else literally, ignoring case.
    static func glob(_ pattern: String, matches text: String) -> Bool {
        let parts = pattern.uppercased().split(separator: "*", omittingEmptySubsequences: false).map(String.init)
        var rest = Substring(text.uppercased())
        for (i, part) in parts.enumerated() {
            if i == 0 {
                guard rest.hasPrefix(part) else { return false }
                rest = rest.dropFirst(part.count)
            } else if i == parts.count - 1 {
                return part.isEmpty || (rest.hasSuffix(part) && rest.count >= part.count)
            } else if let range = rest.range(of: part) {
                rest = rest[range.upperBound...]
            } else {
                return false
            }
        }
        return rest.isEmpty
    }
}
