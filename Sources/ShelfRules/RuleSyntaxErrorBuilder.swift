/// Turns the parser's furthest failure into the one syntax error of §7.4, choosing the code from what was expected
/// there and the slot being parsed, and the suggestions from §7.6.
struct RuleSyntaxErrorBuilder {
    let parser: RuleGrammarParser

    private var tokens: [RuleToken] { parser.tokens }
    private var catalog: RuleCatalogIndex { parser.catalog }

    static let eventHint =
        "Triggers look like: 'when stock of SKU-1 drops below 10', 'when an order for SKU-1 is placed', "
        + "'when a return is received', 'when SKU-1 is restocked', 'when the price of SKU-1 drops below $10', "
        + "'when a reservation expires', 'when demand for SKU-1 spikes', 'when Amazon sync fails', "
        + "'when Amazon sync lag goes over 10 minutes', 'when Amazon and eBay disagree by more than 3 units', "
        + "or a schedule such as 'every day at 9am'."
    static let actionHint =
        "Actions: notify / email / slack a target; pause or resume a listing; set safety stock (or a multiplier); "
        + "hold back N units on a channel; set, raise or lower a price; reorder N units; reroute orders to a location; "
        + "tag the order; reconcile channels; prioritize sync."

    func build() -> RuleParseError {
        let position = max(0, parser.tracker.position)
        let expected = parser.tracker.expected
        let slots = parser.tracker.slots
        let current = tokens[min(position, tokens.count - 1)]
        let expectedList = Self.describe(expected)
        if current.isEOF { return endOfInput(expected, expectedList) }

        if current.isWordLike, let reason = RuleLexicon.unsupported[current.lower] {
            return RuleParseError(
                code: .unsupported,
                message: reason,
                span: current.span,
                found: parser.text(current.span),
                expected: expectedList,
                hint: "Rules act as soon as their trigger fires."
            )
        }
        if let sku = lowercaseSku(current, expected: expected) {
            return RuleParseError(
                code: .unknownPhrase,
                message: "'\(parser.text(current.span))' is not recognised as a SKU.",
                span: current.span,
                found: parser.text(current.span),
                expected: expectedList,
                suggestions: [sku],
                hint: "SKUs are written in upper case (TEE-BLK-M) or with the SKU- prefix, unless the catalog lists them."
            )
        }
        let actionStart = actionStart(at: position, expected: expected, slots: slots)
        if let actionStart, let curated = nearMiss(from: actionStart, through: position) {
            let span = clauseSpan(from: actionStart, stopAtAnd: true)
            return RuleParseError(
                code: .unknownAction,
                message: "'\(parser.text(span))' is not a supported action.",
                span: span,
                found: parser.text(span),
                expected: ["action"],
                suggestions: curated,
                hint: Self.actionHint
            )
        }

        if let partial = partialAlias(at: position) { return partial }
        let kinds = expectedKinds(expected)
        let foundLength = foundPhraseLength(at: position, kinds: kinds.map(\.kind))
        let aliasCandidates = aliasSuggestions(at: position, length: foundLength, kinds: kinds.map(\.kind))
        let wordCandidates = lexiconSuggestions(at: position, expected: expected)
        let bestAlias = aliasCandidates.map(\.candidate.distance).min()
        let bestWord = wordCandidates.map(\.distance).min()
        if let bestAlias, bestWord.map({ bestAlias <= $0 }) ?? true {
            let kind = aliasCandidates.filter { $0.candidate.distance == bestAlias }.map(\.kind).first ?? .channel
            let suggestions = RuleSuggester.best(aliasCandidates.filter { $0.kind == kind }.map(\.candidate))
            return unknownEntity(kind, at: position, length: foundLength, suggestions: suggestions)
        }
        if !wordCandidates.isEmpty {
            return RuleParseError(
                code: .unknownPhrase,
                message: "Unknown word '\(parser.text(current.span))'.",
                span: current.span,
                found: parser.text(current.span),
                expected: expectedList,
                suggestions: RuleSuggester.best(wordCandidates),
                hint: hint(expectedList)
            )
        }
        if let committed = committedKind(kinds, at: position, length: foundLength) {
            return unknownEntity(committed, at: position, length: foundLength, suggestions: [])
        }
        if position == 0 {
            return RuleParseError(
                code: .noTrigger,
                message: "The sentence does not start with a trigger or a schedule.",
                span: current.span,
                found: parser.text(current.span),
                expected: expectedList,
                hint: "Start with a trigger such as 'When stock of SKU-1 drops below 10, …' or a schedule such as 'Every day at 9am, …'."
            )
        }
        if let actionStart, actionStart == position {
            let span = clauseSpan(from: actionStart, stopAtAnd: true)
            return RuleParseError(
                code: .unknownAction,
                message: "'\(parser.text(span))' is not a supported action.",
                span: span,
                found: parser.text(span),
                expected: ["action"],
                hint: Self.actionHint
            )
        }
        if let eventStart = eventStart(slots), eventStart <= position {
            let span = clauseSpan(from: eventStart, stopAtAnd: false)
            return RuleParseError(
                code: .unknownEvent,
                message: "No event matches '\(parser.text(span))'.",
                span: span,
                found: parser.text(span),
                expected: ["event"],
                hint: Self.eventHint
            )
        }
        let known = !current.isWordLike || RuleLexicon.known.contains(current.lower)
        return RuleParseError(
            code: .unknownPhrase,
            message: known ? "Unexpected '\(parser.text(current.span))' here." : "Unknown word '\(parser.text(current.span))'.",
            span: current.span,
            found: parser.text(current.span),
            expected: expectedList,
            hint: hint(expectedList)
        )
    }

    /// A lower-case hyphenated word where a SKU was expected (§10.5): suggest its upper-case form.
    private func lowercaseSku(_ token: RuleToken, expected: [RuleExpectation]) -> String? {
        guard token.isWordLike, expected.contains(.literal("SKU")), token.lower.contains("-"),
            token.lower.first?.isLetter == true, !RuleLexicon.known.contains(token.lower),
            token.lower.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }), !token.lower.hasSuffix("-")
        else { return nil }
        return parser.text(token.span).uppercased()
    }

    // MARK: - End of input

    private func endOfInput(_ expected: [RuleExpectation], _ expectedList: [String]) -> RuleParseError {
        let end = tokens[tokens.count - 1].start
        let span = RuleSpan(start: end, end: end)
        if tokens.count == 1 {
            return RuleParseError(
                code: .noTrigger,
                message: "The rule is empty.",
                span: span,
                expected: ["trigger"],
                hint: "Write one sentence such as 'When stock of SKU-1 drops below 10, notify ops.'"
            )
        }
        if expected.contains(.firstAction) {
            return RuleParseError(
                code: .noAction,
                message: "The sentence has a trigger but no action.",
                span: span,
                expected: ["action"],
                hint: "Add an action, e.g. ', notify ops' or ', pause the Amazon listing'."
            )
        }
        if expected.contains(.head) {
            // The trigger is a missing part: §7.4/§10.8 put it at the end of the input, where it could be added.
            return RuleParseError(
                code: .noTrigger,
                message: "The sentence has actions but no trigger or schedule.",
                span: span,
                expected: ["when …", "if …", "every …"],
                hint: "Add a trigger, e.g. '… when stock of SKU-1 drops below 10', or a schedule such as 'every day at 9am'."
            )
        }
        return RuleParseError(
            code: .unexpectedEnd,
            message: "The sentence ends in the middle of a phrase.",
            span: span,
            expected: expectedList,
            hint: hint(expectedList)
        )
    }

    /// The curated suggestions for the first near-miss word (§7.6.3) between the action start and the failure, or in
    /// the failing action's clause when it failed on its first word (`put it on sale`).
    private func nearMiss(from start: Int, through position: Int) -> [String]? {
        var index = start
        let end = position == start ? Int.max : position
        while index < tokens.count, index <= end, !tokens[index].isEOF, !tokens[index].isComma {
            if index > start, tokens[index].isWord("and") || tokens[index].isWord("then") { break }
            if tokens[index].isWordLike, let curated = RuleLexicon.nearMisses[tokens[index].lower] { return curated }
            index += 1
        }
        return nil
    }

    // MARK: - Slots

    private func actionStart(at position: Int, expected: [RuleExpectation], slots: [RuleSlot]) -> Int? {
        if expected.contains(.firstAction) || expected.contains(.nextAction) { return position }
        for slot in slots {
            if case .action(let start) = slot { return start }
        }
        return nil
    }

    private func eventStart(_ slots: [RuleSlot]) -> Int? {
        for slot in slots {
            if case .event(let start) = slot { return start }
        }
        return nil
    }

    /// The phrase from `start` to the end of its clause (a comma, the end, or a clause keyword).
    private func clauseSpan(from start: Int, stopAtAnd: Bool) -> RuleSpan {
        var stops: Set<String> = ["when", "whenever", "if", "unless", "then", "once"]
        if stopAtAnd { stops.formUnion(["and", "or"]) }
        var last = start
        var index = start
        while index < tokens.count, !tokens[index].isEOF, !tokens[index].isComma {
            if index > start, tokens[index].isWordLike, stops.contains(tokens[index].lower) { break }
            last = index
            index += 1
        }
        return RuleSpan(start: tokens[start].start, end: tokens[last].end)
    }

    // MARK: - Entities

    private func expectedKinds(_ expected: [RuleExpectation]) -> [(kind: RuleEntityKind, committed: Bool)] {
        var out: [(kind: RuleEntityKind, committed: Bool)] = []
        for case .entity(let kind, let committed) in expected {
            if let index = out.firstIndex(where: { $0.kind == kind }) {
                out[index].committed = out[index].committed || committed
            } else {
                out.append((kind, committed))
            }
        }
        return out
    }

    /// How many tokens from `position` look like part of an unknown name: unknown words, or words used in aliases.
    private func foundPhraseLength(at position: Int, kinds: [RuleEntityKind]) -> Int {
        var length = 0
        var index = position
        while index < tokens.count {
            let token = tokens[index]
            guard token.isWordLike || token.number != nil else { break }
            let aliasWord = kinds.contains { catalog.aliasWords[$0.rawValue].contains(token.lower) }
            if length > 0, !aliasWord, RuleLexicon.known.contains(token.lower) { break }
            if length > 0, !aliasWord, token.number != nil { break }
            length += 1
            index += 1
            if length == 4 { break }
        }
        return max(1, length)
    }

    private func aliasSuggestions(
        at position: Int,
        length: Int,
        kinds: [RuleEntityKind]
    ) -> [(kind: RuleEntityKind, candidate: RuleSuggester.Candidate)] {
        var out: [(kind: RuleEntityKind, candidate: RuleSuggester.Candidate)] = []
        for kind in kinds {
            var bestById: [String: Int] = [:]
            for (rank, alias) in catalog.aliases[kind.rawValue].enumerated() {
                for count in stride(from: length, through: 1, by: -1) where alias.words.count >= count {
                    let found = tokens[position..<(position + count)].map(\.lower)
                    let text = found.joined(separator: " ")
                    var distance: Int?
                    if alias.words.count == count {
                        distance = RuleSuggester.score(text, alias.words.joined(separator: " "))
                    } else if Array(alias.words.prefix(count)) == found, count == length {
                        distance = 1
                    }
                    guard let distance else { continue }
                    let candidate = RuleSuggester.Candidate(text: alias.display, distance: distance, rank: rank)
                    if let index = bestById[alias.id] {
                        if distance < out[index].candidate.distance { out[index] = (kind, candidate) }
                    } else {
                        bestById[alias.id] = out.count
                        out.append((kind, candidate))
                    }
                    break
                }
            }
        }
        return out
    }

    /// An unknown word right after the start of a longer alias (`TikTok Shopp`, `ops tema`): the parser matched the
    /// shorter alias, so the name as a whole is reported from where it began.
    private func partialAlias(at position: Int) -> RuleParseError? {
        let current = tokens[position]
        guard current.isWordLike, !RuleLexicon.known.contains(current.lower) else { return nil }
        for back in [2, 1] where position - back >= 0 {
            let start = position - back
            let prefix = tokens[start..<position].map(\.lower)
            let found = (prefix + [current.lower]).joined(separator: " ")
            var best: (kind: RuleEntityKind, candidate: RuleSuggester.Candidate)?
            for kind in RuleEntityKind.allCases {
                for (rank, alias) in catalog.aliases[kind.rawValue].enumerated()
                where alias.words.count == back + 1 && Array(alias.words.prefix(back)) == prefix {
                    guard let distance = RuleSuggester.score(found, alias.words.joined(separator: " ")) else { continue }
                    if best == nil || distance < best!.candidate.distance {
                        best = (kind, RuleSuggester.Candidate(text: alias.display, distance: distance, rank: rank))
                    }
                }
            }
            if let best {
                return unknownEntity(best.kind, at: start, length: back + 1, suggestions: [best.candidate.text])
            }
        }
        return nil
    }

    private func committedKind(_ kinds: [(kind: RuleEntityKind, committed: Bool)], at position: Int, length: Int) -> RuleEntityKind? {
        let committed = kinds.filter(\.committed).map(\.kind)
        guard !committed.isEmpty else { return nil }
        let after = tokens[min(position + length, tokens.count - 1)]
        if after.isWord("collection"), committed.contains(.collection) { return .collection }
        return committed.first
    }

    private func unknownEntity(_ kind: RuleEntityKind, at position: Int, length: Int, suggestions: [String]) -> RuleParseError {
        let span = RuleSpan(start: tokens[position].start, end: tokens[position + length - 1].end)
        let found = parser.text(span)
        return RuleParseError(
            code: kind.unknownCode,
            message: "Unknown \(kind.noun) '\(found)'.",
            span: span,
            found: found,
            expected: [kind.noun],
            suggestions: suggestions,
            hint: catalog.hint(for: kind)
        )
    }

    // MARK: - Lexicon suggestions

    private func lexiconSuggestions(at position: Int, expected: [RuleExpectation]) -> [RuleSuggester.Candidate] {
        guard tokens[position].isWordLike, !RuleLexicon.known.contains(tokens[position].lower) else { return [] }
        var out: [RuleSuggester.Candidate] = []
        var seen: Set<String> = []
        var found: [String] = []
        for count in 1...4 where position + count < tokens.count {
            found.append(tokens[position..<(position + count)].map(\.lower).joined(separator: " "))
        }
        for (rank, expectation) in expected.enumerated() {
            let phrase: String
            let count: Int
            switch expectation {
            case .word(let text):
                phrase = text
                count = text.utf8.reduce(1) { $0 + ($1 == 0x20 ? 1 : 0) }
            case .phrase(let words, let from):
                count = words.count - from
                guard count <= found.count else { continue }
                phrase = words[from...].joined(separator: " ")
            default:
                continue
            }
            guard count <= found.count, seen.insert(phrase).inserted else { continue }
            let text = found[count - 1]
            guard text != phrase, let distance = RuleSuggester.scoreLowercased(text, phrase) else { continue }
            out.append(RuleSuggester.Candidate(text: phrase, distance: distance, rank: rank))
        }
        return out
    }

    // MARK: - Expected list

    static func describe(_ expected: [RuleExpectation]) -> [String] {
        var seen: Set<String> = []
        var out: [String] = []
        for expectation in expected {
            let text = expectation.description
            if seen.insert(text).inserted { out.append(text) }
        }
        return out
    }

    private func hint(_ expected: [String]) -> String? {
        guard !expected.isEmpty else { return nil }
        let shown = expected.prefix(12).map { "'\($0)'" }.joined(separator: ", ")
        return "Expected " + shown + (expected.count > 12 ? ", …" : "") + "."
    }
}
