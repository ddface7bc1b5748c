/// The grammatical slot being parsed when a failure is recorded; it decides the error code of a syntax error.
enum RuleSlot: Sendable, Equatable {
    case sentence
    /// The event phrase of a trigger clause starting at a token index.
    case event(start: Int)
    /// An action starting at a token index.
    case action(start: Int)
    /// A guard (`if`/`unless` clause or `and` guard) starting at a token index.
    case guardClause(start: Int)
    /// A schedule starting at a token index.
    case schedule(start: Int)
}
