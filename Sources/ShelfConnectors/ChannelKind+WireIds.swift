extension ChannelKind {
    /// How an order id appears on this channel's wire: Shopify, WooCommerce and Etsy ids are integers, so a
    /// non-numeric id maps to a stable positive Int64 derived from it; other channels keep the text.
    public func wireOrderId(_ orderId: String) -> String {
        switch self {
        case .shopify, .woocommerce, .etsy: return String(ConnectorSupport.numericId(orderId))
        case .amazon, .ebay, .walmart, .tiktok, .generic: return orderId
        }
    }
}
