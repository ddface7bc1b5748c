/// One lexed token of a rule sentence (§2), with its span in the original text.
struct RuleToken: Sendable {
    /// A clock reading's am/pm marker: none (bare 1–12 hour), am, pm, or 24-hour notation.
    enum Meridiem: Sendable, Equatable { case none, am, pm, twentyFour }

    /// What the token is; literals carry their canonical value.
    enum Kind: Sendable, Equatable {
        case word
        case comma
        case eof
        case possessive
        case quoted(String)
        case url(String)
        case email(String)
        case slack(String)
        case money(amount: Int, currency: String)
        case percent(Double)
        case mult(Double)
        case number(Double)
        case duration(seconds: Double)
        case clock(hour: Int, minute: Int, meridiem: Meridiem)
        case sku(String)
        case skuPrefix(String)
        case skuGlob(String)
    }

    var kind: Kind
    /// Lower-cased text as written (words joined by single spaces for merged literals).
    var lower: String
    var start: Int
    var end: Int

    var span: RuleSpan { RuleSpan(start: start, end: end) }

    /// Plain words (and upper-case hyphenated tokens, which may also be aliases such as ON-CALL).
    var isWordLike: Bool {
        switch kind {
        case .word, .sku: true
        default: false
        }
    }

    var isEOF: Bool { if case .eof = kind { true } else { false } }
    var isComma: Bool { if case .comma = kind { true } else { false } }

    /// True when the token is the given lexicon word.
    @inline(__always)
    func isWord(_ word: String) -> Bool { isWordLike && lower.utf8.count == word.utf8.count && lower == word }

    /// The number a NUMBER token carries.
    var number: Double? { if case .number(let value) = kind { value } else { nil } }
}
