/// The parse tree of one sentence, before semantic resolution (§5). Nodes keep spans for error reporting and may
/// carry issues (errors found while parsing) that are reported only if the whole sentence parses.
enum RuleSyntax {
    /// What an item phrase names.
    enum ItemRef: Hashable, Sendable {
        case skus([String])
        case prefix(String)
        case pattern(String)
        case tags([String])
        case collection(String)
        case any
        case pronoun

        /// The item keys of a scope naming this item set (`any` names everything: no keys).
        var scope: RuleScope {
            switch self {
            case .skus(let skus): RuleScope(skus: Array(Set(skus)).sorted())
            case .prefix(let prefix): RuleScope(skuPrefix: prefix)
            case .pattern(let pattern): RuleScope(skuPattern: pattern)
            case .tags(let tags): RuleScope(tags: Array(Set(tags)).sorted())
            case .collection(let name): RuleScope(collection: name)
            case .any, .pronoun: RuleScope()
            }
        }

        /// Two phrases are the same item set when they give the same scope (`SKU-1 and SKU-2` = `SKU-2, SKU-1`).
        func sameItems(as other: ItemRef) -> Bool { scope == other.scope }
    }

    struct Item: Sendable {
        var ref: ItemRef
        var span: RuleSpan
        var isPronoun: Bool { ref == .pronoun }
    }

    /// The typed value of a quantity phrase.
    enum QtyValue: Sendable {
        case count(Double)
        case money(Int, String)
        case percent(Double)
        case duration(Double)
        case mult(Double)

        var typeName: String {
            switch self {
            case .count: "a number of units"
            case .money: "a money amount"
            case .percent: "a percentage"
            case .duration: "a duration"
            case .mult: "a multiple of the baseline"
            }
        }
    }

    struct Qty: Sendable {
        var value: QtyValue
        var span: RuleSpan
    }

    struct Comparison: Sendable {
        var op: RuleOperator
        var value: Qty?
        var min: Qty?
        var max: Qty?
        var span: RuleSpan
        var issues: [RuleIssue] = []

        /// Every quantity in the comparison.
        var quantities: [Qty] { [value, min, max].compactMap { $0 } }
    }

    /// How a condition's metric is chosen.
    enum MetricChoice: Sendable {
        case fixed(RuleMetric)
        /// Bare item subjects: units → stock, money → price (§5.2).
        case stockOrPrice
        /// Units → variance_units, percent → variance_pct.
        case variance
        /// Price change by a percentage: sign −1 (lowered), +1 (raised), 0 (changed: absolute).
        case priceChange(sign: Int)
    }

    struct Condition: Sendable {
        var metric: MetricChoice
        var comparison: Comparison
        var window: Qty?
        var item: Item?
        var locations: [String] = []
        var channels: [String] = []
        /// Subject dropped after `and` inside the trigger clause; it is the trigger's subject.
        var elided = false
        var negate = false
        var span: RuleSpan
        var issues: [RuleIssue] = []
    }

    /// `it's tagged X`, `it's from Amazon`, `it came in at Reno`: folds into the trigger scope (§5.4).
    struct Attribute: Sendable {
        enum Kind: Sendable {
            case tag(String)
            case channel(String)
            case location(String)
        }
        var kind: Kind
        var negated: Bool
        var span: RuleSpan
    }

    enum Guard: Sendable {
        case condition(Condition)
        case attribute(Attribute)

        var span: RuleSpan {
            switch self {
            case .condition(let condition): condition.span
            case .attribute(let attribute): attribute.span
            }
        }
    }

    struct Event: Sendable {
        var event: RuleEvent
        var item: Item?
        /// The stock/price/demand noun had no possessor (`when inventory drops below 5`), §5.7.
        var itemElided = false
        var locations: [String] = []
        var channels: [String] = []
        var suppliers: [String] = []
        var conditions: [Condition] = []
        var span: RuleSpan
        var issues: [RuleIssue] = []
    }

    struct TriggerClause: Sendable {
        var event: Event
        var guards: [Guard]
        var span: RuleSpan
        var issues: [RuleIssue] = []
    }

    struct Schedule: Sendable {
        var schedule: RuleSchedule?
        var span: RuleSpan
        var issues: [RuleIssue] = []
    }

    enum Head: Sendable {
        case trigger(TriggerClause)
        case schedule(Schedule)

        var span: RuleSpan {
            switch self {
            case .trigger(let clause): clause.span
            case .schedule(let schedule): schedule.span
            }
        }
    }

    /// An `if …` or `unless …` clause.
    struct Gate: Sendable {
        var negated: Bool
        var guards: [Guard]
        var span: RuleSpan
        var issues: [RuleIssue] = []
    }

    struct Action: Sendable {
        var action: RuleAction
        /// The item phrase the action names (explicit, or a pronoun / `the listing`).
        var item: Item?
        /// `pause it` / `pause the listing` without a channel: inherits a single trigger channel (§5.9).
        var inheritsChannel = false
        /// The action requires `channels` (pause, resume, buffer).
        var needsChannels = false
        var span: RuleSpan
        var issues: [RuleIssue] = []
    }

    struct Sentence: Sendable {
        var head: Head
        var gates: [Gate]
        var actions: [Action]
        var issues: [RuleIssue] = []
    }
}
