import Foundation

/// One line of `fixtures/rules/rules-examples.jsonl` (§9), loaded for the parameterized corpus test.
struct RulesCorpusLine: Sendable, CustomStringConvertible {
    var number: Int
    var text: String
    /// The canonical rule as JSON text, for accepted lines.
    var expectJSON: String?
    var errorCode: String?
    /// The `at` substring, or nil for end of input.
    var errorAt: String?
    var suggest: [String]?
    /// Set when the corpus file itself could not be loaded or a line could not be read.
    var loadProblem: String?

    var description: String { loadProblem.map { "LOAD FAILURE: \($0)" } ?? "#\(number): \(text)" }

    /// Every line of the corpus, or a single failing line that explains why it could not be read.
    static let all: [RulesCorpusLine] = load()

    /// The repository's vendored corpus, `fixtures/rules/rules-examples.jsonl`, found from this file's path.
    static func locate() -> URL? {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let url = root.appendingPathComponent("fixtures/rules/rules-examples.jsonl")
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    private static func load() -> [RulesCorpusLine] {
        guard let url = locate() else {
            return [RulesCorpusLine(number: 0, text: "", loadProblem: "fixtures/rules/rules-examples.jsonl not found in the repository")]
        }
        guard let content = try? String(contentsOf: url, encoding: .utf8) else {
            return [RulesCorpusLine(number: 0, text: "", loadProblem: "cannot read \(url.path)")]
        }
        var lines: [RulesCorpusLine] = []
        for (offset, raw) in content.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            let number = offset + 1
            guard let object = try? JSONSerialization.jsonObject(with: Data(raw.utf8)) as? [String: Any],
                let text = object["text"] as? String
            else {
                lines.append(RulesCorpusLine(number: number, text: String(raw), loadProblem: "line \(number) is not a JSON object"))
                continue
            }
            var line = RulesCorpusLine(number: number, text: text)
            if let expect = object["expect"],
                let data = try? JSONSerialization.data(withJSONObject: expect, options: [.sortedKeys])
            {
                line.expectJSON = String(decoding: data, as: UTF8.self)
            } else if let error = object["error"] as? [String: Any] {
                line.errorCode = error["code"] as? String
                line.errorAt = error["at"] as? String
                line.suggest = error["suggest"] as? [String]
            } else {
                line.loadProblem = "line \(number) has neither expect nor error"
            }
            lines.append(line)
        }
        if lines.isEmpty { return [RulesCorpusLine(number: 0, text: "", loadProblem: "\(url.path) is empty")] }
        return lines
    }
}
