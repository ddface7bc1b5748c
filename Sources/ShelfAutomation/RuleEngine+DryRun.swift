import Foundation
import ShelfCore
import ShelfLedger
import ShelfRules

/// What a rule would have done over a seller's recent events: nothing is written, no action runs.
public struct RuleDryRun: Sendable, Encodable {
    /// One event the rule would have fired on.
    public struct Firing: Sendable, Encodable {
        public var sequence: Int64
        public var type: String
        public var sku: String
        public var recordedAt: Date
    }

    /// Events read (the seller's latest, oldest first), and the sequence range they span (0 when there were none).
    public var considered: Int
    public var fromSequence: Int64
    public var toSequence: Int64
    /// Events whose type and items the trigger watches.
    public var matched: Int
    /// Those on which the conditions held (edge conditions only on their crossing), oldest first.
    public var firings: [Firing]
}

extension RuleEngine {
    /// Evaluates `rule` as the engine would have on the seller's latest `limit` events: each event's SKU as it stood right
    /// after that event (its history replayed in sequence order), the conditions measured at the event's commit, edge conditions firing
    /// only when they cross. Schedules and sync-lag triggers are not driven by events, so they never fire here; the per-minute
    /// firing cap and the pause after failed actions are left out.
    public func dryRun(_ rule: Rule, seller: String, limit: Int) async throws -> RuleDryRun {
        let last = ledger.snapshot.seller(seller)?.lastSequence ?? 0
        let events = try await ledger.events(seller: seller, after: max(0, last - Int64(limit)), limit: limit)
        let measurer = self.measurer
        let edge = rule.conditions.contains { $0.edge == true }
        var truth: [String: Bool] = [:]
        var matched = 0
        var firings: [RuleDryRun.Firing] = []
        // Each SKU as it stood right after each of these events: its history replayed in sequence order (instants can repeat).
        var wanted: [String: Set<Int64>] = [:]
        for event in events { if let sku = event.event.sku { wanted[sku, default: []].insert(event.sequence) } }
        var after: [Int64: SKUState] = [:]
        for (sku, sequences) in wanted {
            guard let newest = sequences.max() else { continue }
            var state: SKUState?
            for e in try await ledger.events(seller: seller, sku: sku, limit: 10_000_000) where e.sequence <= newest {
                Inventory.apply(e.event, to: &state, sequence: e.sequence, recordedAt: e.recordedAt)
                if sequences.contains(e.sequence), let state { after[e.sequence] = state }
            }
        }
        for event in events {
            guard let sku = event.event.sku, let state = after[event.sequence],
                  Self.matches(rule.trigger, event: event.event, state: state) else { continue }
            matched += 1
            let holds = await measurer.holds(rule.conditions, .init(seller: seller, trigger: rule.trigger, sku: state, firing: .event(event),
                                                              at: event.recordedAt))
            let was = truth[sku] ?? false
            truth[sku] = holds
            if holds, !edge || !was {
                firings.append(.init(sequence: event.sequence, type: event.event.type.rawValue, sku: sku, recordedAt: event.recordedAt))
            }
        }
        return RuleDryRun(considered: events.count, fromSequence: events.first?.sequence ?? 0, toSequence: events.last?.sequence ?? 0,
                          matched: matched, firings: firings)
    }
}
