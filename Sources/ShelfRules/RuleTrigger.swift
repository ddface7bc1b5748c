/// The single trigger of a rule: an event or a schedule, and the scope it watches (§7.1).
public struct RuleTrigger: Sendable, Codable, Hashable {
    public var event: RuleEvent
    public var scope: RuleScope
    /// Present exactly when `event == .schedule`.
    public var schedule: RuleSchedule?

    public init(event: RuleEvent, scope: RuleScope = RuleScope(), schedule: RuleSchedule? = nil) {
        self.event = event
        self.scope = scope
        self.schedule = schedule
    }
}
