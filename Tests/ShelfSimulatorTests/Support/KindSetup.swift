import Foundation
import ShelfConnectors
import ShelfCore

/// Per-kind ids, references and settings that make a connector and the simulator agree.
enum KindSetup {
    static func externalId(_ kind: ChannelKind, _ number: Int) -> String {
        switch kind {
        case .shopify, .etsy, .woocommerce, .tiktok: return String(1_000_000 + number)
        case .amazon, .ebay, .walmart, .generic: return "SKU-\(String(format: "%04d", number))"
        }
    }

    static func sku(_ number: Int) -> String { "SKU-\(String(format: "%04d", number))" }

    static func references(_ kind: ChannelKind, _ number: Int) -> [String: String] {
        switch kind {
        case .shopify: return ["variantId": String(9_000_000 + number), "productId": "800"]
        case .ebay: return ["offerId": String(5_000 + number)]
        case .tiktok: return ["skuId": String(2_000_000 + number)]
        default: return [:]
        }
    }

    static func settings(_ kind: ChannelKind, base: String) -> ConnectorSettings {
        ConnectorSettings(
            baseURL: base,
            credentials: [
                "accessToken": "token", "sellerId": "A1SELLER", "shopId": "31415926", "apiKey": "key",
                "appKey": "ak", "appSecret": "as", "shopCipher": "ROW_1", "consumerKey": "ck", "consumerSecret": "cs",
            ],
            webhookSecret: "",
            channelLocationId: kind == .shopify ? "24826418" : nil
        )
    }

    static func update(_ kind: ChannelKind, _ number: Int, quantity: Int, price: Int64? = nil) -> ListingUpdate {
        ListingUpdate(
            sku: sku(number),
            externalId: externalId(kind, number),
            quantity: quantity,
            price: price.map { Money(amount: $0, currency: "USD") },
            references: references(kind, number)
        )
    }
}
