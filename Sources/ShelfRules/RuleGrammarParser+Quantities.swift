/// Quantities, comparisons (§3.3), windows and the shared place / channel modifiers (§3.2).
extension RuleGrammarParser {
    typealias Qty = RuleSyntax.Qty
    typealias Comparison = RuleSyntax.Comparison

    /// How the verb before a comparison reads: it decides what a bare `to N` means (§3.3, §4.1).
    enum Direction {
        case falling, rising, neutral, copula, reach
    }

    static let operatorPhrases: [([String], RuleOperator)] = [
        (["below"], .lt), (["under"], .lt), (["less", "than"], .lt), (["fewer", "than"], .lt), (["lower", "than"], .lt),
        (["beneath"], .lt),
        (["at", "most"], .lte), (["no", "more", "than"], .lte), (["not", "more", "than"], .lte), (["no", "higher", "than"], .lte),
        (["no", "greater", "than"], .lte), (["down", "to"], .lte), (["at", "or", "below"], .lte), (["at", "or", "under"], .lte),
        (["above"], .gt), (["over"], .gt), (["more", "than"], .gt), (["greater", "than"], .gt), (["higher", "than"], .gt),
        (["exceeds"], .gt), (["exceed"], .gt), (["exceeding"], .gt), (["in", "excess", "of"], .gt), (["beyond"], .gt),
        (["at", "least"], .gte), (["no", "less", "than"], .gte), (["no", "fewer", "than"], .gte), (["not", "less", "than"], .gte),
        (["not", "fewer", "than"], .gte), (["at", "or", "above"], .gte), (["at", "or", "over"], .gte),
        (["exactly"], .eq), (["equals"], .eq), (["equal", "to"], .eq), (["equal"], .eq),
    ]
    static let lessWords: Set<String> = ["fewer", "less", "below", "under", "lower"]
    static let moreWords: Set<String> = ["more", "above", "over", "greater", "higher"]
    static let factorWords: [String: Double] = ["double": 2, "twice": 2, "triple": 3, "quadruple": 4]
    static let baselineNouns = ["rate", "pace", "velocity", "sales", "demand", "level"]
    static let unitNouns: [String: Double] = ["minute": 60, "hour": 3600, "day": 86400, "week": 604_800]

    static let changeVerbs: [([String], Direction)] = [
        (["goes", "down"], .falling), (["go", "down"], .falling), (["gets", "down"], .falling), (["drops"], .falling),
        (["drop"], .falling), (["falls"], .falling), (["fall"], .falling), (["dips"], .falling), (["dip"], .falling),
        (["decreases"], .falling), (["decrease"], .falling), (["goes", "up"], .rising), (["go", "up"], .rising),
        (["rises"], .rising), (["rise"], .rising), (["climbs"], .rising), (["climb"], .rising), (["increases"], .rising),
        (["increase"], .rising), (["goes"], .neutral), (["go"], .neutral), (["gets"], .neutral), (["get"], .neutral),
        (["lands"], .neutral), (["land"], .neutral), (["is", "still"], .copula), (["is"], .copula), (["are"], .copula),
        (["remains"], .copula), (["remain"], .copula), (["stays"], .copula), (["stay"], .copula), (["hits"], .reach),
        (["hit"], .reach), (["reaches"], .reach), (["reach"], .reach),
    ]

    /// A change or state verb before a comparison.
    func changeVerb() -> Direction? {
        for (phrase, direction) in Self.changeVerbs where words(phrase) { return direction }
        return nil
    }

    static let verbOperators: Set<String> = ["exceeds", "exceed", "equals"]

    /// A change verb with its comparison (`drops below 10`, `is at most 2`, `goes over 10 minutes`), or an operator
    /// that is itself a verb (`exceeds 100`).
    func verbComparison() -> Comparison? {
        let start = pos
        if let direction = changeVerb() {
            if let found = comparison(direction, bare: direction == .copula ? .eq : nil) { return found }
            pos = start
        }
        if token.isWordLike, Self.verbOperators.contains(token.lower) { return comparison(.neutral) }
        expect(.word("exceeds"))
        return nil
    }

    /// `qty` of §3.3: NUMBER, MONEY, PERCENT, DURATION or a multiple of the baseline.
    func quantity() -> Qty? {
        let start = pos
        let current = token
        switch current.kind {
        case .money(let amount, let currency):
            pos += 1
            return Qty(value: .money(amount, currency), span: current.span)
        case .percent(let value):
            pos += 1
            return Qty(value: .percent(value), span: current.span)
        case .duration(let seconds):
            pos += 1
            return Qty(value: .duration(seconds), span: current.span)
        case .mult(let value):
            pos += 1
            let span = span(from: start)
            baseline()
            return Qty(value: .mult(value), span: span)
        case .number(let value):
            pos += 1
            return Qty(value: .count(value), span: current.span)
        case .word:
            if let factor = Self.factorWords[current.lower] {
                pos += 1
                baseline()
                return Qty(value: .mult(factor), span: current.span)
            }
        default:
            break
        }
        expect(.literal("number"))
        return nil
    }

    /// `the normal rate`, `its usual pace`, `baseline` after a multiple.
    private func baseline() {
        let save = pos
        if !word("the") && !word("its") { _ = word("their") }
        if word("normal") || word("usual") {
            for noun in Self.baselineNouns where word(noun) { break }
            return
        }
        if word("baseline") { return }
        pos = save
    }

    /// Optional `unit(s)` and `left` after a count.
    func unitsTail() {
        if !word("units") { word("unit") }
        word("left")
    }

    /// `comparison` of §3.3. `bare` is the operator a bare quantity gets (`is 5` → eq); nil forbids it.
    func comparison(_ direction: Direction, bare: RuleOperator? = nil) -> Comparison? {
        let start = pos
        if direction == .reach {
            guard let value = quantity() else { return nil }
            unitsTail()
            var result = Comparison(op: .lte, value: value, span: span(from: start))
            if case .count(let count) = value.value, count == 0 { return result }
            result.op = .eq
            result.issues.append(Self.ambiguousDirection(span(from: start), "'hits' or 'reaches' a number other than zero"))
            return result
        }
        if word("between") {
            guard let low = quantity() else {
                pos = start
                return nil
            }
            unitsTail()
            guard word("and"), let high = quantity() else {
                pos = start
                return nil
            }
            unitsTail()
            return Comparison(op: .between, min: low, max: high, span: span(from: start))
        }
        for (phrase, op) in Self.operatorPhrases where words(phrase) {
            if let value = quantity() {
                unitsTail()
                return Comparison(op: op, value: value, span: span(from: start))
            }
            pos = start
        }
        if word("to") {
            if let value = quantity() {
                unitsTail()
                var op: RuleOperator? = direction == .falling ? .lte : (direction == .rising ? .gte : nil)
                if let explicit = orTail() { op = explicit }
                unitsTail()
                var result = Comparison(op: op ?? .eq, value: value, span: span(from: start))
                if op == nil {
                    result.issues.append(Self.ambiguousDirection(result.span, "'to N' after this verb"))
                }
                return result
            }
            pos = start
        }
        if let value = quantity() {
            unitsTail()
            if let op = orTail() {
                unitsTail()
                return Comparison(op: op, value: value, span: span(from: start))
            }
            if let bare {
                return Comparison(op: bare, value: value, span: span(from: start))
            }
            pos = start
            return nil
        }
        if bare == .eq, word("not") {
            if let value = quantity() {
                unitsTail()
                return Comparison(op: .neq, value: value, span: span(from: start))
            }
        }
        pos = start
        return nil
    }

    static func ambiguousDirection(_ span: RuleSpan, _ what: String) -> RuleIssue {
        RuleIssue(
            .structure,
            RuleParseError(
                code: .ambiguous,
                message: "\(what) could mean falling or rising to the value.",
                span: span,
                expected: ["drops to", "rises to"],
                suggestions: ["drops to", "rises to"],
                hint: "Say 'drops to N' (or 'N or fewer') or 'rises to N' (or 'N or more')."
            )
        )
    }

    /// `or fewer` → lte, `or more` → gte.
    private func orTail() -> RuleOperator? {
        let save = pos
        guard word("or") else { return nil }
        if anyWord(Self.lessWords, expecting: "fewer") != nil { return .lte }
        if anyWord(Self.moreWords, expecting: "more") != nil { return .gte }
        pos = save
        return nil
    }

    /// `window` of §3.2: `in the last hour`, `within 15 minutes`, `over the past 2 days`.
    func window() -> Qty? {
        let start = pos
        guard word("in") || word("over") || word("within") || word("during") || word("for") else { return nil }
        word("the")
        if !word("last") { word("past") }
        if case .duration(let seconds) = token.kind {
            pos += 1
            return Qty(value: .duration(seconds), span: span(from: start))
        }
        if token.isWordLike, let seconds = Self.unitNouns[token.lower] {
            pos += 1
            return Qty(value: .duration(seconds), span: span(from: start))
        }
        expect(.literal("duration"))
        pos = start
        return nil
    }

    /// `place` of §3.2: `at Reno`, `in the Newark warehouse`.
    func place() -> String? {
        let save = pos
        guard word("at") || word("in") else { return nil }
        if let location = entity(.location, committed: true) { return location.id }
        pos = save
        return nil
    }

    /// `at Reno`, and in an event phrase also `at Reno or Newark` (the event at either location).
    func places() -> [String]? {
        guard let first = place() else { return nil }
        var ids = [first]
        guard case .event = slot else { return ids }
        while true {
            let save = pos
            optionalComma()
            if !word("or") { word("and") }
            guard pos != save, let next = entity(.location, committed: false) else {
                pos = save
                return ids
            }
            ids.append(next.id)
        }
    }

    /// `channel_pp` of §3.2: `on Amazon`, `from Walmart`, `to Etsy`; `on any channel` gives an empty list.
    func channelPhrase() -> [String]? {
        let save = pos
        guard word("on") || word("from") || word("to") || word("via") || word("through") || word("across") else { return nil }
        if words("any", "channel") || words("all", "channels") || words("every", "channel") { return [] }
        if let list = channelList(committed: true) { return list }
        pos = save
        return nil
    }

    /// `channel_set` of §3.2 after a preposition, or `everywhere`: (ids, all, excluded ids).
    func channelSetPhrase() -> (channels: [String], all: Bool, exclude: [String])? {
        let save = pos
        if word("everywhere") {
            return (["all"], true, exceptList())
        }
        guard word("on") || word("from") || word("across") || word("for") || word("in") else { return nil }
        if words("all", "channels") || words("every", "channel") || words("any", "channel") || word("everywhere") {
            return (["all"], true, exceptList())
        }
        if let list = channelList(committed: true) { return (list, false, []) }
        pos = save
        return nil
    }

    private func exceptList() -> [String] {
        let save = pos
        guard word("except") || words("other", "than") else { return [] }
        word("for")
        if let list = channelList(committed: true) { return list }
        pos = save
        return []
    }
}
