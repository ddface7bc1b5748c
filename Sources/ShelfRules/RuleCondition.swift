/// One AND-ed condition of a rule: a metric compared with a value (or a `between` range) (§7.1).
public struct RuleCondition: Sendable, Codable, Hashable {
    public var metric: RuleMetric
    public var op: RuleOperator
    public var value: RuleValue?
    public var min: RuleValue?
    public var max: RuleValue?
    /// `true` when the condition fires as it becomes true (§5.3); omitted otherwise.
    public var edge: Bool?
    public var window: String?
    public var scope: RuleScope?
    /// `true` for `unless` guards (§5.5); omitted otherwise.
    public var negate: Bool?

    public init(
        metric: RuleMetric,
        op: RuleOperator,
        value: RuleValue? = nil,
        min: RuleValue? = nil,
        max: RuleValue? = nil,
        edge: Bool? = nil,
        window: String? = nil,
        scope: RuleScope? = nil,
        negate: Bool? = nil
    ) {
        self.metric = metric
        self.op = op
        self.value = value
        self.min = min
        self.max = max
        self.edge = edge
        self.window = window
        self.scope = scope
        self.negate = negate
    }
}
