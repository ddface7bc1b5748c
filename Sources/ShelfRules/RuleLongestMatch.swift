/// Tries alternatives from the same start and keeps the one that consumed the most tokens (first wins ties).
struct RuleLongestMatch<Value> {
    let start: Int
    private(set) var best: Value?
    private var bestEnd = -1

    init(start: Int) { self.start = start }

    mutating func consider(_ parser: RuleGrammarParser, _ result: Value?) {
        if let result, parser.pos > bestEnd {
            best = result
            bestEnd = parser.pos
        }
        parser.pos = start
    }

    func finish(_ parser: RuleGrammarParser) -> Value? {
        if best != nil { parser.pos = bestEnd }
        return best
    }
}
