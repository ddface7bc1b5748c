import Foundation

/// Item phrases (§3.2): SKU lists, patterns, tags, collections, "any" phrases and pronouns.
extension RuleGrammarParser {
    typealias Item = RuleSyntax.Item

    private static let anyPhrases: [[String]] = [
        ["any", "sku"], ["any", "skus"], ["a", "sku"], ["every", "sku"], ["all", "skus"], ["any", "product"],
        ["a", "product"], ["every", "product"], ["all", "products"], ["any", "item"], ["an", "item"], ["every", "item"],
        ["all", "items"], ["any", "listing"], ["anything"], ["everything"], ["products"], ["items"], ["skus"],
    ]
    private static let patternHeads: [[String]] = [
        ["a", "sku"], ["any", "sku"], ["every", "sku"], ["all", "skus"], ["any", "skus"], ["skus"], ["sku"],
        ["a", "product"], ["any", "product"], ["products"], ["anything"], ["everything"],
    ]
    /// Words an item phrase can start with (besides SKUs and collection names); a cheap filter for the fast pass.
    private static let itemStarters: Set<String> = Set(
        (anyPhrases + patternHeads + pronouns).map { $0[0] } + ["tagged", "in", "from", "the"]
    )

    private static let prefixWords: [[String]] = [
        ["starting", "with"], ["beginning", "with"], ["that", "start", "with"], ["that", "starts", "with"],
        ["that", "begin", "with"], ["that", "begins", "with"],
    ]
    private static let pronouns: [[String]] = [
        ["that", "sku"], ["this", "sku"], ["that", "product"], ["this", "product"], ["that", "item"], ["those", "skus"],
        ["that", "listing"], ["this", "listing"], ["the", "listing"], ["it"], ["them"],
    ]

    /// `item_np` of §3.2, longest alternative first (memoized per position on the fast pass).
    func itemPhrase(allowPronoun: Bool = true) -> Item? {
        let index = pos * 2 + (allowPronoun ? 1 : 0)
        switch itemMemo[index] {
        case .none(let trace):
            replay(trace)
            return nil
        case .item(let item, let end, let trace):
            replay(trace)
            pos = end
            return item
        case .unknown:
            if recording { traces.append([]) }
            let found = parseItemPhrase(allowPronoun: allowPronoun)
            let trace = recording ? traces.removeLast() : []
            if recording, !traces.isEmpty { traces[traces.count - 1] += trace }
            itemMemo[index] = found.map { .item($0, end: pos, trace: trace) } ?? .none(trace: trace)
            return found
        }
    }

    /// Re-records a memoized parse's expectations in the current slot (recording pass only).
    private func replay(_ trace: [(RuleExpectation, Int)]) {
        for (expectation, position) in trace { expect(expectation, at: position) }
    }

    private func parseItemPhrase(allowPronoun: Bool) -> Item? {
        let start = pos
        switch token.kind {
        case .sku:
            return skuList()
        case .word:
            if !recording, !Self.itemStarters.contains(token.lower), !catalog.startsAlias(.collection, token) { return nil }
            expect(.literal("SKU"))
        default:
            expect(.literal("SKU"))
            return nil
        }
        var match = RuleLongestMatch<Item>(start: start)
        match.consider(self, patternPhrase())
        match.consider(self, tagPhrase())
        match.consider(self, collectionPhrase())
        if let index = oneOf(Self.anyPhrases) {
            _ = index
            match.consider(self, Item(ref: .any, span: span(from: start)))
        }
        if allowPronoun, oneOf(Self.pronouns) != nil {
            match.consider(self, Item(ref: .pronoun, span: span(from: start)))
        }
        return match.finish(self)
    }

    private func skuList() -> Item? {
        let start = pos
        var skus: [String] = []
        guard case .sku(let first) = token.kind else { return nil }
        skus.append(first)
        pos += 1
        while true {
            let save = pos
            optionalComma()
            if !word("and"), case .event = slot { word("or") }
            guard pos != save, case .sku(let next) = token.kind else {
                pos = save
                break
            }
            skus.append(next)
            pos += 1
        }
        return Item(ref: .skus(skus), span: span(from: start))
    }

    private func patternPhrase() -> Item? {
        let start = pos
        guard oneOf(Self.patternHeads) != nil else { return nil }
        if oneOf(Self.prefixWords) != nil {
            switch token.kind {
            case .skuPrefix(let prefix), .sku(let prefix):
                pos += 1
                return Item(ref: .prefix(prefix), span: span(from: start))
            default:
                expect(.literal("SKU prefix such as TEE-"))
                return nil
            }
        }
        if word("like") || word("matching") {
            if case .skuGlob(let pattern) = token.kind {
                pos += 1
                return Item(ref: .pattern(pattern), span: span(from: start))
            }
            expect(.literal("SKU pattern such as CAP-*-RED"))
        }
        return nil
    }

    private func tagPhrase() -> Item? {
        let start = pos
        _ = oneOf(Self.anyPhrases)
        guard word("tagged") else { return nil }
        if !word("with") { _ = word("as") }
        guard let tag = tagValue() else { return nil }
        return Item(ref: .tags([tag]), span: span(from: start))
    }

    private func collectionPhrase() -> Item? {
        let start = pos
        let hadAny = oneOf(Self.anyPhrases) != nil
        if word("in") || word("from") {
            guard let collection = entity(.collection, committed: true) else { return nil }
            word("collection")
            return Item(ref: .collection(collection.id), span: span(from: start))
        }
        guard !hadAny, let collection = entity(.collection, committed: false) else { return nil }
        guard word("collection") else { return nil }
        return Item(ref: .collection(collection.id), span: span(from: start))
    }

    /// A tag value: quoted text (lower-cased) or a word of `[a-z0-9-]`.
    func tagValue() -> String? {
        let current = token
        switch current.kind {
        case .quoted(let text):
            let tag = text.lowercased().trimmingCharacters(in: .whitespaces)
            guard !tag.isEmpty else { break }
            pos += 1
            return tag
        case .word, .sku, .number:
            let lower = current.lower
            if !RuleLexicon.tagStopWords.contains(lower),
                lower.utf8.allSatisfy({ (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == UInt8(ascii: "-") })
            {
                pos += 1
                return lower
            }
        default:
            break
        }
        expect(.literal("tag"))
        return nil
    }
}
