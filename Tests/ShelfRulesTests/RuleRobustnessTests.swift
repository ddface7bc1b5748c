import ShelfCore
import ShelfRules
import Testing

/// Mutated corpus sentences (deterministic pseudo-random edits): the parser never traps, always answers exactly one of
/// rule or error, and keeps error spans inside the text.
@Suite("Robustness")
struct RuleRobustnessTests {
    static let inserts = [
        "and", "or", ",", "unless", "if", "when", "the", "Amazn", "ünïcödé", "🚀", "\"", "'", "$", "5", "%", "SKU-", "at",
        "every", "between", "—", "it's", "tagged", "x", "0", "three", "hours", "months", "€3",
    ]

    @Test func mutatedSentencesNeverTrap() throws {
        let sentences = RulesCorpusLine.all.map(\.text).filter { !$0.isEmpty }
        try #require(!sentences.isEmpty)
        var random = SplitMix64(seed: 42)
        var accepted = 0
        var rejected = 0
        for round in 0..<1500 {
            var words = sentences[round % sentences.count].split(separator: " ").map(String.init)
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let position = Int.random(in: 0...words.count, using: &random)
                switch Int.random(in: 0..<4, using: &random) {
                case 0 where !words.isEmpty: words.remove(at: min(position, words.count - 1))
                case 1: words.insert(Self.inserts.randomElement(using: &random) ?? "and", at: position)
                case 2 where words.count > 1:
                    let other = Int.random(in: 0..<words.count, using: &random)
                    words.swapAt(min(position, words.count - 1), other)
                default: words.insert(words.randomElement(using: &random) ?? "", at: position)
                }
            }
            let text = words.joined(separator: " ")
            let result = RuleParser.parse(text, catalog: .demo)
            #expect(result.ok == (result.rule != nil) && result.ok == (result.error == nil), "\(text)")
            if let error = result.error {
                rejected += 1
                let length = text.unicodeScalars.count
                #expect(error.span.start >= 0 && error.span.start <= error.span.end && error.span.end <= length, "\(text)")
                #expect(!error.message.isEmpty)
                _ = error.caretDiagram(for: text)
            } else {
                accepted += 1
                #expect(result.explain?.isEmpty == false)
            }
        }
        #expect(accepted > 0 && rejected > 0)
    }
}
