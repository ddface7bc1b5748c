import Foundation
import ShelfRules
import Testing

/// Every line of `fixtures/rules/rules-examples.jsonl` (§9) is its own test case.
@Suite("rules-examples.jsonl corpus")
struct RulesCorpusTests {
    @Test("corpus file is present and complete")
    func corpusLoads() throws {
        let lines = RulesCorpusLine.all
        #expect(lines.allSatisfy { $0.loadProblem == nil }, "\(lines.compactMap(\.loadProblem))")
        #expect(lines.count >= 95)
    }

    @Test("corpus line", arguments: RulesCorpusLine.all)
    func corpusLine(_ line: RulesCorpusLine) throws {
        #expect(line.loadProblem == nil, "\(line.loadProblem ?? "")")
        let result = RuleParser.parse(line.text, catalog: .demo)
        if let expectJSON = line.expectJSON {
            #expect(result.ok, "rejected: \(result.error.map { "\($0.code.rawValue) \($0.message) @\($0.span.start)" } ?? "")")
            let rule = try #require(result.rule)
            let actualJSON = try RuleJSON.canonicalString(rule)
            let expected = try #require(JSONComparison.parse(expectJSON))
            let actual = try #require(JSONComparison.parse(actualJSON))
            #expect(JSONComparison.equal(actual, expected), "\nexpected: \(expectJSON)\nactual:   \(actualJSON)")
            #expect(result.explain?.isEmpty == false)
        } else {
            let code = try #require(line.errorCode)
            #expect(!result.ok, "accepted: \(result.rule.flatMap { try? RuleJSON.canonicalString($0) } ?? "")")
            let error = try #require(result.error)
            #expect(error.code.rawValue == code, "got \(error.code.rawValue): \(error.message)")
            let expectedStart: Int
            if let at = line.errorAt {
                expectedStart = try #require(TextOffsets.wholeWordOffset(of: at, in: line.text))
            } else {
                expectedStart = line.text.unicodeScalars.count
            }
            #expect(error.span.start == expectedStart, "span \(error.span) found \(error.found ?? "-")")
            if let first = line.suggest?.first {
                #expect(error.suggestions.contains(first), "suggestions \(error.suggestions)")
            }
        }
    }
}
