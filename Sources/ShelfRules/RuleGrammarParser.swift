/// A recursive-descent, PEG-style parser for the grammar of §3. Alternatives are tried in order (or longest-first
/// where noted); the furthest failure and its expected set are kept for the syntax error (§7.4).
final class RuleGrammarParser {
    let tokens: [RuleToken]
    let catalog: RuleCatalogIndex
    /// The original sentence, for quoting what was found.
    let source: String
    var pos = 0
    var tracker = RuleFailureTracker()
    var slot: RuleSlot = .sentence
    /// Memoized entity matches by (position, kind) and item phrases by (position, allowPronoun), for the fast pass.
    private var entityMemo: [EntityMemo]
    var itemMemo: [ItemMemo]

    enum EntityMemo {
        case unknown
        case none
        case match(id: String, length: Int)
    }

    /// A memoized item phrase; on the recording pass it keeps the expectations its parse recorded, to replay them.
    enum ItemMemo {
        case unknown
        case none(trace: [(RuleExpectation, Int)])
        case item(RuleSyntax.Item, end: Int, trace: [(RuleExpectation, Int)])
    }

    /// Expectations recorded while a memoized phrase is being parsed (innermost last).
    var traces: [[(RuleExpectation, Int)]] = []

    /// Expectations are only recorded on a second pass after a failed parse, which keeps successful parses cheap.
    var recording = false

    init(tokens: [RuleToken], catalog: RuleCatalogIndex, source: String) {
        self.tokens = tokens
        self.catalog = catalog
        self.source = source
        entityMemo = Array(repeating: .unknown, count: tokens.count * RuleEntityKind.allCases.count)
        itemMemo = Array(repeating: .unknown, count: tokens.count * 2)
    }

    // MARK: - Cursor

    var token: RuleToken { tokens[pos] }
    var atEnd: Bool { tokens[pos].isEOF }

    func peek(_ offset: Int) -> RuleToken { tokens[min(pos + offset, tokens.count - 1)] }

    /// The span from token `start` to the last consumed token.
    func span(from start: Int) -> RuleSpan {
        let last = max(start, pos - 1)
        if pos <= start { return RuleSpan(start: tokens[start].start, end: tokens[start].start) }
        return RuleSpan(start: tokens[start].start, end: tokens[last].end)
    }

    @inline(__always)
    func expect(_ expectation: @autoclosure () -> RuleExpectation, at position: Int? = nil) {
        guard recording else { return }
        let at = position ?? pos
        if !traces.isEmpty {
            let value = expectation()
            traces[traces.count - 1].append((value, at))
            if tracker.wants(at) { tracker.record(value, at: at, slot: slot) }
            return
        }
        guard tracker.wants(at) else { return }
        tracker.record(expectation(), at: at, slot: slot)
    }

    /// Runs `body` with `slot` as the current slot.
    @inline(__always)
    func inSlot<T>(_ newSlot: RuleSlot, _ body: () -> T) -> T {
        let saved = slot
        slot = newSlot
        defer { slot = saved }
        return body()
    }

    /// Runs `body`; on nil restores the position (PEG backtracking).
    @inline(__always)
    func attempt<T>(_ body: () -> T?) -> T? {
        let save = pos
        if let value = body() { return value }
        pos = save
        return nil
    }

    // MARK: - Words

    @discardableResult
    func word(_ word: String) -> Bool {
        if tokens[pos].isWord(word) {
            pos += 1
            return true
        }
        expect(.word(word))
        return false
    }

    /// A fixed phrase; all or nothing. On failure the rest of the phrase is expected where it broke off.
    @discardableResult
    func words(_ phrase: [String]) -> Bool {
        let start = pos
        var offset = 0
        let count = phrase.count
        while offset < count {
            guard tokens[start + offset].isWord(phrase[offset]) else {
                if recording {
                    pos = start + offset
                    expect(.phrase(phrase, from: offset))
                }
                pos = start
                return false
            }
            offset += 1
        }
        pos = start + count
        return true
    }

    @discardableResult
    func words(_ first: String, _ second: String) -> Bool {
        if tokens[pos].isWord(first) {
            if tokens[pos + 1].isWord(second) {
                pos += 2
                return true
            }
            expect(.word(second), at: pos + 1)
            return false
        }
        expect(.word(first + " " + second))
        return false
    }

    /// The first phrase of `phrases` that matches, returning its index.
    func oneOf(_ phrases: [[String]]) -> Int? {
        for (index, phrase) in phrases.enumerated() where words(phrase) { return index }
        return nil
    }

    /// One word out of a set, without recording expectations for each (used for closed word classes).
    func anyWord(_ set: Set<String>, expecting name: String) -> String? {
        let current = tokens[pos]
        if current.isWordLike, set.contains(current.lower) {
            pos += 1
            return current.lower
        }
        expect(.literal(name))
        return nil
    }

    /// Consumes an optional comma.
    func optionalComma() {
        if tokens[pos].isComma { pos += 1 }
    }

    /// Consumes filler words that never change meaning (`please`, `automatically`, …).
    func fillers() {
        while tokens[pos].isWordLike, RuleLexicon.fillers.contains(tokens[pos].lower) { pos += 1 }
    }

    // MARK: - Entities

    /// A catalog entity of `kind`, with an optional leading `the`.
    func entity(_ kind: RuleEntityKind, committed: Bool) -> (id: String, span: RuleSpan)? {
        var at = pos
        if tokens[at].isWord("the") {
            at += 1
        }
        if let match = entityMatch(kind, at: at) {
            let span = RuleSpan(start: tokens[at].start, end: tokens[at + match.length - 1].end)
            pos = at + match.length
            return (match.id, span)
        }
        expect(.entity(kind, committed: committed), at: at)
        return nil
    }

    private func entityMatch(_ kind: RuleEntityKind, at position: Int) -> (id: String, length: Int)? {
        let slot = position * RuleEntityKind.allCases.count + kind.rawValue
        switch entityMemo[slot] {
        case .none: return nil
        case .match(let id, let length): return (id, length)
        case .unknown: break
        }
        let found = catalog.match(kind, in: tokens, at: position)
        entityMemo[slot] = found.map { .match(id: $0.id, length: $0.length) } ?? .none
        return found
    }

    /// A list of channels: `Amazon, eBay and Walmart`.
    func channelList(committed: Bool) -> [String]? {
        guard let first = entity(.channel, committed: committed) else { return nil }
        var ids = [first.id]
        while true {
            let save = pos
            optionalComma()
            if !word("and"), case .event = slot { word("or") }
            if pos == save {
                break
            }
            if let next = entity(.channel, committed: false) {
                ids.append(next.id)
            } else {
                pos = save
                break
            }
        }
        return ids
    }
}
