import Foundation
import Logging
import ServiceLifecycle
import ShelfCore
import ShelfCurl
import ShelfLedger
import ShelfRules
import Synchronization

/// Runs sellers' rules on the committed event stream. Conditions are checked against the snapshot right after the events;
/// thresholds marked `edge` fire when they become true, not while they stay true. Every action goes through the ledger as an
/// event carrying the rule id (provenance); a rule's own events never trigger it again, and each rule fires at most
/// `maxFiringsPerMinute` times a minute.
public final class RuleEngine: Service, Sendable {
    let ledger: Ledger
    let store: RuleStore
    let curl: CurlClient
    let notifyURL: String?
    let logger: Logger
    public let maxFiringsPerMinute = 30
    private let state = Mutex(EngineState())
    /// Subscribed at construction, so no event committed between start-up and `run()` is missed.
    private let events: AsyncStream<[LedgerEvent]>

    struct Compiled: Sendable {
        var seller: String
        var id: String
        var rule: Rule
    }

    struct EngineState {
        var rules: [String: [Compiled]] = [:]
        /// Last truth of an edge condition per rule and SKU.
        var truth: [String: Bool] = [:]
        var firings: [String: [Date]] = [:]
    }

    public init(ledger: Ledger, store: RuleStore, curl: CurlClient, notifyURL: String?, logger: Logger = Logger(label: "shelf.rules")) {
        self.ledger = ledger
        self.store = store
        self.curl = curl
        self.notifyURL = notifyURL
        self.logger = logger
        events = ledger.snapshot.bus.subscribe(buffer: 4096)
    }

    /// Re-reads the enabled rules and primes edge conditions with the current state (so "drops below" means a crossing).
    public func reload() {
        let rows = (try? store.enabled()) ?? []
        var rules: [String: [Compiled]] = [:]
        for (seller, stored) in rows {
            guard let rule = try? JSONDecoder().decode(Rule.self, from: Data(stored.rule.utf8)) else { continue }
            rules[seller, default: []].append(Compiled(seller: seller, id: stored.id, rule: rule))
        }
        let now = ledger.clock.now()
        state.withLock { s in
            let known = s.truth
            s.rules = rules
            s.truth = [:]
            for (seller, compiled) in rules {
                guard let snapshot = ledger.snapshot.seller(seller) else { continue }
                for c in compiled where c.rule.trigger.event == .stockChanged {
                    for sku in c.rule.trigger.scope.skus ?? snapshot.allSKUIDs() {
                        guard let sku = snapshot.sku(sku) else { continue }
                        let key = "\(c.id)\u{0}\(sku.sku)"
                        s.truth[key] = known[key] ?? Self.holds(c.rule.conditions, state: sku, event: nil, now: now)
                    }
                }
            }
        }
    }

    public func run() async throws {
        reload()
        let events = self.events
        // Cancelled on graceful shutdown, which ends the subscription loop.
        try await cancelWhenGracefulShutdown {
            for await batch in events where !batch.isEmpty { await self.evaluate(batch) }
        }
    }

    /// Evaluates rules against one committed batch; returns how many rule firings it caused.
    @discardableResult
    public func evaluate(_ batch: [LedgerEvent]) async -> Int {
        let now = ledger.clock.now()
        var fire: [(Compiled, SKUState, LedgerEvent)] = []
        state.withLock { s in
            for event in batch {
                guard let rules = s.rules[event.seller], let sku = event.event.sku,
                      let current = ledger.snapshot.seller(event.seller)?.sku(sku) else { continue }
                for c in rules where event.event.ruleId != c.id && Self.matches(c.rule.trigger, event: event.event, state: current) {
                    let truth = Self.holds(c.rule.conditions, state: current, event: event.event, now: now)
                    let key = "\(c.id)\u{0}\(sku)"
                    let edge = c.rule.conditions.contains { $0.edge == true }
                    let was = s.truth[key] ?? false
                    s.truth[key] = truth
                    guard truth, !edge || !was else { continue }
                    var recent = (s.firings[c.id] ?? []).filter { now.timeIntervalSince($0) < 60 }
                    guard recent.count < maxFiringsPerMinute else { continue }
                    recent.append(now)
                    s.firings[c.id] = recent
                    fire.append((c, current, event))
                }
            }
        }
        for (c, sku, event) in fire { await act(c, sku: sku, cause: event, now: now) }
        return fire.count
    }

    static func matches(_ trigger: RuleTrigger, event: ShelfEvent, state: SKUState) -> Bool {
        let scope = trigger.scope
        if let skus = scope.skus, !skus.contains(state.sku) { return false }
        if let excluded = scope.excludeSkus, excluded.contains(state.sku) { return false }
        if let prefix = scope.skuPrefix, !state.sku.hasPrefix(prefix) { return false }
        if let tags = scope.tags, !tags.contains(where: { t in state.item.tags.contains { $0.caseInsensitiveCompare(t) == .orderedSame } }) {
            return false
        }
        if let collection = scope.collection, !state.item.collections.contains(collection) { return false }
        if let channels = scope.channels, let channel = event.channel, !channels.contains(channel) { return false }
        if let locations = scope.locations, let location = event.location, !locations.contains(location) { return false }
        switch trigger.event {
        case .stockChanged:
            return [.orderConfirmed, .orderCancelled, .orderFulfilled, .returnReceived, .stockReceived, .stockAdjusted, .stockSet,
                    .safetyStockSet, .reservationCreated, .reservationReleased, .reservationExpired, .reservationCommitted,
                    .demandSpikeStarted, .demandSpikeEnded, .skuUpserted].contains(event.type)
        case .orderConfirmed: return event.type == .orderConfirmed
        case .orderCancelled: return event.type == .orderCancelled
        case .returnReceived: return event.type == .returnReceived
        case .stockReceived: return event.type == .stockReceived
        case .priceChanged: return event.type == .priceChanged
        case .reservationCreated: return event.type == .reservationCreated
        case .reservationExpired: return event.type == .reservationExpired
        case .demandSpike: return event.type == .demandSpikeStarted
        case .varianceDetected: return event.type == .inventoryVarianceDetected
        case .syncFailed, .syncLagging, .schedule: return false
        }
    }

    /// True when every condition holds. Conditions on metrics the engine cannot measure from one event never hold.
    static func holds(_ conditions: [RuleCondition], state: SKUState, event: ShelfEvent?, now: Date) -> Bool {
        conditions.allSatisfy { c in
            let measured: Double?
            switch c.metric {
            case .stock: measured = Double(state.available(now: now))
            case .price: measured = Double(state.item.effectivePrice(at: now).amount) / 100
            case .orderQty, .unitsSold: measured = event?.type == .orderConfirmed ? event?.qty.map(Double.init) : nil
            case .receivedQty: measured = event?.type == .stockReceived ? event?.qty.map(Double.init) : nil
            case .reservationQty: measured = event?.type == .reservationCreated ? event?.qty.map(Double.init) : nil
            case .varianceUnits: measured = event?.type == .inventoryVarianceDetected ? event?.qty.map(Double.init) : nil
            default: measured = nil
            }
            guard let x = measured else { return false }
            let result: Bool
            switch c.op {
            case .lt: result = x < number(c.value)
            case .lte: result = x <= number(c.value)
            case .gt: result = x > number(c.value)
            case .gte: result = x >= number(c.value)
            case .eq: result = x == number(c.value)
            case .neq: result = x != number(c.value)
            case .between: result = x >= number(c.min) && x <= number(c.max)
            }
            return c.negate == true ? !result : result
        }
    }

    static func number(_ value: RuleValue?) -> Double {
        guard let value, let data = try? JSONEncoder().encode(value), let text = String(data: data, encoding: .utf8) else { return .nan }
        if let d = Double(text) { return d }
        // Money encodes as an object {"amount": "...", ...}: read its amount.
        if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            if let a = object["amount"] as? Double { return a }
            if let a = object["amount"] as? String, let d = Double(a) { return d }
        }
        return .nan
    }

    /// Carries out a rule's actions through the ledger, each an event with the rule's id.
    func act(_ c: Compiled, sku: SKUState, cause: LedgerEvent, now: Date) async {
        var commands: [Command] = []
        var notifications: [(String, String)] = []
        let source = "rule:\(c.id)"
        func event(_ type: EventType, channel: String? = nil, location: String? = nil, qty: Int? = nil, listing: Listing? = nil,
                   note: String? = nil) -> Command {
            Command(seller: c.seller, source: source, draft: ShelfEvent(
                type: type, sku: sku.sku, location: location, channel: channel, qty: qty, listing: listing, ruleId: c.id, note: note,
                occurredAt: now))
        }
        for action in c.rule.actions {
            let channels = (action.channels ?? sku.listings.map(\.channel)).filter { !(action.excludeChannels ?? []).contains($0) }
            switch action.type {
            case .pauseListing:
                commands += channels.filter { sku.listing(on: $0)?.listed == true }.map { event(.listingPaused, channel: $0) }
            case .resumeListing:
                commands += channels.filter { sku.listing(on: $0)?.listed == false }.map { event(.listingResumed, channel: $0) }
            case .setSafetyStock:
                let locations = action.locations ?? sku.stock.map(\.location)
                commands += locations.map { event(.safetyStockSet, location: $0, qty: action.units ?? 0) }
            case .setChannelBuffer:
                for channel in channels {
                    guard var listing = sku.listing(on: channel) else { continue }
                    listing.buffer = action.units ?? 0
                    commands.append(event(.listingUpserted, channel: channel, listing: listing))
                }
            case .notify:
                let to = action.to ?? "me"
                let message = action.message ?? "Rule \(c.id) fired for \(sku.sku) after \(cause.event.type.rawValue): \(sku.available(now: now)) available"
                notifications.append((to, message))
                commands.append(event(.ruleActed, note: "notify \(action.via?.rawValue ?? "default") \(to): \(message)"))
            case .reorder:
                let note = "reorder \(action.units ?? 0) units of \(sku.sku) from \(action.supplier ?? sku.item.supplier ?? "the usual supplier")"
                notifications.append((action.supplier ?? "purchasing", note))
                commands.append(event(.ruleActed, note: note))
            default:
                commands.append(event(.ruleActed, note: "\(action.type.rawValue) recorded for an operator (not automated in this version)"))
            }
        }
        for result in await ledger.submit(commands) {
            if case .failure(let error) = result { logger.warning("rule action refused", metadata: ["rule": "\(c.id)", "error": "\(error)"]) }
        }
        for (to, message) in notifications { await notify(rule: c, sku: sku.sku, to: to, message: message) }
    }

    /// POSTs a notification to the configured URL (retried up to three times).
    func notify(rule: Compiled, sku: String, to: String, message: String) async {
        guard let notifyURL else { return }
        let body = (try? ShelfJSON.encode(["rule": rule.id, "seller": rule.seller, "sku": sku, "to": to, "message": message])) ?? Data()
        for attempt in 0..<3 {
            if let response = try? await curl.execute(CurlRequest(method: "POST", url: notifyURL,
                                                                  headers: [(name: "Content-Type", value: "application/json")],
                                                                  body: Array(body), timeout: .seconds(5))),
               (200..<300).contains(response.status) { return }
            try? await Task.sleep(for: .milliseconds(200 << attempt))
        }
        logger.warning("notification not delivered", metadata: ["rule": "\(rule.id)", "to": "\(to)"])
    }
}
