/// The sentence (§3.1): head first (`When …, do …`) or actions first (`Do … when …`), with gates around the actions.
extension RuleGrammarParser {
    /// Parses the whole token list, or returns nil (the tracker then holds the syntax error).
    func sentence() -> RuleSyntax.Sentence? {
        var best: RuleSyntax.Sentence?
        for variant in 0..<3 {
            pos = 0
            let found: RuleSyntax.Sentence?
            switch variant {
            case 0: found = headFirst()
            case 1: found = actionFirst(gatesBeforeHead: false)
            default: found = actionFirst(gatesBeforeHead: true)
            }
            // Every variant must reach the end; prefer the reading with the fewest structural problems.
            if let found, best.map({ found.issues.count < $0.issues.count }) ?? true { best = found }
            if let best, best.issues.isEmpty { break }
        }
        pos = tokens.count - 1
        return best
    }

    private func headFirst() -> RuleSyntax.Sentence? {
        guard let head = head() else { return nil }
        var issues: [RuleIssue] = []
        var gates: [RuleSyntax.Gate] = []
        optionalComma()
        gatesOrExtraHeads(&gates, &issues)
        if !words("and", "then") && !word("then") { word("and") }
        guard let (firstActions, listIssues) = actionList(first: true) else { return nil }
        var actions = firstActions
        issues += listIssues
        let gatesBefore = gates.count
        gatesOrExtraHeads(&gates, &issues)
        if gates.count > gatesBefore,
            let (more, moreIssues) = attempt({ () -> ([RuleSyntax.Action], [RuleIssue])? in
                optionalComma()
                if !words("and", "then") && !word("then") { word("and") }
                return actionList(first: false)
            })
        {
            issues.append(conditionBetweenActions(gates[gatesBefore].span))
            actions += more
            issues += moreIssues
            gatesOrExtraHeads(&gates, &issues)
        }
        guard atEnd else {
            expect(.literal("end of sentence"))
            return nil
        }
        return RuleSyntax.Sentence(head: head, gates: gates, actions: actions, issues: issues)
    }

    /// `actions [gates] head {gates}`; with `gatesBeforeHead`, `Notify ops if X when Y` reads `if X` as a guard.
    private func actionFirst(gatesBeforeHead: Bool) -> RuleSyntax.Sentence? {
        guard let (actions, listIssues) = actionList(first: true) else { return nil }
        var issues = listIssues
        var gates: [RuleSyntax.Gate] = []
        optionalComma()
        if gatesBeforeHead {
            while let gate = attempt({ gate() }) {
                gates.append(gate)
                optionalComma()
            }
            guard !gates.isEmpty else { return nil }
        }
        expect(.head)
        guard let head = head() else { return nil }
        gatesOrExtraHeads(&gates, &issues)
        guard atEnd else {
            expect(.literal("end of sentence"))
            return nil
        }
        return RuleSyntax.Sentence(head: head, gates: gates, actions: actions, issues: issues)
    }

    private func conditionBetweenActions(_ span: RuleSpan) -> RuleIssue {
        RuleIssue(
            .structure,
            RuleParseError(
                code: .ambiguous,
                message: "A condition between actions is ambiguous: a rule's conditions apply to all of its actions.",
                span: span,
                found: text(span),
                expected: ["condition before or after all actions"],
                hint: "Move the condition to the start or the end of the sentence, or write two rules."
            )
        )
    }

    /// `{ [","] gate }`; a second trigger or schedule here is E_MULTIPLE_TRIGGERS.
    private func gatesOrExtraHeads(_ gates: inout [RuleSyntax.Gate], _ issues: inout [RuleIssue]) {
        while true {
            let save = pos
            optionalComma()
            if let gate = attempt({ gate() }) {
                gates.append(gate)
                continue
            }
            let headStart = pos
            if !tokens[headStart].isWord("if"), let extra = attempt({ head() }) {
                issues.append(multipleTriggers(RuleSpan(start: tokens[headStart].start, end: extra.span.end)))
                continue
            }
            pos = save
            optionalComma()
            return
        }
    }
}
