/// Builds and reads URL query strings (RFC 3986 unreserved characters are left as is).
public enum URLQuery {
    private static let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)

    /// Percent-encodes one query or path component.
    public static func encode(_ component: String) -> String {
        var output = ""
        for byte in component.utf8 {
            if unreserved.contains(byte) {
                output.append(Character(Unicode.Scalar(byte)))
            } else {
                output += "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 0x0F, radix: 16, uppercase: true)
            }
        }
        return output
    }

    /// Decodes percent-escapes and `+` (as space).
    public static func decode(_ component: Substring) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(component.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
                let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
            } else if byte == UInt8(ascii: "+") {
                bytes.append(0x20)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `base + path + ?k=v&…` with items in the given order; nil values are skipped.
    public static func url(_ base: String, _ path: String, _ items: [(String, String?)] = []) -> String {
        let query = items.compactMap { name, value in value.map { encode(name) + "=" + encode($0) } }.joined(separator: "&")
        return base + path + (query.isEmpty ? "" : "?" + query)
    }

    /// The query items of a URL or query string (last one wins).
    public static func items(of urlOrQuery: String) -> [String: String] {
        let query: Substring
        if let mark = urlOrQuery.firstIndex(of: "?") {
            query = urlOrQuery[urlOrQuery.index(after: mark)...]
        } else if urlOrQuery.contains("=") && !urlOrQuery.contains("/") {
            query = Substring(urlOrQuery)
        } else {
            return [:]
        }
        var result: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            result[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return result
    }
}
