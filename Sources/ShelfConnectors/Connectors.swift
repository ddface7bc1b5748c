/// The connector for each channel kind.
public enum Connectors {
    public static func connector(for kind: ChannelKind) -> any ChannelConnector {
        switch kind {
        case .shopify: return ShopifyConnector()
        case .amazon: return AmazonConnector()
        case .ebay: return EbayConnector()
        case .walmart: return WalmartConnector()
        case .etsy: return EtsyConnector()
        case .tiktok: return TikTokShopConnector()
        case .woocommerce: return WooCommerceConnector()
        case .generic: return GenericConnector()
        }
    }
}
