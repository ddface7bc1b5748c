/// Case-insensitive header helpers over plain dictionaries.
enum HTTPHeaders {
    /// The value of `name`, matching case-insensitively.
    static func value(_ headers: [String: String], _ name: String) -> String? {
        if let exact = headers[name] { return exact }
        let lowered = name.lowercased()
        if let value = headers[lowered] { return value }
        for (key, value) in headers where key.lowercased() == lowered { return value }
        return nil
    }

    /// Parses `Retry-After` given in (possibly fractional) seconds, rounding up; HTTP dates are not used by channels.
    static func retryAfterSeconds(_ headers: [String: String]) -> Int? {
        guard let text = value(headers, "retry-after")?.trimmingWhitespace, !text.isEmpty else { return nil }
        if let whole = Int(text) { return max(0, whole) }
        let parts = text.split(separator: ".", maxSplits: 1)
        guard parts.count == 2, let whole = Int(parts[0]), parts[1].allSatisfy(\.isASCIIDigit) else { return nil }
        return whole + (parts[1].contains(where: { $0 != "0" }) ? 1 : 0)
    }
}

/// Default push/poll status classification.
enum HTTPStatusClassifier {
    static func outcome(status: Int, headers: [String: String], body: [UInt8]) -> PushOutcome {
        switch status {
        case 200..<300: return .accepted
        case 429: return .rateLimited(retryAfterSeconds: HTTPHeaders.retryAfterSeconds(headers))
        case 408, 409, 423, 425, 500..<600: return .retryable(reason: "HTTP \(status)")
        default: return .rejected(reason: "HTTP \(status): \(snippet(body))", skus: [])
        }
    }

    /// Throws for non-success poll statuses; returns normally for 2xx and 304.
    static func checkPoll(status: Int, headers: [String: String], body: [UInt8]) throws(ConnectorError) {
        switch status {
        case 200..<300, 304: return
        case 429: throw .rateLimited(retryAfterSeconds: HTTPHeaders.retryAfterSeconds(headers))
        default: throw .unexpectedStatus(status, snippet(body))
        }
    }

    static func snippet(_ body: [UInt8]) -> String {
        String(decoding: body.prefix(200), as: UTF8.self)
    }

    /// A 304 page: nothing changed since `etag`.
    static func notModifiedPage(headers: [String: String]) -> PollPage {
        PollPage(levels: [], nextCursor: nil, etag: HTTPHeaders.value(headers, "etag"), notModified: true)
    }
}
