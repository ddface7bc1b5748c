import Foundation
import Logging
import ShelfCore
import ShelfLedger

/// The events one firing produces, submitted in order with the rule's provenance, and the notifications to send after.
struct RuleActionRun {
    let engine: RuleEngine
    let rule: RuleEngine.Compiled
    let firing: RuleFiring
    let now: Date
    var pending: [ShelfEvent] = []
    var notifications: [(to: String, via: String, sku: String?, message: String)] = []
    /// Why actions of this firing could not apply (refused by the ledger, or out of range); empty when all applied.
    var failures: [String] = []
    /// Events submitted so far (numbers each one's provenance key).
    var submitted = 0

    init(engine: RuleEngine, rule: RuleEngine.Compiled, firing: RuleFiring, now: Date) {
        self.engine = engine
        self.rule = rule
        self.firing = firing
        self.now = now
    }

    /// Queues events; nil means the action could not apply, which is recorded as a `rule.acted` note instead.
    mutating func add(_ events: [ShelfEvent]?, orNote what: String = "") {
        guard let events else {
            note("\(what) skipped: not applicable to \(firing.summary)", sku: nil)
            return
        }
        pending += events
    }

    /// Queues a `rule.acted` event saying what the rule did.
    mutating func note(_ text: String, sku: String?) {
        pending.append(ShelfEvent(type: .ruleActed, sku: sku, note: text, occurredAt: now))
    }

    /// Records an action that could not apply: a `rule.acted` note with the reason, counted as a failure of the firing.
    mutating func fail(_ reason: String, sku: String?) {
        failures.append(reason)
        note("action failed: \(reason)", sku: sku)
    }

    /// Submits the queued events (each its own command, so a refused one does not stop the others).
    mutating func flush() async {
        guard !pending.isEmpty else { return }
        // Provenance: the rule id on the event and, as its key, the rule, what triggered it and the action's place in the
        // firing (which also makes the firing's effects idempotent should it ever be submitted twice).
        let trigger = firing.trigger(at: now)
        let first = submitted
        let commands = pending.enumerated().map { i, draft -> Command in
            var draft = draft
            draft.ruleId = rule.id
            return Command(seller: rule.seller, source: "rule:\(rule.id)", key: "rule:\(rule.id)/\(trigger)/\(first + i)", draft: draft)
        }
        submitted += commands.count
        pending = []
        var refusals: [Command] = []
        for (command, result) in zip(commands, await engine.ledger.submit(commands)) {
            guard case .failure(let error) = result else { continue }
            engine.logger.warning("rule action refused", metadata: ["rule": "\(rule.id)", "type": "\(command.draft.type.rawValue)",
                                                                    "error": "\(error)"])
            // The refusal itself goes in the audit trail, so the seller sees why the rule did not do what it says.
            guard command.draft.type != .ruleActed else { continue }
            failures.append("\(command.draft.type.rawValue) refused: \(error)")
            refusals.append(Command(seller: rule.seller, source: "rule:\(rule.id)", draft: ShelfEvent(
                type: .ruleActed, sku: command.draft.sku, channel: command.draft.channel, ruleId: rule.id,
                note: "\(command.draft.type.rawValue) refused: \(error)", occurredAt: now)))
        }
        if !refusals.isEmpty { _ = await engine.ledger.submit(refusals) }
    }
}
