import Foundation
import ShelfRules
import Testing

/// Shared assertions: a sentence parses to a canonical rule, or is rejected with a code, position and suggestion.
enum RuleExpectations {
    /// Parses `text` and checks deep JSON equality of the canonical rule with `json`.
    @discardableResult
    static func accepts(
        _ text: String,
        _ json: String,
        catalog: RuleCatalog = .demo,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> Rule? {
        let result = RuleParser.parse(text, catalog: catalog)
        #expect(
            result.ok,
            "rejected \(result.error?.code.rawValue ?? "") \(result.error?.message ?? "")",
            sourceLocation: sourceLocation
        )
        guard let rule = result.rule else { return nil }
        let actual = try RuleJSON.canonicalString(rule)
        let parsedActual = try #require(JSONComparison.parse(actual), sourceLocation: sourceLocation)
        let parsedExpected = try #require(JSONComparison.parse(json), "bad expected JSON", sourceLocation: sourceLocation)
        #expect(
            JSONComparison.equal(parsedActual, parsedExpected),
            "\nexpected: \(json)\nactual:   \(actual)",
            sourceLocation: sourceLocation
        )
        return rule
    }

    /// Parses `text` and checks the error code, that the span starts at the first whole-word occurrence of `at`
    /// (end of input when nil), and that `suggest` is among the suggestions.
    @discardableResult
    static func rejects(
        _ text: String,
        _ code: RuleErrorCode,
        at: String?,
        suggest: String? = nil,
        catalog: RuleCatalog = .demo,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> RuleParseError? {
        let result = RuleParser.parse(text, catalog: catalog)
        #expect(!result.ok, "accepted: \(result.explain ?? "")", sourceLocation: sourceLocation)
        let error = try #require(result.error, sourceLocation: sourceLocation)
        #expect(error.code == code, "got \(error.code.rawValue): \(error.message)", sourceLocation: sourceLocation)
        let start: Int
        if let at {
            start = try #require(TextOffsets.wholeWordOffset(of: at, in: text), "'\(at)' not in text", sourceLocation: sourceLocation)
        } else {
            start = text.unicodeScalars.count
        }
        #expect(error.span.start == start, "span \(error.span), found \(error.found ?? "-")", sourceLocation: sourceLocation)
        #expect(error.span.end >= error.span.start, sourceLocation: sourceLocation)
        if let suggest {
            #expect(error.suggestions.contains(suggest), "suggestions \(error.suggestions)", sourceLocation: sourceLocation)
        }
        return error
    }
}
