import Foundation

/// Canonical JSON encoding of rules and parse results (§7.2): sorted keys, unescaped slashes.
public enum RuleJSON {
    /// A fresh encoder configured for the canonical form.
    public static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// The canonical JSON text of a value (a `Rule`, a `RuleParseResult`, …).
    public static func canonicalString(_ value: some Encodable) throws -> String {
        let data = try makeEncoder().encode(value)
        return String(decoding: data, as: UTF8.self)
    }
}
