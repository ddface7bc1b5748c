/// Which characters Shelf keeps in the text it stores. Everything it accepts round-trips exactly (same Unicode scalars, so
/// NFC and NFD stay as written, 4-byte emoji and bidirectional marks included); control characters are refused with the field
/// named, because SQLite's C strings end at NUL, the state tables use U+001E/U+001F as separators, and channels and feeds
/// reject them. Line breaks and tabs are kept in multi-line fields (descriptions).
public enum TextPolicy {
    /// The reason `text` cannot be stored (nil when it can): C0 controls (except tab, LF and CR where `multiline`), DEL, C1
    /// controls and the noncharacters U+FFFE/U+FFFF.
    public static func problem(_ text: String, multiline: Bool = false) -> String? {
        for (offset, scalar) in text.unicodeScalars.enumerated() {
            let v = scalar.value
            if multiline, v == 0x09 || v == 0x0A || v == 0x0D { continue }
            if v < 0x20 || (0x7F...0x9F).contains(v) || v == 0xFFFE || v == 0xFFFF {
                let hex = String(v, radix: 16, uppercase: true)
                return "must not contain control characters (U+\(String(repeating: "0", count: max(0, 4 - hex.count)))\(hex) at character \(offset))"
            }
        }
        return nil
    }
}

extension CatalogItem {
    /// The first text field that `TextPolicy` refuses, with the reason, or nil when every field can be stored.
    public var textProblem: (field: String, reason: String)? {
        var fields: [(String, String?, Bool)] = [
            ("productId", productId, false), ("title", title, false), ("productTitle", productTitle, false),
            ("description", description, true), ("brand", brand, false), ("barcode", barcode, false), ("url", url, false),
            ("supplier", supplier, false),
        ]
        for (i, value) in mediaURLs.enumerated() { fields.append(("mediaURLs[\(i)]", value, false)) }
        for (i, value) in tags.enumerated() { fields.append(("tags[\(i)]", value, false)) }
        for (i, value) in collections.enumerated() { fields.append(("collections[\(i)]", value, false)) }
        for key in options.keys.sorted() {
            fields.append(("options", key, false))
            fields.append(("options.\(key)", options[key], false))
        }
        for (field, value, multiline) in fields {
            if let value, let reason = TextPolicy.problem(value, multiline: multiline) { return (field, reason) }
        }
        return nil
    }
}
