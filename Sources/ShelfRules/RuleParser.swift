/// The plain-English rules parser: one sentence and a catalog in, one canonical rule or one error out (§1, §7).
public enum RuleParser {
    /// Parses one sentence against a seller catalog. Deterministic: the same text and catalog always give the same
    /// result. Never throws; errors come back in the envelope with a span in Unicode scalars of `text`.
    public static func parse(_ text: String, catalog: RuleCatalog) -> RuleParseResult {
        let index = RuleCatalogIndex.shared(for: catalog)
        let tokens: [RuleToken]
        do {
            tokens = try RuleLexer.tokenize(text, skus: catalog.skus.map { Set($0.map { $0.uppercased() }) }, currency: catalog.currency)
        } catch {
            return .failure(error)
        }
        let parser = RuleGrammarParser(tokens: tokens, catalog: index, source: text)
        guard let sentence = parser.sentence() else {
            let tracing = RuleGrammarParser(tokens: tokens, catalog: index, source: text)
            tracing.recording = true
            _ = tracing.sentence()
            return .failure(RuleSyntaxErrorBuilder(parser: tracing).build())
        }
        var resolver = RuleResolver(sentence: sentence, parser: parser)
        switch resolver.resolve() {
        case .success(let rule): return .success(rule)
        case .failure(let error): return .failure(error)
        }
    }
}
