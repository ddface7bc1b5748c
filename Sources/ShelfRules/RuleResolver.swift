/// Semantic resolution (§5): turns a parse tree into the canonical rule, resolving pronouns and elided possessors,
/// choosing metrics by value type, assigning `edge`, folding attribute guards into scope and running the checks of
/// §5.12. Errors are collected as issues and the first by stage and position is reported.
struct RuleResolver {
    private let sentence: RuleSyntax.Sentence
    private let parser: RuleGrammarParser
    private var issues: [RuleIssue] = []

    init(sentence: RuleSyntax.Sentence, parser: RuleGrammarParser) {
        self.sentence = sentence
        self.parser = parser
    }

    /// Events that always concern an item (so `it` can mean "the triggering item").
    private static let itemEvents: Set<RuleEvent> = [
        .stockChanged, .orderConfirmed, .orderCancelled, .returnReceived, .stockReceived, .priceChanged,
        .reservationCreated, .reservationExpired, .demandSpike, .varianceDetected,
    ]

    mutating func resolve() -> Result<Rule, RuleParseError> {
        collectParseIssues()

        var event = RuleEvent.schedule
        var schedule: RuleSchedule?
        var triggerEvent: RuleSyntax.Event?
        var clauseGuards: [RuleSyntax.Guard] = []
        switch sentence.head {
        case .schedule(let node):
            schedule = node.schedule
        case .trigger(let clause):
            event = clause.event.event
            triggerEvent = clause.event
            clauseGuards = clause.guards
        }

        // Item phrases, in text order (§5.7, §5.8).
        let explicitItems = collectExplicitItems(triggerEvent: triggerEvent, clauseGuards: clauseGuards)
        let distinct = Self.distinct(explicitItems)
        var triggerItem: RuleSyntax.ItemRef?
        if let triggerEvent {
            if let item = triggerEvent.item, !item.isPronoun {
                triggerItem = item.ref
            } else if let item = triggerEvent.item {
                if distinct.count == 1 {
                    triggerItem = distinct[0].ref
                } else {
                    report(.reference, ambiguousReference(item.span, count: distinct.count))
                }
            } else if triggerEvent.itemElided {
                if distinct.count == 1 {
                    triggerItem = distinct[0].ref
                } else if distinct.count > 1 {
                    report(.reference, ambiguousReference(triggerEvent.span, count: distinct.count))
                }
            }
        } else {
            triggerItem = explicitItems.first?.ref
        }
        let suppliesItem = Self.itemEvents.contains(event) || triggerItem != nil

        // Trigger scope (§5.1, §5.4).
        var scope = triggerItem?.scope ?? RuleScope()
        if let triggerEvent {
            scope.locations = triggerEvent.locations.isEmpty ? nil : triggerEvent.locations
            scope.channels = triggerEvent.channels.isEmpty ? nil : triggerEvent.channels
            scope.suppliers = triggerEvent.suppliers.isEmpty ? nil : triggerEvent.suppliers
        }
        scope.canonicalize()
        foldAttributes(clauseGuards: clauseGuards, into: &scope)
        scope.canonicalize()

        // Conditions (§5.2, §5.3, §5.5, §5.6).
        var conditions: [(RuleCondition, RuleSpan, Bool)] = []
        var edgeAssigned = false
        let triggerMetric = triggerEvent?.conditions.first.map(metric(of:))
        func add(_ node: RuleSyntax.Condition, inTriggerClause: Bool, isEventComparison: Bool, negate: Bool, span: RuleSpan) {
            guard
                var condition = build(
                    node,
                    triggerItem: triggerItem,
                    triggerEvent: triggerEvent,
                    triggerMetric: triggerMetric,
                    distinct: distinct,
                    suppliesItem: suppliesItem,
                    isEventComparison: isEventComparison
                )
            else { return }
            if inTriggerClause, !edgeAssigned, event.stateMetrics.contains(condition.metric) {
                condition.edge = true
                edgeAssigned = true
            }
            if negate { condition.negate = true }
            conditions.append((condition, span, isEventComparison))
        }
        if let triggerEvent {
            for node in triggerEvent.conditions {
                add(node, inTriggerClause: true, isEventComparison: true, negate: false, span: node.span)
            }
        }
        for case .condition(let node) in clauseGuards {
            add(node, inTriggerClause: true, isEventComparison: false, negate: false, span: node.span)
        }
        for gate in sentence.gates {
            for (index, found) in gate.guards.enumerated() {
                guard case .condition(let node) = found else { continue }
                let span = index == 0 ? RuleSpan(start: gate.span.start, end: node.span.end) : node.span
                add(node, inTriggerClause: false, isEventComparison: false, negate: gate.negated, span: span)
            }
        }
        if event == .stockChanged, scope.locations != nil, scope.channels != nil, let triggerEvent {
            report(.type, ambiguousStockScope(triggerEvent.span))
        }
        checkContradictions(conditions, triggerScope: scope)

        // Actions (§5.8 – §5.12).
        var actions: [RuleAction] = []
        for node in sentence.actions {
            actions.append(
                build(node, event: event, scope: scope, triggerItem: triggerItem, distinct: distinct, suppliesItem: suppliesItem)
            )
        }
        checkActionContradictions(actions)

        if let first = RuleIssue.first(issues) { return .failure(first.error) }
        let trigger = RuleTrigger(event: event, scope: scope, schedule: event == .schedule ? schedule : nil)
        return .success(Rule(trigger: trigger, conditions: conditions.map(\.0), actions: actions))
    }

    // MARK: - Issues

    private mutating func report(_ stage: RuleIssue.Stage, _ error: RuleParseError) {
        issues.append(RuleIssue(stage, error))
    }

    private mutating func collectParseIssues() {
        issues += sentence.issues
        switch sentence.head {
        case .schedule(let node):
            issues += node.issues
        case .trigger(let clause):
            issues += clause.issues + clause.event.issues
            for condition in clause.event.conditions { issues += condition.issues }
            for case .condition(let condition) in clause.guards { issues += condition.issues }
        }
        for gate in sentence.gates {
            issues += gate.issues
            for case .condition(let condition) in gate.guards { issues += condition.issues }
        }
        for action in sentence.actions { issues += action.issues }
    }

    private func ambiguousReference(_ span: RuleSpan, count: Int) -> RuleParseError {
        let found = parser.text(span)
        let reason = count == 0 ? "there is no item phrase for it to refer to" : "it could refer to \(count) different item phrases"
        return RuleParseError(
            code: .ambiguousReference,
            message: "'\(found)' is ambiguous: \(reason).",
            span: span,
            found: found,
            expected: ["SKU or item phrase"],
            hint: "Name the item instead of using a pronoun, e.g. 'pause SKU-1 on eBay'."
        )
    }

    private func ambiguousStockScope(_ span: RuleSpan) -> RuleParseError {
        RuleParseError(
            code: .ambiguous,
            message: "Stock at a location and stock on a channel are different numbers; name only one.",
            span: span,
            found: parser.text(span),
            expected: ["location", "channel"],
            hint: "Use 'at Reno' for warehouse stock or 'on Amazon' for the channel's listing quantity."
        )
    }

    // MARK: - Items

    private func collectExplicitItems(triggerEvent: RuleSyntax.Event?, clauseGuards: [RuleSyntax.Guard]) -> [RuleSyntax.Item] {
        var items: [RuleSyntax.Item] = []
        if let item = triggerEvent?.item, !item.isPronoun { items.append(item) }
        for case .condition(let condition) in clauseGuards {
            if let item = condition.item, !item.isPronoun { items.append(item) }
        }
        for gate in sentence.gates {
            for case .condition(let condition) in gate.guards {
                if let item = condition.item, !item.isPronoun { items.append(item) }
            }
        }
        for action in sentence.actions {
            if let item = action.item, !item.isPronoun { items.append(item) }
        }
        return items.sorted { $0.span.start < $1.span.start }
    }

    private static func distinct(_ items: [RuleSyntax.Item]) -> [RuleSyntax.Item] {
        var out: [RuleSyntax.Item] = []
        for item in items where !out.contains(where: { $0.ref.sameItems(as: item.ref) }) {
            out.append(item)
        }
        return out
    }

    /// The item keys an explicit item or pronoun adds to a guard or action scope (nil: the trigger's items).
    private mutating func itemScope(
        _ item: RuleSyntax.Item?,
        triggerItem: RuleSyntax.ItemRef?,
        distinct: [RuleSyntax.Item],
        suppliesItem: Bool,
        pronounMissing: RuleIssue.Stage
    ) -> RuleScope? {
        guard let item else { return nil }
        var ref = item.ref
        if item.isPronoun {
            if distinct.count > 1 {
                report(.reference, ambiguousReference(item.span, count: distinct.count))
                return nil
            }
            guard let only = distinct.first else {
                if !suppliesItem {
                    let found = parser.text(item.span)
                    report(
                        pronounMissing,
                        RuleParseError(
                            code: .missingArgument,
                            message: "'\(found)' has nothing to refer to: this trigger carries no item.",
                            span: item.span,
                            found: found,
                            expected: ["SKU or item phrase"],
                            hint: "Name the items, e.g. 'pause every SKU tagged handmade on Etsy'."
                        )
                    )
                }
                return nil
            }
            ref = only.ref
        }
        if let triggerItem, ref.sameItems(as: triggerItem) { return nil }
        if triggerItem == nil, ref == .any { return nil }
        let scope = ref.scope
        return scope.isEmpty ? nil : scope
    }

    // MARK: - Scope folding

    private mutating func foldAttributes(clauseGuards: [RuleSyntax.Guard], into scope: inout RuleScope) {
        var folds: [(RuleSyntax.Attribute, Bool, RuleSpan)] = []
        for case .attribute(let attribute) in clauseGuards { folds.append((attribute, attribute.negated, attribute.span)) }
        for gate in sentence.gates {
            for (index, found) in gate.guards.enumerated() {
                guard case .attribute(let attribute) = found else { continue }
                let span = index == 0 ? RuleSpan(start: gate.span.start, end: attribute.span.end) : attribute.span
                folds.append((attribute, attribute.negated != gate.negated, span))
            }
        }
        for (attribute, exclude, span) in folds {
            switch attribute.kind {
            case .tag(let tag):
                fold(tag, exclude: exclude, include: &scope.tags, excluded: &scope.excludeTags, span: span, exclusive: false)
            case .channel(let channel):
                fold(channel, exclude: exclude, include: &scope.channels, excluded: &scope.excludeChannels, span: span, exclusive: true)
            case .location(let location):
                fold(location, exclude: exclude, include: &scope.locations, excluded: &scope.excludeLocations, span: span, exclusive: true)
            }
        }
    }

    private mutating func fold(
        _ value: String,
        exclude: Bool,
        include: inout [String]?,
        excluded: inout [String]?,
        span: RuleSpan,
        exclusive: Bool
    ) {
        let contradicts: Bool
        if exclude {
            contradicts = include?.contains(value) ?? false
            excluded = (excluded ?? []) + [value]
        } else {
            contradicts = (excluded?.contains(value) ?? false) || (exclusive && include.map { !$0.contains(value) } ?? false)
            include = (include ?? []) + [value]
        }
        if contradicts {
            report(
                .contradiction,
                RuleParseError(
                    code: .contradiction,
                    message: "The rule both requires and excludes '\(value)', so it can never fire.",
                    span: span,
                    found: parser.text(span),
                    expected: [],
                    hint: "Remove one of the two conditions on '\(value)'."
                )
            )
        }
    }

    // MARK: - Conditions

    private func metric(of node: RuleSyntax.Condition) -> RuleMetric {
        let first = node.comparison.quantities.first?.value
        switch node.metric {
        case .fixed(let metric):
            return metric
        case .stockOrPrice:
            if case .money = first { return .price }
            return .stock
        case .variance:
            if case .percent = first { return .variancePct }
            return .varianceUnits
        case .priceChange(let sign):
            return sign == 0 ? .absPriceChangePct : .priceChangePct
        }
    }

    private mutating func build(
        _ node: RuleSyntax.Condition,
        triggerItem: RuleSyntax.ItemRef?,
        triggerEvent: RuleSyntax.Event?,
        triggerMetric: RuleMetric?,
        distinct: [RuleSyntax.Item],
        suppliesItem: Bool,
        isEventComparison: Bool
    ) -> RuleCondition? {
        var metric = metric(of: node)
        if node.elided, let triggerMetric, case .stockOrPrice = node.metric {
            metric = triggerMetric == .price || metric == .price ? metric : triggerMetric
        }
        let comparison = node.comparison
        var condition = RuleCondition(metric: metric, op: comparison.op)
        var sign = 1.0
        if case .priceChange(let direction) = node.metric, direction < 0 { sign = -1 }
        if comparison.op == .between {
            guard let low = comparison.min, let high = comparison.max,
                let min = value(low, metric: metric, sign: sign), let max = value(high, metric: metric, sign: sign)
            else { return nil }
            (condition.min, condition.max) = sign < 0 ? (max, min) : (min, max)
            if let lowNumber = Self.number(condition.min), let highNumber = Self.number(condition.max), lowNumber > highNumber {
                report(
                    .contradiction,
                    RuleParseError(
                        code: .contradiction,
                        message: "'between' needs the smaller value first; this range is empty.",
                        span: comparison.span,
                        found: parser.text(comparison.span),
                        hint: "Write 'between 5 and 10'."
                    )
                )
            }
        } else {
            guard let quantity = comparison.value, let found = value(quantity, metric: metric, sign: sign) else { return nil }
            condition.value = found
            if sign < 0 { condition.op = comparison.op.mirrored }
        }
        if let window = node.window {
            if let iso = RuleDurationFormat.iso(seconds: Self.seconds(window)), Self.seconds(window) <= 90 * 86400 {
                condition.window = iso
            } else {
                report(
                    .range,
                    RuleParseError(
                        code: .outOfRange,
                        message: "A window must be a whole number of minutes, at most 90 days.",
                        span: window.span,
                        found: parser.text(window.span),
                        expected: ["window up to 90 days"]
                    )
                )
            }
        } else if metric.needsWindow {
            report(
                .missing,
                RuleParseError(
                    code: .missingArgument,
                    message: "\(metric.rawValue) is a rolling count and needs a window.",
                    span: node.span,
                    found: parser.text(node.span),
                    expected: ["in the last <duration>"],
                    hint: "Add a window, e.g. 'in the last 7 days' or 'within an hour'."
                )
            )
        }
        if !isEventComparison {
            var scope =
                itemScope(
                    node.item,
                    triggerItem: triggerItem,
                    distinct: distinct,
                    suppliesItem: suppliesItem,
                    pronounMissing: .reference
                )
                ?? RuleScope()
            var locations = node.locations
            var channels = node.channels
            if node.elided, let triggerEvent {
                locations = triggerEvent.locations + locations
                channels = triggerEvent.channels + channels
            }
            scope.locations = locations.isEmpty ? nil : locations
            scope.channels = channels.isEmpty ? nil : channels
            scope.canonicalize()
            if metric == .stock, scope.locations != nil, scope.channels != nil {
                report(.type, ambiguousStockScope(node.span))
            }
            condition.scope = scope.isEmpty ? nil : scope
        }
        return condition
    }

    private static func seconds(_ quantity: RuleSyntax.Qty) -> Double {
        if case .duration(let seconds) = quantity.value { return seconds }
        return 0
    }

    private static func number(_ value: RuleValue?) -> Double? {
        switch value {
        case .number(let number): number.value
        case .money(let money): Double(money.amount)
        case .duration(let iso): RuleDurationFormat.seconds(iso)
        case nil: nil
        }
    }

    /// The canonical value of a quantity for a metric, or nil (with an issue) when the type does not fit.
    private mutating func value(_ quantity: RuleSyntax.Qty, metric: RuleMetric, sign: Double) -> RuleValue? {
        func mismatch(_ expected: String) -> RuleValue? {
            report(
                .type,
                RuleParseError(
                    code: .typeMismatch,
                    message: "\(metric.rawValue) is compared with \(expected), not \(quantity.value.typeName).",
                    span: quantity.span,
                    found: parser.text(quantity.span),
                    expected: [expected],
                    hint: metric == .stock ? "Stock is a count of units; a percentage has no base." : nil
                )
            )
            return nil
        }
        switch (metric, quantity.value) {
        case (.price, .money(let amount, let currency)):
            return .money(RuleMoney(amount: amount, currency: currency))
        case (.price, _):
            return mismatch("a money amount")
        case (.syncLag, .duration(let seconds)):
            guard let iso = RuleDurationFormat.iso(seconds: seconds) else {
                report(
                    .range,
                    RuleParseError(
                        code: .outOfRange,
                        message: "Durations are counted in whole minutes.",
                        span: quantity.span,
                        found: parser.text(quantity.span),
                        expected: ["whole minutes"]
                    )
                )
                return nil
            }
            return .duration(iso)
        case (.syncLag, _):
            return mismatch("a duration")
        case (.velocityRatio, .mult(let factor)):
            return .number(RuleNumber(factor))
        case (.velocityRatio, _):
            return mismatch("a multiple such as 3x")
        case (.priceChangePct, .percent(let percent)), (.absPriceChangePct, .percent(let percent)), (.variancePct, .percent(let percent)):
            return .number(RuleNumber(sign * percent))
        case (.priceChangePct, _), (.absPriceChangePct, _), (.variancePct, _):
            return mismatch("a percentage")
        case (_, .count(let count)):
            guard count < 1e9 else {
                report(
                    .range,
                    RuleParseError(
                        code: .outOfRange,
                        message: "\(parser.text(quantity.span)) is too large for a count.",
                        span: quantity.span,
                        found: parser.text(quantity.span),
                        expected: ["number below 1,000,000,000"]
                    )
                )
                return nil
            }
            guard count.rounded() == count else {
                report(
                    .type,
                    RuleParseError(
                        code: .typeMismatch,
                        message: "\(metric.rawValue) counts whole units; \(parser.text(quantity.span)) is fractional.",
                        span: quantity.span,
                        found: parser.text(quantity.span),
                        expected: ["whole number"]
                    )
                )
                return nil
            }
            return .number(RuleNumber(count))
        default:
            return mismatch("a whole number of units")
        }
    }

    // MARK: - Contradictions

    /// The set of values a comparison allows, as an interval with open/closed ends plus excluded points.
    private struct Interval {
        var low = -Double.infinity
        var lowOpen = true
        var high = Double.infinity
        var highOpen = true
        var excluded: [Double] = []

        var isEmpty: Bool {
            if low > high { return true }
            if low == high {
                if lowOpen || highOpen { return true }
                return excluded.contains(low)
            }
            return false
        }

        mutating func apply(_ op: RuleOperator, _ value: Double, max: Double?, integral: Bool) {
            switch op {
            case .lt:
                if integral { tightenHigh(value.rounded(.up) - 1, open: false) } else { tightenHigh(value, open: true) }
            case .lte:
                tightenHigh(integral ? value.rounded(.down) : value, open: false)
            case .gt:
                if integral { tightenLow(value.rounded(.down) + 1, open: false) } else { tightenLow(value, open: true) }
            case .gte:
                tightenLow(integral ? value.rounded(.up) : value, open: false)
            case .eq:
                tightenLow(value, open: false)
                tightenHigh(value, open: false)
            case .neq:
                excluded.append(value)
            case .between:
                tightenLow(value, open: false)
                tightenHigh(max ?? value, open: false)
            }
        }

        private mutating func tightenLow(_ value: Double, open: Bool) {
            if value > low || (value == low && open) {
                low = value
                lowOpen = open
            }
        }

        private mutating func tightenHigh(_ value: Double, open: Bool) {
            if value < high || (value == high && open) {
                high = value
                highOpen = open
            }
        }
    }

    /// Comparisons constrain the same quantity when metric, window and effective scope agree.
    private struct ContradictionKey: Hashable {
        var metric: RuleMetric
        var window: String?
        var scope: RuleScope
    }

    private mutating func checkContradictions(_ conditions: [(RuleCondition, RuleSpan, Bool)], triggerScope: RuleScope) {
        var groups: [ContradictionKey: Interval] = [:]
        for (condition, span, isEventComparison) in conditions where condition.negate != true {
            var effective = triggerScope.itemKeys
            if isEventComparison {
                effective.locations = triggerScope.locations
                effective.channels = triggerScope.channels
            } else if let own = condition.scope {
                let items = own.itemKeys
                if !items.isEmpty { effective = items }
                effective.locations = own.locations
                effective.channels = own.channels
            }
            let key = ContradictionKey(metric: condition.metric, window: condition.window, scope: effective)
            var interval = groups[key] ?? Interval()
            let value = Self.number(condition.value) ?? Self.number(condition.min) ?? 0
            interval.apply(condition.op, value, max: Self.number(condition.max), integral: condition.metric.isCount)
            groups[key] = interval
            if interval.isEmpty {
                report(
                    .contradiction,
                    RuleParseError(
                        code: .contradiction,
                        message: "This condition contradicts an earlier one on \(condition.metric.rawValue); the rule could never fire.",
                        span: span,
                        found: parser.text(span),
                        hint: "Remove or change one of the two comparisons."
                    )
                )
                groups[key] = Interval()
            }
        }
    }

    private mutating func checkActionContradictions(_ actions: [RuleAction]) {
        for (index, action) in actions.enumerated() {
            for earlier in actions[..<index] where earlier.scope == action.scope {
                var conflict = false
                switch (earlier.type, action.type) {
                case (.pauseListing, .resumeListing), (.resumeListing, .pauseListing):
                    conflict = Self.overlap(earlier.channels, action.channels)
                case (.setPrice, .setPrice):
                    conflict = earlier.channels == action.channels && earlier.price != action.price
                case (.setSafetyStock, .setSafetyStock):
                    conflict = earlier.locations == action.locations && earlier.units != action.units
                case (.setChannelBuffer, .setChannelBuffer):
                    conflict = Self.overlap(earlier.channels, action.channels) && earlier.units != action.units
                case (.setSafetyStockMultiplier, .setSafetyStockMultiplier):
                    conflict = earlier.factor != action.factor
                default:
                    break
                }
                if conflict {
                    let span = sentence.actions[min(index, sentence.actions.count - 1)].span
                    report(
                        .contradiction,
                        RuleParseError(
                            code: .contradiction,
                            message: "This action cancels out or conflicts with an earlier one.",
                            span: span,
                            found: parser.text(span),
                            hint: "Keep only one of the two actions."
                        )
                    )
                    break
                }
            }
        }
    }

    private static func overlap(_ lhs: [String]?, _ rhs: [String]?) -> Bool {
        guard let lhs, let rhs else { return false }
        if lhs.contains("all") || rhs.contains("all") { return true }
        return !Set(lhs).isDisjoint(with: rhs)
    }

    // MARK: - Actions

    private mutating func build(
        _ node: RuleSyntax.Action,
        event: RuleEvent,
        scope: RuleScope,
        triggerItem: RuleSyntax.ItemRef?,
        distinct: [RuleSyntax.Item],
        suppliesItem: Bool
    ) -> RuleAction {
        var action = node.action
        let ownScope = itemScope(
            node.item,
            triggerItem: triggerItem,
            distinct: distinct,
            suppliesItem: suppliesItem,
            pronounMissing: .missing
        )
        action.scope = ownScope
        let found = parser.text(node.span)
        if action.type == .tagOrder, !event.carriesOrder {
            report(
                .compatibility,
                RuleParseError(
                    code: .incompatibleAction,
                    message: "Tagging an order needs an order trigger; \(event.rawValue) has no order.",
                    span: node.span,
                    found: found,
                    expected: ["order.confirmed", "order.cancelled", "return.received"],
                    hint: "Use this action with 'when an order … is placed', '… is cancelled' or 'a return is received'."
                )
            )
        }
        if action.type.actsOnItems, !suppliesItem, ownScope == nil, node.item.map({ !$0.isPronoun }) ?? true {
            report(
                .compatibility,
                RuleParseError(
                    code: .incompatibleAction,
                    message: "This action acts on items, but the rule has none.",
                    span: node.span,
                    found: found,
                    expected: ["item phrase"],
                    hint: "Name the items, e.g. '… for SKU-1' or '… for anything tagged sale'."
                )
            )
        }
        // A missing channel is completed with each connected one (§7.6: the catalog aliases where an entity is expected).
        let withEachChannel = parser.catalog.displayNames[RuleEntityKind.channel.rawValue].map { "\(found) on \($0)" }
        if node.inheritsChannel, action.channels == nil {
            if let channels = scope.channels, channels.count == 1 {
                action.channels = channels
            } else {
                report(
                    .reference,
                    RuleParseError(
                        code: .missingArgument,
                        message: "Which channel? The listing has no channel and the trigger does not name exactly one.",
                        span: node.span,
                        found: found,
                        expected: ["channel"],
                        suggestions: withEachChannel,
                        hint: "Add the channel, e.g. 'pause it on Amazon' or 'pause the Amazon listing'."
                    )
                )
            }
        } else if node.needsChannels, action.channels == nil {
            report(
                .missing,
                RuleParseError(
                    code: .missingArgument,
                    message: "This action needs the channel(s) it applies to.",
                    span: node.span,
                    found: found,
                    expected: ["channel"],
                    suggestions: withEachChannel,
                    hint: parser.catalog.hint(for: .channel)
                )
            )
        }
        if action.type == .setChannelBuffer, action.channels == ["all"] { action.channels = nil }
        return action
    }
}
