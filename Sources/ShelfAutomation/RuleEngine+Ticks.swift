import Foundation
import Logging
import ShelfChannels
import ShelfCore
import ShelfLedger
import ShelfRules
import Synchronization

extension RuleEngine {
    /// Runs what time makes due at the injected clock's `now`: scheduled rules whose next occurrence has come, and sync-lag rules
    /// whose connection crossed its threshold. The service calls it every second; tests call it after moving a manual clock.
    /// Returns how many rule firings it caused.
    @discardableResult
    public func tick() async -> Int {
        let actions = await fireDue()
        for task in actions { await task.value }
        return actions.count
    }

    /// Decides what time makes due and queues the actions of every firing; returns their tasks.
    func fireDue() async -> [Task<Void, Never>] {
        let now = ledger.clock.now()
        let rules = state.withLock { $0.rules }.values.flatMap { $0 }.sorted { ($0.seller, $0.id) < ($1.seller, $1.id) }
        var fired: [Task<Void, Never>] = []
        for c in rules {
            switch c.rule.trigger.event {
            case .schedule: if let task = await runSchedule(c, now: now) { fired.append(task) }
            case .syncLagging: fired += await runLag(c, now: now)
            default: continue
            }
        }
        return fired
    }

    /// The store's time zone (a seller setting; UTC when unknown or invalid).
    func timeZone(seller: String) async -> TimeZone {
        if let cached = state.withLock({ $0.timeZones[seller] }) { return cached }
        let zone = ((try? await ledger.sellerSettings(seller)).flatMap { $0 }).flatMap { TimeZone(identifier: $0.timeZone) }
            ?? TimeZone(identifier: "UTC")!
        state.withLock { $0.timeZones[seller] = zone }
        return zone
    }

    /// Fires a scheduled rule once for its latest due occurrence. The occurrence is stored before acting, so a restart never
    /// fires it twice; occurrences before the rule existed, or missed by more than `scheduleGrace`, are not fired.
    func runSchedule(_ c: Compiled, now: Date) async -> Task<Void, Never>? {
        guard let schedule = c.rule.trigger.schedule,
              let due = RuleScheduleCalendar(schedule: schedule, timeZone: await timeZone(seller: c.seller)).latest(atOrBefore: now)
        else { return nil }
        let key = "\(c.seller)\u{0}\(c.id)"
        if let handled = state.withLock({ $0.occurrences[key] }), due <= handled { return nil }
        guard due >= c.createdAt else { return nil }
        let claimed: Bool
        do {
            claimed = try await store.claimOccurrence(due, id: c.id, seller: c.seller)
        } catch {
            logger.error("schedule occurrence not claimed; not firing", metadata: ["rule": "\(c.id)", "error": "\(error)"])
            return nil
        }
        state.withLock { $0.occurrences[key] = max($0.occurrences[key] ?? due, due) }
        guard claimed else { return nil }
        guard now.timeIntervalSince(due) <= scheduleGrace else {
            logger.warning("missed schedule occurrence skipped", metadata: ["rule": "\(c.id)", "occurrence": "\(Timestamp.format(due))"])
            return nil
        }
        let measurer = self.measurer
        let firing = RuleFiring.schedule(due)
        var matched: [SKUState] = []
        if Self.needsItems(c.rule) {
            let states = ledger.snapshot.seller(c.seller)?.allStates() ?? []
            for sku in states where sku.item.active && Self.inScope(c.rule.trigger.scope, state: sku) {
                guard await measurer.holds(c.rule.conditions, .init(seller: c.seller, trigger: c.rule.trigger, sku: sku, firing: firing, at: now))
                else { continue }
                matched.append(sku)
                if matched.count >= maxSKUsPerFiring { break }
            }
            guard !matched.isEmpty else { return nil }
        } else {
            guard await measurer.holds(c.rule.conditions, .init(seller: c.seller, trigger: c.rule.trigger, sku: nil, firing: firing, at: now))
            else { return nil }
        }
        // Each occurrence stands alone (schedule conditions are levels): only the rate limit applies.
        let admitted = state.withLock { s in
            s.truth["\(c.id)\u{0}schedule"] = false
            return admit(c, key: "\(c.id)\u{0}schedule", truth: true, now: now, state: &s)
        }
        guard admitted else { return nil }
        return queueActions(c, skus: matched, firing: firing, now: now)
    }

    /// A scheduled rule iterates the SKUs in its scope when it names items, compares item metrics, or acts on items.
    static func needsItems(_ rule: Rule) -> Bool {
        if RuleMeasurer.hasItems(rule.trigger.scope) { return true }
        let itemMetrics: Set<RuleMetric> = [.stock, .price, .velocityRatio]
        if rule.conditions.contains(where: { itemMetrics.contains($0.metric) || RuleMeasurer.hasItems($0.scope) }) { return true }
        return rule.actions.contains { itemActions.contains($0.type) && $0.scope == nil }
    }

    /// Actions that act on SKUs.
    static let itemActions: Set<RuleActionType> = [
        .pauseListing, .resumeListing, .setSafetyStock, .setSafetyStockMultiplier, .setChannelBuffer, .setPrice, .adjustPrice, .reorder,
        .prioritizeSync,
    ]

    /// Fires a sync-lag rule for each of its connections whose lag crosses the threshold (30 s when the rule names none).
    func runLag(_ c: Compiled, now: Date) async -> [Task<Void, Never>] {
        guard let propagator = parts.withLock({ $0.propagator }) else { return [] }
        let lags = propagator.syncLag(seller: c.seller, now: now)
        let scope = c.rule.trigger.scope
        let connections = ((try? await ledger.connections(seller: c.seller)) ?? []).filter { connection in
            (scope.channels.map { $0.contains(connection.channel) } ?? true)
                && !(scope.excludeChannels ?? []).contains(connection.channel)
        }
        var conditions = c.rule.conditions
        if !conditions.contains(where: { $0.metric == .syncLag }) {
            conditions.insert(RuleCondition(metric: .syncLag, op: .gt, value: .number(30), edge: true), at: 0)
        }
        let measurer = self.measurer
        var fired: [Task<Void, Never>] = []
        for connection in connections {
            let seconds = lags[connection.id] ?? 0
            let firing = RuleFiring.lag(connection: connection.id, channel: connection.channel, seconds: seconds)
            let truth = await measurer.holds(conditions, .init(seller: c.seller, trigger: c.rule.trigger, sku: nil, firing: firing, at: now))
            let admitted = state.withLock { s in admit(c, key: "\(c.id)\u{0}\(connection.id)", truth: truth, now: now, state: &s) }
            guard admitted else { continue }
            fired.append(queueActions(c, skus: [], firing: firing, now: now))
        }
        return fired
    }
}
