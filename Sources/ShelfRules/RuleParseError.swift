/// The §7.3 error object: what went wrong, where (in Unicode scalars), and the closest known phrases.
public struct RuleParseError: Error, Sendable, Codable, Equatable {
    public var code: RuleErrorCode
    public var message: String
    public var span: RuleSpan
    /// The offending text as written; omitted at end of input.
    public var found: String?
    public var expected: [String]
    public var suggestions: [String]
    public var hint: String?

    public init(
        code: RuleErrorCode,
        message: String,
        span: RuleSpan,
        found: String? = nil,
        expected: [String] = [],
        suggestions: [String] = [],
        hint: String? = nil
    ) {
        self.code = code
        self.message = message
        self.span = span
        self.found = found
        self.expected = expected
        self.suggestions = suggestions
        self.hint = hint
    }

    /// The sentence, a line with `^^^` under the offending span, then the message, suggestions and hint
    /// (what `shelf rules check` prints).
    public func caretDiagram(for text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        let start = Swift.max(0, Swift.min(span.start, scalars.count))
        let end = Swift.max(start, Swift.min(span.end, scalars.count))
        var sentence = ""
        var pad = ""
        for (index, scalar) in scalars.enumerated() {
            let isBreak = scalar == "\n" || scalar == "\r"
            sentence.unicodeScalars.append(isBreak ? " " : scalar)
            if index < start { pad.unicodeScalars.append(scalar == "\t" ? "\t" : " ") }
        }
        let carets = String(repeating: "^", count: Swift.max(1, end - start))
        var lines = [sentence, pad + carets, "\(code.rawValue): \(message)"]
        if !suggestions.isEmpty {
            lines.append("Did you mean: " + suggestions.joined(separator: ", ") + "?")
        }
        if let hint { lines.append("Hint: " + hint) }
        return lines.joined(separator: "\n")
    }
}
