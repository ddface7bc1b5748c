/// Trigger clauses (§3.1), `if` / `unless` gates and guards (§3.5).
extension RuleGrammarParser {
    typealias Guard = RuleSyntax.Guard

    static let triggerIntros: [[String]] = [
        ["as", "soon", "as"], ["any", "time"], ["anytime"], ["each", "time"], ["every", "time"], ["whenever"], ["when"],
        ["once"], ["if"], ["after"],
    ]

    /// `trigger_clause = <trigger-intro> event_phrase { "and" guard }`, plus detection of a second event.
    func triggerClause() -> RuleSyntax.TriggerClause? {
        let start = pos
        guard oneOf(Self.triggerIntros) != nil else { return nil }
        if tokens[start].isWord("after"), case .duration = token.kind {
            return delayClause(start: start)
        }
        guard let event = eventPhrase() else { return nil }
        var clause = RuleSyntax.TriggerClause(event: event, guards: [], span: span(from: start))
        while true {
            let save = pos
            if word("and") {
                let guardStart = pos
                if let found = guardPhrase(allowElided: true) {
                    clause.guards.append(found)
                    continue
                }
                pos = guardStart
                if let second = eventPhrase() {
                    clause.issues.append(multipleTriggers(RuleSpan(start: tokens[save].start, end: second.span.end)))
                    continue
                }
            } else if word("or") {
                let otherStart = pos
                if let second = eventPhrase() {
                    clause.issues.append(multipleTriggers(RuleSpan(start: tokens[save].start, end: second.span.end)))
                    continue
                }
                pos = otherStart
                if let other = guardPhrase(allowElided: true) {
                    clause.issues.append(multipleTriggers(RuleSpan(start: tokens[save].start, end: other.span.end)))
                    continue
                }
            }
            pos = save
            break
        }
        clause.span = span(from: start)
        return clause
    }

    func multipleTriggers(_ span: RuleSpan) -> RuleIssue {
        RuleIssue(
            .structure,
            RuleParseError(
                code: .multipleTriggers,
                message: "A rule has exactly one trigger; this sentence names more than one event.",
                span: span,
                expected: ["one trigger"],
                hint: "Split it into two rules, one per event."
            )
        )
    }

    /// `after 2 hours, …` is a delay, which v0.1 does not support.
    private func delayClause(start: Int) -> RuleSyntax.TriggerClause? {
        pos += 1
        let span = span(from: start)
        var clause = RuleSyntax.TriggerClause(event: RuleSyntax.Event(event: .stockChanged, span: span), guards: [], span: span)
        clause.issues.append(Self.unsupportedDelay(span))
        return clause
    }

    static func unsupportedDelay(_ span: RuleSpan) -> RuleIssue {
        RuleIssue(
            .structure,
            RuleParseError(
                code: .unsupported,
                message: "Delays are not supported; a rule acts as soon as it fires.",
                span: span,
                hint: "Remove the delay, or use a schedule such as 'every day at 9am'."
            )
        )
    }

    /// The head of a sentence: a schedule or a trigger clause.
    func head() -> RuleSyntax.Head? {
        var match = RuleLongestMatch<RuleSyntax.Head>(start: pos)
        match.consider(self, schedule().map { .schedule($0) })
        match.consider(self, triggerClause().map { .trigger($0) })
        return match.finish(self)
    }

    // MARK: - Gates

    /// `guard_clause` or `unless_clause` of §3.1, with the connective rules of §5.5.
    func gate() -> RuleSyntax.Gate? {
        let start = pos
        let negated: Bool
        if word("unless") || words("except", "when") || words("except", "if") {
            negated = true
        } else if word("if") || words("only", "if") || words("provided", "that") || word("provided") || words(["as", "long", "as"]) {
            negated = false
        } else {
            return nil
        }
        guard let first = guardPhrase(allowElided: false) else { return nil }
        var gate = RuleSyntax.Gate(negated: negated, guards: [first], span: span(from: start))
        var connectives: [(isOr: Bool, index: Int)] = []
        while true {
            let save = pos
            optionalComma()
            let connective = pos
            let isOr: Bool
            if word("and") {
                isOr = false
            } else if word("or") {
                isOr = true
            } else {
                pos = save
                break
            }
            guard let next = guardPhrase(allowElided: false) else {
                pos = save
                break
            }
            connectives.append((isOr, connective))
            gate.guards.append(next)
        }
        gate.span = span(from: start)
        let ors = connectives.filter(\.isOr)
        let ands = connectives.filter { !$0.isOr }
        if let firstOr = ors.first, !ands.isEmpty {
            gate.issues.append(
                RuleIssue(
                    .structure,
                    RuleParseError(
                        code: .ambiguousPrecedence,
                        message: "Mixing 'and' with 'or' between conditions has two readings.",
                        span: tokens[firstOr.index].span,
                        found: "or",
                        expected: ["and"],
                        hint: "Use only 'and' between conditions, or 'unless A or B'; split other cases into separate rules."
                    )
                )
            )
        } else if let firstOr = ors.first, !negated {
            gate.issues.append(
                RuleIssue(
                    .structure,
                    RuleParseError(
                        code: .unsupported,
                        message: "'or' between conditions is not supported yet.",
                        span: tokens[firstOr.index].span,
                        found: "or",
                        expected: ["and"],
                        hint: "Write one rule per alternative, or use 'unless A or B'."
                    )
                )
            )
        } else if let firstAnd = ands.first, negated {
            gate.issues.append(
                RuleIssue(
                    .structure,
                    RuleParseError(
                        code: .unsupported,
                        message: "'unless A and B' (NOT of an AND) cannot be written as AND-ed conditions.",
                        span: tokens[firstAnd.index].span,
                        found: "and",
                        expected: ["or"],
                        hint: "Use 'unless A or B', or 'if' with the opposite comparisons."
                    )
                )
            )
        }
        return gate
    }

    // MARK: - Guards

    /// `guard` of §3.5. With `allowElided`, the subject may be dropped (it is then the trigger's subject).
    func guardPhrase(allowElided: Bool) -> Guard? {
        let start = pos
        return inSlot(.guardClause(start: start)) {
            var match = RuleLongestMatch<Guard>(start: start)
            match.consider(self, attributeGuard())
            match.consider(self, lagGuard())
            match.consider(self, soldGuard())
            match.consider(self, countGuard())
            match.consider(self, stockGuard())
            match.consider(self, unknownFieldGuard())
            if allowElided { match.consider(self, elidedGuard()) }
            return match.finish(self)
        }
    }

    private static let copulas: [[String]] = [["is", "still"], ["is"], ["are"], ["remains"], ["remain"], ["stays"], ["stay"]]

    /// `Walmart stock is under 5`, `Newark has at least 50 units of it`, `anything at Reno is below 15 units`.
    private func stockGuard() -> Guard? {
        let start = pos
        var condition = Condition(
            metric: .fixed(.stock),
            comparison: Comparison(op: .eq, span: span(from: start)),
            span: span(from: start)
        )
        var subjects = RuleLongestMatch<Condition>(start: start)
        if let subject = stockSubject() {
            var found = condition
            found.item = subject.item
            found.locations = subject.locations
            found.channels = subject.channels
            subjects.consider(self, found)
        }
        if let item = itemPhrase() {
            var found = condition
            found.item = item
            found.metric = .stockOrPrice
            var event = RuleSyntax.Event(event: .stockChanged, span: item.span)
            modifiers([.place, .channel], &event)
            found.locations = event.locations
            found.channels = event.channels
            subjects.consider(self, found)
        }
        if let location = entity(.location, committed: false) {
            var found = condition
            found.locations = [location.id]
            subjects.consider(self, found)
        }
        if let channel = entity(.channel, committed: false) {
            var found = condition
            found.channels = [channel.id]
            subjects.consider(self, found)
        }
        if word("we") || words("there", "are") || words("there", "is") {
            subjects.consider(self, condition)
        }
        guard let subject = subjects.finish(self) else { return nil }
        condition = subject
        guard let comparison = guardComparison() else { return nil }
        condition.comparison = comparison
        condition.issues = comparison.issues
        guardTail(&condition)
        condition.span = span(from: start)
        return .condition(condition)
    }

    /// `has (only) fewer than 5`, `is below 10`, `exceeds 100`.
    private func guardComparison() -> Comparison? {
        let save = pos
        if word("has") || word("have") {
            word("only")
            if let found = comparison(.copula, bare: .eq) { return found }
            pos = save
            return nil
        }
        return verbComparison()
    }

    /// After the comparison: `units`, `left`, `of X`, `at Reno`, `on Walmart`, `on hand`, `in stock`.
    private func guardTail(_ condition: inout Condition) {
        while true {
            let save = pos
            if word("units") || word("left") || words("on", "hand") || words("in", "stock") || word("available") { continue }
            if condition.item == nil, word("of") || word("for") {
                if let item = itemPhrase() {
                    condition.item = item
                    continue
                }
                pos = save
            }
            if let location = place() {
                condition.locations.append(location)
                continue
            }
            if let channels = channelPhrase() {
                condition.channels += channels
                continue
            }
            return
        }
    }

    /// `and is above 20` inside a trigger clause: the subject is the trigger's.
    private func elidedGuard() -> Guard? {
        let start = pos
        guard let comparison = guardComparison() else { return nil }
        var condition = Condition(metric: .stockOrPrice, comparison: comparison, elided: true, span: span(from: start))
        condition.issues = comparison.issues
        guardTail(&condition)
        condition.span = span(from: start)
        return .condition(condition)
    }

    /// `SKU-77 has more than 3 returns in the last 7 days`, `we have more than 5 cancellations within an hour`.
    private func countGuard() -> Guard? {
        let start = pos
        var condition = Condition(metric: .fixed(.orderCount), comparison: Comparison(op: .eq, span: span(from: start)), span: span(from: start))
        let there = words("there", "are") || words("there", "is")
        if there || word("we") {
        } else if let item = itemPhrase() {
            condition.item = item
        } else if let channel = entity(.channel, committed: false) {
            condition.channels = [channel.id]
        } else {
            return nil
        }
        let hasVerb = word("has") || word("have") || word("had")
        guard hasVerb || there else { return nil }
        guard let comparison = comparison(.copula, bare: .eq) else { return nil }
        if word("returns") {
            condition.metric = .fixed(.returnCount)
        } else if word("orders") {
            condition.metric = .fixed(.orderCount)
        } else if word("cancellations") || words("cancelled", "orders") || words("canceled", "orders") {
            condition.metric = .fixed(.cancelCount)
        } else {
            return nil
        }
        condition.comparison = comparison
        condition.issues = comparison.issues
        windowTail(&condition)
        condition.span = span(from: start)
        return .condition(condition)
    }

    /// `we have sold more than 100 units of it in the past 24 hours`.
    private func soldGuard() -> Guard? {
        let start = pos
        var condition = Condition(metric: .fixed(.unitsSold), comparison: Comparison(op: .eq, span: span(from: start)), span: span(from: start))
        if word("we") {
            word("have")
        } else if let item = itemPhrase() {
            condition.item = item
            word("has")
        } else {
            return nil
        }
        guard word("sold") else { return nil }
        guard let comparison = comparison(.copula, bare: .eq) else { return nil }
        condition.comparison = comparison
        condition.issues = comparison.issues
        windowTail(&condition)
        condition.span = span(from: start)
        return .condition(condition)
    }

    private func windowTail(_ condition: inout Condition) {
        while true {
            let save = pos
            if word("units") { continue }
            if condition.item == nil, word("of") || word("for") {
                if let item = itemPhrase() {
                    condition.item = item
                    continue
                }
                pos = save
            }
            if condition.window == nil, let window = window() {
                condition.window = window
                continue
            }
            if let channels = channelPhrase() {
                condition.channels += channels
                continue
            }
            if let location = place() {
                condition.locations.append(location)
                continue
            }
            return
        }
    }

    /// `Walmart sync lag is under 2 minutes`, `the eBay sync is more than 5 minutes behind`.
    private func lagGuard() -> Guard? {
        let start = pos
        var condition = Condition(metric: .fixed(.syncLag), comparison: Comparison(op: .eq, span: span(from: start)), span: span(from: start))
        word("the")
        if let channel = entity(.channel, committed: false) { condition.channels = [channel.id] }
        guard word("sync") || word("syncing") else { return nil }
        if word("lag") {
            if word("on") || word("for") {
                guard let channel = entity(.channel, committed: true) else { return nil }
                condition.channels.append(channel.id)
            }
            guard let comparison = verbComparison() else { return nil }
            condition.comparison = comparison
        } else {
            guard !condition.channels.isEmpty, oneOf(Self.copulas) != nil, let comparison = comparison(.copula, bare: .gte),
                word("behind")
            else { return nil }
            condition.comparison = comparison
        }
        condition.issues = condition.comparison.issues
        condition.span = span(from: start)
        return .condition(condition)
    }

    /// `it's tagged preorder`, `it's from Amazon`, `the order came from Walmart`, `it is not at Reno`.
    private func attributeGuard() -> Guard? {
        let start = pos
        guard word("it") || words("the", "order") || words("this", "order") || words("that", "order") || words("the", "item")
        else { return nil }
        guard word("is") || word("was") || word("came") || word("comes") else { return nil }
        let negated = word("not")
        let kind: RuleSyntax.Attribute.Kind
        if words(["for", "a", "sku", "tagged"]) || word("tagged") {
            if !word("with") { word("as") }
            guard let tag = tagValue() else { return nil }
            kind = .tag(tag)
        } else if words("placed", "on") || word("from") || word("on") || word("via") || word("through") {
            let save = pos
            if let channel = entity(.channel, committed: true) {
                kind = .channel(channel.id)
            } else {
                pos = save
                guard let location = entity(.location, committed: false) else { return nil }
                kind = .location(location.id)
            }
        } else if word("at") || word("in") {
            guard let location = entity(.location, committed: true) else { return nil }
            kind = .location(location.id)
        } else {
            return nil
        }
        return .attribute(RuleSyntax.Attribute(kind: kind, negated: negated, span: span(from: start)))
    }

    /// `the order total is over $500`, `margin on X is below 20%`.
    private func unknownFieldGuard() -> Guard? {
        let start = pos
        guard let field = unknownFieldSubject() else { return nil }
        guard let comparison = verbComparison() else { return nil }
        var condition = Condition(metric: .fixed(.stock), comparison: comparison, span: span(from: start))
        condition.issues = [unknownField(field.name, span: field.span)]
        return .condition(condition)
    }
}
