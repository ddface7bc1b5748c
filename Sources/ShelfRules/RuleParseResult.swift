/// The §7.3 envelope: `ok` with the canonical rule and its `explain` echo, or `ok: false` with one error.
public struct RuleParseResult: Sendable, Codable, Equatable {
    public var ok: Bool
    public var rule: Rule?
    public var explain: String?
    public var error: RuleParseError?

    public init(ok: Bool, rule: Rule? = nil, explain: String? = nil, error: RuleParseError? = nil) {
        self.ok = ok
        self.rule = rule
        self.explain = explain
        self.error = error
    }

    static func success(_ rule: Rule) -> RuleParseResult {
        RuleParseResult(ok: true, rule: rule, explain: RuleExplainer.explain(rule))
    }

    static func failure(_ error: RuleParseError) -> RuleParseResult {
        RuleParseResult(ok: false, error: error)
    }
}
