/// The kinds of sales channel Shelf can connect to.
public enum ChannelKind: String, Sendable, Codable, CaseIterable {
    case shopify, amazon, ebay, walmart, etsy, tiktok, woocommerce, generic
}
