/// A parsed rule (§7.1): one trigger, AND-ed conditions and ordered actions; `.sortedKeys` JSON is its canonical form.
public struct Rule: Sendable, Codable, Hashable {
    public var trigger: RuleTrigger
    public var conditions: [RuleCondition]
    public var actions: [RuleAction]

    public init(trigger: RuleTrigger, conditions: [RuleCondition], actions: [RuleAction]) {
        self.trigger = trigger
        self.conditions = conditions
        self.actions = actions
    }
}
