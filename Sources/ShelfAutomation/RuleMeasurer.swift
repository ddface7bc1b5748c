import Foundation
import ShelfChannels
import ShelfCore
import ShelfLedger
import ShelfRules

/// Measures the metrics of rule conditions (rules-grammar §4.3) at one instant: state from the snapshot, rolling counts from
/// the ledger, sync lag from the propagator, event attributes from the firing event. Money is compared in minor units,
/// durations in seconds. A metric that cannot be measured for the firing makes its condition false.
struct RuleMeasurer: Sendable {
    let ledger: Ledger
    let propagator: ConnectionRegistry?
    let spikes: DemandSpikeMonitor?

    /// What a condition is measured against.
    struct Subject {
        var seller: String
        var trigger: RuleTrigger
        var sku: SKUState?
        var firing: RuleFiring
        /// The instant the rule is evaluated at (the event's commit, or the schedule tick).
        var at: Date
    }

    /// True when every condition holds (an `unless` guard holds when its comparison does not).
    func holds(_ conditions: [RuleCondition], _ subject: Subject) async -> Bool {
        for c in conditions where !(await holds(c, subject)) { return false }
        return true
    }

    func holds(_ c: RuleCondition, _ subject: Subject) async -> Bool {
        guard let x = await measure(c, subject) else { return false }
        let result: Bool
        switch c.op {
        case .lt: result = x < Self.number(c.value)
        case .lte: result = x <= Self.number(c.value)
        case .gt: result = x > Self.number(c.value)
        case .gte: result = x >= Self.number(c.value)
        case .eq: result = x == Self.number(c.value)
        case .neq: result = x != Self.number(c.value)
        case .between: result = x >= Self.number(c.min) && x <= Self.number(c.max)
        }
        return c.negate == true ? !result : result
    }

    /// A condition value as a plain number: money in minor units, durations in seconds; NaN (never equal) when absent.
    static func number(_ value: RuleValue?) -> Double {
        switch value {
        case .number(let n): n.value
        case .money(let m): Double(m.amount)
        case .duration(let iso): RuleDurationFormat.seconds(iso) ?? .nan
        case nil: .nan
        }
    }

    /// The scope a condition looks at: its own, or for the trigger comparison (`edge`) the trigger's places and channels.
    static func scope(of c: RuleCondition, trigger: RuleTrigger) -> RuleScope {
        if let own = c.scope { return own }
        guard c.edge == true else { return RuleScope() }
        return RuleScope(channels: trigger.scope.channels, locations: trigger.scope.locations)
    }

    /// True when the rule names items, so rolling counts are per item rather than seller-wide.
    static func hasItems(_ scope: RuleScope?) -> Bool {
        guard let s = scope else { return false }
        return s.skus != nil || s.tags != nil || s.skuPrefix != nil || s.skuPattern != nil || s.collection != nil
    }

    func measure(_ c: RuleCondition, _ subject: Subject) async -> Double? {
        let scope = Self.scope(of: c, trigger: subject.trigger)
        let event = subject.firing.event?.event
        switch c.metric {
        case .stock:
            return stock(scope: scope, subject: subject)
        case .price:
            guard let sku = subject.sku else { return nil }
            if let channel = scope.channels?.first {
                return Double((sku.listing(on: channel)?.price ?? sku.item.effectivePrice(at: subject.at)).amount)
            }
            return Double(sku.item.effectivePrice(at: subject.at).amount)
        case .unitsSold, .orderCount, .cancelCount, .returnCount:
            return await count(c, scope: scope, subject: subject)
        case .velocityRatio:
            return await velocityRatio(c, subject)
        case .syncLag:
            if case .lag(_, _, let seconds) = subject.firing { return seconds }
            return await syncLag(seller: subject.seller, channels: scope.channels, now: subject.at)
        case .varianceUnits, .variancePct:
            guard let event, event.type == .inventoryVarianceDetected, let reported = event.qty, let sku = subject.sku,
                  let listing = sku.listing(on: event.channel ?? "")
            else { return nil }
            let expected = listing.publishedQuantity(available: sku.item.active ? sku.available(now: subject.at) : 0)
            let units = Double(abs(reported - expected))
            return c.metric == .varianceUnits ? units : units / Double(max(1, expected)) * 100
        case .orderQty:
            return [.orderConfirmed, .orderCancelled].contains(event?.type) ? event?.qty.map(Double.init) : nil
        case .reservationQty:
            return [.reservationCreated, .reservationExpired].contains(event?.type) ? event?.qty.map(Double.init) : nil
        case .receivedQty:
            return event?.type == .stockReceived ? event?.qty.map(Double.init) : nil
        case .priceChangePct, .absPriceChangePct:
            guard let fired = subject.firing.event, fired.event.type == .priceChanged, let new = fired.event.price,
                  let old = await previousPrice(fired), old > 0
            else { return nil }
            let pct = Double(new.amount - old) / Double(old) * 100
            return c.metric == .priceChangePct ? pct : abs(pct)
        }
    }

    /// Available units: at the scope's locations, or as published on the scope's channels, or in total.
    func stock(scope: RuleScope, subject: Subject) -> Double? {
        let states: [SKUState]
        if let skus = scope.skus, let seller = ledger.snapshot.seller(subject.seller) {
            states = skus.compactMap { seller.sku($0) }
        } else if let sku = subject.sku {
            states = [sku]
        } else {
            return nil
        }
        guard !states.isEmpty else { return nil }
        var total = 0
        for s in states {
            let available = s.item.active ? s.available(now: subject.at) : 0
            if let locations = scope.locations {
                total += locations.reduce(0) { $0 + (s.item.active ? s.available(at: $1, now: subject.at) : 0) }
            } else if let channels = scope.channels {
                total += channels.reduce(0) { $0 + (s.listing(on: $1)?.publishedQuantity(available: available) ?? 0) }
            } else {
                total += available
            }
        }
        return Double(total)
    }

    /// Orders, units, cancellations or returns in the condition's window ending at the evaluation instant: of the firing SKU
    /// when the rule names items, seller-wide otherwise; only on the scope's channels and locations when it names some.
    func count(_ c: RuleCondition, scope: RuleScope, subject: Subject) async -> Double? {
        guard let window = c.window.flatMap(RuleDurationFormat.seconds), window > 0 else { return nil }
        let perItem = Self.hasItems(subject.trigger.scope) || Self.hasItems(c.scope)
        guard !perItem || subject.sku != nil else { return nil }
        let type: EventType = switch c.metric {
        case .cancelCount: .orderCancelled
        case .returnCount: .returnReceived
        default: .orderConfirmed
        }
        guard let events = try? await ledger.events(seller: subject.seller, sku: perItem ? subject.sku?.sku : nil, types: [type],
                                              recordedAfter: subject.at.addingTimeInterval(-window), through: subject.at)
        else { return nil }
        let matching = events.filter { e in
            (scope.channels.map { list in e.event.channel.map { list.contains($0) } ?? false } ?? true)
                && (scope.locations.map { list in e.event.location.map { list.contains($0) } ?? false } ?? true)
        }
        return c.metric == .unitsSold ? Double(matching.reduce(0) { $0 + ($1.event.qty ?? 0) }) : Double(matching.count)
    }

    /// Units sold per second in the condition's window (the seller's spike window when it names none) over the rate in the
    /// baseline period before it, from the ledger's orders, with the seller's spike policy's baseline length and floor.
    func velocityRatio(_ c: RuleCondition, _ subject: Subject) async -> Double? {
        guard let sku = subject.sku else { return nil }
        let policy = await spikes?.policy(for: subject.seller) ?? DemandSpikeMonitor.Policy()
        let window = c.window.flatMap(RuleDurationFormat.seconds) ?? policy.window
        guard window > 0,
              let orders = try? await ledger.events(seller: subject.seller, sku: sku.sku, types: [.orderConfirmed],
                                              recordedAfter: subject.at.addingTimeInterval(-window - policy.baseline), through: subject.at)
        else { return nil }
        let start = subject.at.addingTimeInterval(-window)
        let recent = orders.filter { $0.recordedAt > start }.reduce(0) { $0 + ($1.event.qty ?? 0) }
        let older = orders.filter { $0.recordedAt <= start }.reduce(0) { $0 + ($1.event.qty ?? 0) }
        let baseline = max(Double(older) / policy.baseline, policy.baselineFloorPerHour / 3600)
        return Double(recent) / window / baseline
    }

    /// The largest lag among the seller's connections on `channels` (all when nil); 0 when all are caught up.
    func syncLag(seller: String, channels: [String]?, now: Date) async -> Double? {
        guard let propagator else { return nil }
        let lags = propagator.syncLag(seller: seller, now: now)
        let connections = ((try? await ledger.connections(seller: seller)) ?? []).filter { c in channels.map { $0.contains(c.channel) } ?? true }
        return connections.map { lags[$0.id] ?? 0 }.max() ?? 0
    }

    /// The price in force (for the changed channel, else the base price) just before a `price.changed` event.
    func previousPrice(_ fired: LedgerEvent) async -> Int64? {
        guard let sku = fired.event.sku,
              let history = try? await ledger.events(seller: fired.seller, sku: sku, types: [.priceChanged, .skuUpserted],
                                               before: fired.sequence, limit: 200)
        else { return nil }
        let channel = fired.event.channel
        var base: Int64?
        for e in history {
            if e.event.type == .priceChanged, let price = e.event.price {
                if e.event.channel == nil, base == nil { base = price.amount }
                if let channel, e.event.channel == channel { return price.amount }
                if channel == nil, base != nil { return base }
            } else if e.event.type == .skuUpserted, let item = e.event.item {
                if let channel, let listed = e.event.listings?.first(where: { $0.channel == channel })?.price { return listed.amount }
                return base ?? item.price.amount
            }
        }
        return base
    }
}
