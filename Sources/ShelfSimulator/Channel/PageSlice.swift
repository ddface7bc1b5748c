import ShelfConnectors

/// Pages through a stable list with the cursor styles channels use.
struct PageSlice<Element> {
    var elements: [Element]
    var offset: Int
    var nextOffset: Int?
    var total: Int

    init(_ all: [Element], offset: Int, limit: Int) {
        let start = min(max(offset, 0), all.count)
        let end = min(start + max(limit, 1), all.count)
        self.elements = Array(all[start..<end])
        self.offset = start
        self.nextOffset = end < all.count ? end : nil
        self.total = all.count
    }

    /// Opaque token for an offset (`nextToken`, `nextCursor`, `page_token`, GraphQL `after`).
    static func token(_ offset: Int) -> String {
        WebhookCrypto.base64(Array("shelf-sim:\(offset)".utf8))
    }

    /// The offset of an opaque token; nil or unreadable → 0.
    static func offset(ofToken token: String?) -> Int {
        guard let token, !token.isEmpty, let bytes = WebhookCrypto.base64Decode(token) else { return 0 }
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.hasPrefix("shelf-sim:") else { return 0 }
        return Int(text.dropFirst("shelf-sim:".count)) ?? 0
    }

    /// A limit query parameter, clamped to the channel's maximum.
    static func limit(_ text: String?, default fallback: Int, max maximum: Int) -> Int {
        min(max(Int(text ?? "") ?? fallback, 1), maximum)
    }
}
