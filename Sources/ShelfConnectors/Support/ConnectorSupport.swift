import Foundation
import ShelfCore

/// Small helpers shared by the connector files.
enum ConnectorSupport {
    /// `id` as a non-negative Int64; a non-numeric id maps to a stable positive Int64 derived from its SHA-256
    /// (channels such as Shopify and WooCommerce only have numeric ids).
    static func numericId(_ id: String) -> Int64 {
        if let value = Int64(id), value >= 0 { return value }
        let digest = WebhookCrypto.sha256(Array(id.utf8))
        var value: Int64 = 0
        for byte in digest.prefix(7) { value = value << 8 | Int64(byte) }
        return value
    }

    /// Splits `elements` into chunks of at most `size`.
    static func chunks<Element>(_ elements: [Element], of size: Int) -> [[Element]] {
        stride(from: 0, to: elements.count, by: size).map { Array(elements[$0..<min($0 + size, elements.count)]) }
    }

    /// Parses the body as JSON, requiring a non-empty body.
    static func json(_ body: [UInt8]) throws(ConnectorError) -> JSONValue {
        guard !body.isEmpty else { throw .invalidPayload("empty body") }
        return try JSONValue.parse(body)
    }

    /// A required non-empty string member.
    static func requiredString(_ value: JSONValue?, _ name: String) throws(ConnectorError) -> String {
        guard let text = value?.stringValue, !text.isEmpty else { throw .invalidPayload("missing \(name)") }
        return text
    }

    /// A required integer member.
    static func requiredInt(_ value: JSONValue?, _ name: String) throws(ConnectorError) -> Int {
        guard let number = value?.intValue else { throw .invalidPayload("missing or non-integer \(name)") }
        return number
    }

    /// Merges lines that name the same item (TikTok lists one line per unit).
    static func mergedLines(_ lines: [ChannelWebhookEvent.Line]) -> [ChannelWebhookEvent.Line] {
        var order: [String] = []
        var totals: [String: ChannelWebhookEvent.Line] = [:]
        for line in lines {
            let key = (line.externalId ?? "") + "\u{1}" + (line.sku ?? "")
            if var existing = totals[key] {
                existing.quantity += line.quantity
                totals[key] = existing
            } else {
                order.append(key)
                totals[key] = line
            }
        }
        return order.map { totals[$0]! }
    }

    /// A JSON request with the given extra headers.
    static func jsonRequest(
        _ method: String,
        _ url: String,
        headers: [String: String],
        body: JSONValue?,
        skus: [String] = []
    ) -> ChannelHTTPRequest {
        var allHeaders = headers
        allHeaders["Accept"] = "application/json"
        if body != nil { allHeaders["Content-Type"] = "application/json" }
        return ChannelHTTPRequest(method: method, url: url, headers: allHeaders, body: body?.serializedBytes ?? [], skus: skus)
    }

    /// Adds `If-None-Match` when an ETag is known.
    static func conditional(_ headers: [String: String], etag: String?) -> [String: String] {
        guard let etag, !etag.isEmpty else { return headers }
        var result = headers
        result["If-None-Match"] = etag
        return result
    }

    /// The decimal amount as a JSON number literal (exact; never through Double).
    static func decimalNumber(_ money: Money) -> JSONValue {
        .number(money.decimalString)
    }

    /// Parses a channel price given as decimal text plus currency.
    static func money(_ decimal: JSONValue?, currency: String?) -> Money? {
        guard let text = decimal?.decimalText, let currency, !currency.isEmpty else { return nil }
        return Money(decimal: text, currency: currency)
    }
}
