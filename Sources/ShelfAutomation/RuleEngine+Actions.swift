import Foundation
import Logging
import ShelfChannels
import ShelfCore
import ShelfCurl
import ShelfLedger
import ShelfRules
import Synchronization

extension RuleEngine {
    /// Carries out a rule's actions in text order, through the same ledger commands the HTTP API submits, each event carrying
    /// the rule id and `source = rule:<id>`. Item actions apply to `skus` (the firing SKU, or the SKUs a schedule matched), or to
    /// the action's own scope when it names one; the other actions run once per firing.
    func act(_ c: Compiled, skus: [SKUState], firing: RuleFiring, now: Date) async {
        var run = RuleActionRun(engine: self, rule: c, firing: firing, now: now)
        for action in c.rule.actions {
            let targets = self.targets(of: action, rule: c, default: skus)
            switch action.type {
            case .pauseListing:
                for sku in targets {
                    run.add(channels(action, sku).filter { sku.listing(on: $0)?.listed == true }
                        .map { ShelfEvent(type: .listingPaused, sku: sku.sku, channel: $0, occurredAt: now) })
                }
            case .resumeListing:
                for sku in targets {
                    run.add(channels(action, sku).filter { sku.listing(on: $0)?.listed == false }
                        .map { ShelfEvent(type: .listingResumed, sku: sku.sku, channel: $0, occurredAt: now) })
                }
            case .setSafetyStock:
                for sku in targets {
                    run.add((action.locations ?? sku.stock.map(\.location)).map {
                        ShelfEvent(type: .safetyStockSet, sku: sku.sku, location: $0, qty: action.units ?? 0, occurredAt: now)
                    })
                }
            case .setSafetyStockMultiplier:
                for sku in targets { run.add(await multipliedSafetyStock(sku, factor: action.factor?.value ?? 1, seller: c.seller, now: now)) }
            case .setChannelBuffer:
                for sku in targets {
                    for channel in channels(action, sku) {
                        guard var listing = sku.listing(on: channel), listing.buffer != action.units ?? 0 else { continue }
                        listing.buffer = action.units ?? 0
                        run.add([ShelfEvent(type: .listingUpserted, sku: sku.sku, channel: channel, listing: listing, occurredAt: now)])
                    }
                }
            case .setPrice, .adjustPrice:
                for sku in targets {
                    switch priceEvents(action, sku: sku, now: now) {
                    case .success(let events): run.add(events, orNote: "\(action.type.rawValue) for \(sku.sku)")
                    case .failure(let failure): run.fail("\(action.type.rawValue) for \(sku.sku): \(failure.reason)", sku: sku.sku)
                    }
                }
            case .reorder:
                for sku in targets {
                    let supplier = action.supplier ?? sku.item.supplier ?? "the usual supplier"
                    let note = "reorder \(action.units ?? 0) units of \(sku.sku) from \(supplier)" + (action.location.map { " into \($0)" } ?? "")
                    run.note(note, sku: sku.sku)
                    run.notifications.append((action.supplier ?? "purchasing", "email", sku.sku, note))
                }
            case .notify:
                let message = action.message ?? defaultMessage(c, skus: skus, firing: firing, now: now)
                let to = action.to ?? "me"
                let via = action.via?.rawValue ?? "default"
                run.note("notify \(via) \(to): \(message)", sku: skus.count == 1 ? skus[0].sku : nil)
                run.notifications.append((to, via, skus.count == 1 ? skus[0].sku : nil, message))
            case .rerouteOrders:
                run.add(reroute(action, firing: firing, now: now), orNote: "reroute_orders")
            case .tagOrder:
                if let e = firing.event?.event, [.orderConfirmed, .orderCancelled, .returnReceived].contains(e.type), let tag = action.tag {
                    run.add([ShelfEvent(type: .ruleActed, sku: e.sku, channel: e.channel, orderId: e.orderId ?? firing.event?.externalId,
                                        note: "tag_order \(tag)", occurredAt: now)])
                } else {
                    run.note("tag_order skipped: the firing carries no order", sku: nil)
                }
            case .reconcileChannels:
                await run.flush()
                run.note(await reconcile(action, seller: c.seller), sku: nil)
            case .prioritizeSync:
                await run.flush()
                run.note(await prioritize(action, skus: targets, seller: c.seller, now: now), sku: targets.count == 1 ? targets[0].sku : nil)
            }
        }
        await run.flush()
        await enqueueNotifications(run.notifications, rule: c, firing: firing, now: now)
        await recordFiring(c, failures: run.failures, now: now)
    }

    /// Counts consecutive failed firings of a rule; after `maxConsecutiveFailures` the rule is paused with the last reason
    /// (stored, visible in the rules API, and noted in the audit trail) while every other rule keeps running.
    func recordFiring(_ c: Compiled, failures: [String], now: Date) async {
        let streak = state.withLock { s -> Int in
            s.failureStreaks[c.id] = failures.isEmpty ? nil : (s.failureStreaks[c.id] ?? 0) + 1
            return s.failureStreaks[c.id] ?? 0
        }
        guard streak >= maxConsecutiveFailures, let last = failures.last else { return }
        let reason = "paused after \(streak) failed firings in a row; last: \(last)"
        logger.error("rule paused", metadata: ["rule": "\(c.id)", "seller": "\(c.seller)", "reason": "\(reason)"])
        do {
            try await store.pause(id: c.id, seller: c.seller, reason: reason)
        } catch {
            logger.error("rule could not be paused", metadata: ["rule": "\(c.id)", "error": "\(error)"])
        }
        state.withLock { $0.failureStreaks[c.id] = nil }
        _ = await ledger.submit(Command(seller: c.seller, source: "rule:\(c.id)", draft: ShelfEvent(
            type: .ruleActed, ruleId: c.id, note: "rule \(reason)", occurredAt: now)))
        await reload()
    }

    /// The SKUs an action applies to: its own scope's (from the snapshot), else the firing's.
    func targets(of action: RuleAction, rule c: Compiled, default skus: [SKUState]) -> [SKUState] {
        guard let scope = action.scope, RuleMeasurer.hasItems(scope) else { return skus }
        let states = ledger.snapshot.seller(c.seller)?.allStates() ?? []
        return Array(states.filter { $0.item.active && Self.inScope(scope, state: $0) }.prefix(maxSKUsPerFiring))
    }

    /// The listed channels an action names (`all` or none = every listing), less its exclusions.
    func channels(_ action: RuleAction, _ sku: SKUState) -> [String] {
        let listed = sku.listings.map(\.channel)
        let chosen = action.channels.flatMap { $0.contains("all") ? nil : $0 } ?? listed
        return chosen.filter { listed.contains($0) && !(action.excludeChannels ?? []).contains($0) }
    }

    /// What a rule's notification says when the seller wrote no message.
    func defaultMessage(_ c: Compiled, skus: [SKUState], firing: RuleFiring, now: Date) -> String {
        let listed = skus.prefix(20).map { "\($0.sku) (\($0.available(now: now)) available)" }.joined(separator: ", ")
        switch (firing, skus.count) {
        case (.event(let e), 1):
            return "Rule \(c.id) fired for \(skus[0].sku) after \(e.event.type.rawValue): \(skus[0].available(now: now)) available"
        case (_, 0): return "Rule \(c.id) fired on \(firing.summary)"
        default: return "Rule \(c.id) fired on \(firing.summary) for \(skus.count) SKU(s): \(listed)\(skus.count > 20 ? ", …" : "")"
        }
    }

    /// Why a price action could not apply to a SKU.
    struct PriceActionFailure: Error {
        var reason: String
    }

    /// `set_price` / `adjust_price` as `price.changed` events: the base price when the action names no channel, else each
    /// listed channel's price. Percentages are applied in integer minor units and rounded to the nearest unit, halves away
    /// from zero; a result below zero becomes zero. Nil when the action's currency is not the SKU's; a failure when the result
    /// would leave `Limits.price` (never a trap: every step is checked).
    func priceEvents(_ action: RuleAction, sku: SKUState, now: Date) -> Result<[ShelfEvent]?, PriceActionFailure> {
        let currency = sku.item.price.currency
        let targets: [String?] = action.channels == nil ? [nil] : channels(action, sku).map(Optional.some)
        var events: [ShelfEvent] = []
        for channel in targets {
            let current = channel.flatMap { sku.listing(on: $0)?.price?.amount } ?? sku.item.price.amount
            let amount: Int64?
            if action.type == .setPrice {
                guard let price = action.price, price.currency == currency else { return .success(nil) }
                amount = Int64(exactly: price.amount)
            } else if let delta = action.delta {
                guard delta.currency == currency else { return .success(nil) }
                amount = Int64(exactly: delta.amount).flatMap { d in
                    let (sum, overflow) = current.addingReportingOverflow(d)
                    return overflow ? nil : sum
                }
            } else if let percent = action.percent {
                amount = Self.adjusted(current, percent: percent.value)
            } else {
                return .success(nil)
            }
            guard let amount, amount <= Limits.maxPriceMinorUnits else {
                return .failure(PriceActionFailure(reason: "the new price would exceed \(Limits.maxPriceMinorUnits) minor units"))
            }
            let next = max(0, amount)
            guard next != current else { continue }
            events.append(ShelfEvent(type: .priceChanged, sku: sku.sku, channel: channel, price: Money(amount: next, currency: currency),
                                     occurredAt: now))
        }
        return .success(events)
    }

    /// `amount` changed by `percent` (to 1/100 of a percent), rounded to the nearest minor unit, halves away from zero.
    /// Nil when the percentage is not a finite number within ±`Limits.maxPercent` or the result does not fit (never traps).
    public static func adjusted(_ amount: Int64, percent: Double) -> Int64? {
        guard percent.isFinite, abs(percent) <= Limits.maxPercent else { return nil }
        let basisPoints = Int64((percent * 100).rounded())
        let (scaled, overflow) = amount.multipliedReportingOverflow(by: 10_000 + basisPoints)
        guard !overflow else { return nil }
        let (quotient, remainder) = scaled.quotientAndRemainder(dividingBy: 10_000)
        guard remainder.magnitude * 2 >= 10_000 else { return quotient }
        return quotient + (scaled < 0 ? -1 : 1)
    }

    /// Safety stock at each location set to `factor` × the configured base (the last level not set by a rule), rounded up.
    func multipliedSafetyStock(_ sku: SKUState, factor: Double, seller: String, now: Date) async -> [ShelfEvent] {
        let history = (try? await ledger.events(seller: seller, sku: sku.sku, types: [.safetyStockSet, .skuUpserted], before: .max, limit: 500)) ?? []
        return sku.stock.compactMap { stock in
            var base = stock.level.safetyStock
            for e in history {
                if e.event.type == .safetyStockSet, e.event.ruleId == nil, e.event.location == stock.location, let qty = e.event.qty {
                    base = qty
                    break
                }
                if e.event.type == .skuUpserted, let level = e.event.levels?.first(where: { $0.location == stock.location }) {
                    base = level.level.safetyStock
                    break
                }
            }
            let product = (Double(base) * factor).rounded(.up)
            // Bounded before converting: a huge or non-finite factor must not trap (Int(Double) traps outside Int's range).
            let target = product.isFinite ? Int(min(max(0, product), Double(Limits.maxQuantity))) : Limits.maxQuantity
            guard target != stock.level.safetyStock else { return nil }
            return ShelfEvent(type: .safetyStockSet, sku: sku.sku, location: stock.location, qty: target, occurredAt: now)
        }
    }

    /// Moves the firing order's units to the action's location (`order.rerouted`); nil when the firing is not an order.
    func reroute(_ action: RuleAction, firing: RuleFiring, now: Date) -> [ShelfEvent]? {
        guard let fired = firing.event, fired.event.type == .orderConfirmed, let to = action.to, fired.event.location != nil,
              fired.event.qty != nil
        else { return nil }
        if let channels = action.channels, !channels.contains("all"), !channels.contains(fired.event.channel ?? "") { return [] }
        // An order allocated across locations moves from each location it took units from.
        return fired.event.parts.filter { $0.location != to && $0.qty > 0 }.map { part in
            ShelfEvent(type: .orderRerouted, sku: fired.event.sku, location: to, channel: fired.event.channel, qty: part.qty,
                       orderId: fired.event.orderId ?? fired.externalId, fromLocation: part.location, occurredAt: now)
        }
    }

    /// Reconciles the named channels' connections now (all when none are named) and says what it found.
    func reconcile(_ action: RuleAction, seller: String) async -> String {
        guard let reconciler = parts.withLock({ $0.reconciler }) else { return "reconcile_channels skipped: the reconciler is not running" }
        let named = action.channels.flatMap { $0.contains("all") ? nil : Set($0) }
        let connections = ((try? await ledger.connections(seller: seller)) ?? []).filter { named?.contains($0.channel) ?? true }
        guard !connections.isEmpty else { return "reconcile_channels: no connection on \(named?.sorted().joined(separator: ", ") ?? "any channel")" }
        let report = await reconciler.reconcile(seller: seller, connections: connections)
        let errors = report.errors.isEmpty ? "" : "; errors: " + report.errors.keys.sorted().joined(separator: ", ")
        return "reconcile_channels \(connections.map(\.id).joined(separator: ", ")): \(report.skusChecked) checked, "
            + "\(report.variancesFound) variance(s), \(report.healed) healed\(errors)"
    }

    /// Puts the SKUs first in the propagator's line for `priorityWindow` and queues a push of their current values.
    func prioritize(_ action: RuleAction, skus: [SKUState], seller: String, now: Date) async -> String {
        guard let propagator = parts.withLock({ $0.propagator }) else { return "prioritize_sync skipped: the propagator is not running" }
        guard !skus.isEmpty else { return "prioritize_sync: no SKU to prioritise" }
        let until = now.addingTimeInterval(priorityWindow)
        propagator.prioritize(seller: seller, skus: skus.map(\.sku), until: until)
        do {
            try await ledger.requestPush(seller: seller, skus: skus.map(\.sku))
        } catch {
            logger.warning("prioritised push not queued", metadata: ["error": "\(error)"])
        }
        let channels = action.channels.flatMap { $0.contains("all") ? nil : $0.joined(separator: ", ") } ?? "every channel"
        return "prioritize_sync \(skus.prefix(20).map(\.sku).joined(separator: ", ")) on \(channels) until \(Timestamp.format(until))"
    }

    /// Puts a firing's notifications in the durable outbox, which the notification dispatcher delivers (retried with backoff,
    /// listed and replayable): to the target's own webhook when the seller gave it an `http(s)://` address, else to the
    /// server's notify URL; a notification with neither is only the `rule.acted` note already recorded.
    func enqueueNotifications(_ notifications: [(to: String, via: String, sku: String?, message: String)], rule: Compiled,
                              firing: RuleFiring, now: Date) async {
        guard !notifications.isEmpty else { return }
        let targets = ((try? await ledger.sellerFixture(rule.seller)) ?? nil)?.notifyTargets ?? []
        let trigger = firing.trigger(at: now)
        var drafts: [NotificationDraft] = []
        for n in notifications {
            let target = targets.first { $0.id == n.to || $0.name.caseInsensitiveCompare(n.to) == .orderedSame }
            let own = target?.address.flatMap { Self.webhookAddress($0) }
            guard let url = own ?? notifyURL else { continue }
            var payload = ["rule": rule.id, "seller": rule.seller, "to": n.to, "via": n.via, "message": n.message, "trigger": trigger]
            if let sku = n.sku { payload["sku"] = sku }
            guard let body = try? ShelfJSON.string(payload) else { continue }
            drafts.append(NotificationDraft(seller: rule.seller, ruleId: rule.id, trigger: trigger, url: url, body: body))
        }
        do {
            try await self.notifications.outbox.enqueue(drafts, now: now)
            self.notifications.wake()
        } catch {
            logger.error("notifications not queued", metadata: ["rule": "\(rule.id)", "error": "\(error)"])
        }
    }

    /// A notify target's address when it is a webhook (`http://` or `https://` with a host).
    static func webhookAddress(_ address: String) -> String? {
        guard let url = URL(string: address), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              url.host?.isEmpty == false else { return nil }
        return address
    }
}
