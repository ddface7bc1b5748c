/// Something the grammar would have accepted at a position; the furthest failure's set feeds error messages and
/// suggestions (§7.4, §7.6).
enum RuleExpectation: Sendable, Hashable {
    /// A lexicon word or phrase (`pause`, `hold back`).
    case word(String)
    /// The rest of a fixed phrase from word `from` on (joined only when an error is built).
    case phrase([String], from: Int)
    /// A catalog entity; `committed` when a preposition or verb already requires one (`on ___`, `notify ___`).
    case entity(RuleEntityKind, committed: Bool)
    /// A literal such as a number, money amount, duration, SKU, tag or time.
    case literal(String)
    /// The first action of the sentence.
    case firstAction
    /// An action after a separator (`and`, `then`, `,`).
    case nextAction
    /// A trigger or schedule after an action-first sentence's actions.
    case head

    /// How the expectation reads in an error's `expected` list.
    var description: String {
        switch self {
        case .word(let phrase): phrase
        case .phrase(let words, let from): words[from...].joined(separator: " ")
        case .entity(let kind, _): kind.noun
        case .literal(let name): name
        case .firstAction, .nextAction: "action"
        case .head: "trigger"
        }
    }
}
