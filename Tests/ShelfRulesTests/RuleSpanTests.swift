import Foundation
import ShelfRules
import Testing

/// Spans count Unicode scalars of the original text (§7.4), and messages keep their exact text.
@Suite("Spans and diagrams")
struct RuleSpanTests {
    @Test func spansCountUnicodeScalarsAfterNonASCIIText() throws {
        let text = "When SKU-9 sells out, notify ops with “Größe M — ausverkauft 🚀” and pause it on Amazn."
        let error = try #require(RuleParser.parse(text, catalog: .demo).error)
        #expect(error.code == .unknownChannel)
        let scalars = Array(text.unicodeScalars)
        let expectedStart = try #require(TextOffsets.wholeWordOffset(of: "Amazn", in: text))
        #expect(error.span == RuleSpan(start: expectedStart, end: expectedStart + 5))
        #expect(String(String.UnicodeScalarView(scalars[error.span.start..<error.span.end])) == "Amazn")
        #expect(error.suggestions.first == "Amazon")
        #expect(expectedStart != Array(text.utf16).count - 6, "scalar and UTF-16 offsets differ for this text")
    }

    @Test func decomposedLettersKeepTheirScalarLength() throws {
        let text = "When SKU-9 sells out, notify Zoe\u{301}."
        let error = try #require(RuleParser.parse(text, catalog: .demo).error)
        #expect(error.code == .unknownTarget)
        #expect(error.span == RuleSpan(start: 29, end: 33))
        #expect(error.found?.unicodeScalars.count == 4)
    }

    @Test func endOfInputSpanIsTheScalarLength() throws {
        let text = "Wenn SKU-9 ausverkauft ist: no — When SKU-9 drops below"
        let result = RuleParser.parse("When SKU-9 drops below", catalog: .demo)
        let error = try #require(result.error)
        #expect(error.span == RuleSpan(start: 22, end: 22))
        #expect(text.unicodeScalars.count > 22)
    }

    @Test func messagesAreKeptVerbatimWithCurlyQuotesNormalised() throws {
        let result = RuleParser.parse("When SKU-9 sells out, notify ops with “Größe M is GONE 🚀”.", catalog: .demo)
        let rule = try #require(result.rule)
        #expect(rule.actions.first?.message == "Größe M is GONE 🚀")
    }

    @Test func caretDiagramUnderlinesTheSpan() throws {
        let text = "When SKU-9 sells out, pause it on Amazn."
        let error = try #require(RuleParser.parse(text, catalog: .demo).error)
        let lines = error.caretDiagram(for: text).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == text)
        #expect(lines[1] == String(repeating: " ", count: 34) + "^^^^^")
        #expect(lines[2] == "E_UNKNOWN_CHANNEL: Unknown channel 'Amazn'.")
        #expect(lines.contains("Did you mean: Amazon?"))
        #expect(lines.contains { $0.hasPrefix("Hint: Connected channels:") })
    }

    @Test func caretDiagramAtEndOfInputShowsOneCaret() throws {
        let text = "When SKU-1 drops below 10, notify ops and"
        let error = try #require(RuleParser.parse(text, catalog: .demo).error)
        #expect(error.code == .unexpectedEnd)
        let lines = error.caretDiagram(for: text).split(separator: "\n").map(String.init)
        #expect(lines[1] == String(repeating: " ", count: text.count) + "^")
    }
}
