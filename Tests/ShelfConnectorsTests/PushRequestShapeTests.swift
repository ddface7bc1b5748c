import Foundation
import ShelfConnectors
import Testing
import ShelfCore

@Suite("Push request shapes")
struct PushRequestShapeTests {
    static let usd = Money(amount: 1999, currency: "USD")

    static func json(_ text: String) throws -> JSONValue { try JSONValue.parse(text) }

    @Test func shopifySetsQuantitiesInOneMutationAndPricesPerProduct() throws {
        let settings = ConnectorSettings(
            baseURL: "http://sim/c/shopify-main/",
            credentials: ["accessToken": "shpat_1"],
            channelLocationId: "24826418"
        )
        let updates = [
            ListingUpdate(
                sku: "A",
                externalId: "271878346596884015",
                quantity: 5,
                price: Self.usd,
                references: ["variantId": "11", "productId": "9"]
            ),
            ListingUpdate(sku: "B", externalId: "2", quantity: 3, listed: false, expectedChannelQuantity: 4),
        ]
        let requests = try ShopifyConnector().pushRequests(updates, settings: settings)
        #expect(requests.count == 2)
        let quantities = requests[0]
        #expect(quantities.method == "POST")
        #expect(quantities.url == "http://sim/c/shopify-main/admin/api/2025-10/graphql.json")
        #expect(quantities.headers["X-Shopify-Access-Token"] == "shpat_1")
        #expect(quantities.skus == ["A", "B"])
        let body = try quantities.jsonBody()
        #expect(body["query"]?.stringValue?.contains("inventorySetQuantities") == true)
        let input = try #require(body["variables"]?["input"])
        #expect(input["name"] == .string("available"))
        #expect(
            input["quantities"]
                == (try Self.json(
                    """
                    [{"inventoryItemId":"gid://shopify/InventoryItem/271878346596884015","locationId":"gid://shopify/Location/24826418",
                      "quantity":5,"changeFromQuantity":null},
                     {"inventoryItemId":"gid://shopify/InventoryItem/2","locationId":"gid://shopify/Location/24826418",
                      "quantity":0,"changeFromQuantity":4}]
                    """
                ))
        )
        let prices = try requests[1].jsonBody()
        #expect(prices["query"]?.stringValue?.contains("productVariantsBulkUpdate") == true)
        #expect(
            prices["variables"]
                == (try Self.json(#"{"productId":"gid://shopify/Product/9","variants":[{"id":"gid://shopify/ProductVariant/11","price":"19.99"}]}"#))
        )
    }

    @Test func shopifyRefusesWhatItCannotSend() {
        let settings = ConnectorSettings(baseURL: "http://sim", channelLocationId: "1")
        #expect(throws: ConnectorError.missingReference(field: "variantId", sku: "A")) {
            try ShopifyConnector().pushRequests([ListingUpdate(sku: "A", externalId: "1", quantity: 1, price: Self.usd)], settings: settings)
        }
        #expect(throws: ConnectorError.missingLocation) {
            try ShopifyConnector().pushRequests(
                [ListingUpdate(sku: "A", externalId: "1", quantity: 1)],
                settings: ConnectorSettings(baseURL: "http://sim")
            )
        }
    }

    @Test func shopifyBatchesAt250() throws {
        let settings = ConnectorSettings(baseURL: "http://sim", channelLocationId: "1")
        let updates = (0..<251).map { ListingUpdate(sku: "S\($0)", externalId: String($0 + 1), quantity: $0) }
        let requests = try ShopifyConnector().pushRequests(updates, settings: settings)
        #expect(requests.count == 2)
        #expect(try requests[0].jsonBody()["variables"]?["input"]?["quantities"]?.arrayValue?.count == 250)
    }

    @Test func amazonPatchesOneListingPerSku() throws {
        let settings = ConnectorSettings(baseURL: "http://sim/c/amazon-us", credentials: ["accessToken": "Atza|1", "sellerId": "A1SELLER"])
        let requests = try AmazonConnector().pushRequests(
            [ListingUpdate(sku: "TEE RED/M", externalId: "TEE RED/M", quantity: 12, price: Self.usd)],
            settings: settings
        )
        let request = try #require(requests.first)
        #expect(request.method == "PATCH")
        #expect(
            request.url == "http://sim/c/amazon-us/listings/2021-08-01/items/A1SELLER/TEE%20RED%2FM?marketplaceIds=ATVPDKIKX0DER&issueLocale=en_US"
        )
        #expect(request.headers["x-amz-access-token"] == "Atza|1")
        #expect(
            try request.jsonBody()
                == Self.json(
                    """
                    {"productType":"PRODUCT","patches":[
                      {"op":"replace","path":"/attributes/fulfillment_availability","value":[{"fulfillment_channel_code":"DEFAULT","quantity":12}]},
                      {"op":"replace","path":"/attributes/purchasable_offer","value":[{"marketplace_id":"ATVPDKIKX0DER","currency":"USD",
                        "our_price":[{"schedule":[{"value_with_tax":19.99}]}]}]}]}
                    """
                )
        )
        // The price literal is exact text, not a binary float.
        #expect(String(decoding: request.body, as: UTF8.self).contains(#""value_with_tax":19.99"#))
        #expect(throws: ConnectorError.missingCredential("sellerId")) {
            try AmazonConnector().pushRequests(
                [ListingUpdate(sku: "A", externalId: "A", quantity: 1)],
                settings: ConnectorSettings(baseURL: "http://sim")
            )
        }
    }

    @Test func ebayBulkUpdatesAt25PerCall() throws {
        let settings = ConnectorSettings(baseURL: "http://sim/c/ebay-us", credentials: ["accessToken": "v^1.1"])
        var updates = (0..<26).map { ListingUpdate(sku: "S\($0)", externalId: "S\($0)", quantity: 1) }
        updates[0] = ListingUpdate(sku: "S0", externalId: "S0", quantity: 4, price: Self.usd, references: ["offerId": "5001"])
        let requests = try EbayConnector().pushRequests(updates, settings: settings)
        #expect(requests.count == 2)
        #expect(requests[0].url == "http://sim/c/ebay-us/sell/inventory/v1/bulk_update_price_quantity")
        #expect(requests[0].headers["Authorization"] == "Bearer v^1.1")
        let first = try #require(try requests[0].jsonBody()["requests"]?.arrayValue?.first)
        #expect(
            first
                == (try Self.json(
                    """
                    {"sku":"S0","shipToLocationAvailability":{"quantity":4},
                     "offers":[{"offerId":"5001","availableQuantity":4,"price":{"value":"19.99","currency":"USD"}}]}
                    """
                ))
        )
        #expect(try requests[1].jsonBody()["requests"]?.arrayValue?.count == 1)
        #expect(throws: ConnectorError.missingReference(field: "offerId", sku: "P")) {
            try EbayConnector().pushRequests([ListingUpdate(sku: "P", externalId: "P", quantity: 1, price: Self.usd)], settings: settings)
        }
    }

    @Test func ebayPerItemErrorsAreRejections() {
        let body = Array(
            #"{"responses":[{"statusCode":200,"sku":"A"},{"statusCode":400,"sku":"B","errors":[{"errorId":25702,"message":"SKU B not found"}]}]}"#
                .utf8
        )
        #expect(EbayConnector().pushOutcome(status: 200, headers: [:], body: body) == .rejected(reason: "SKU B not found", skus: ["B"]))
    }

    @Test func walmartPutsInventoryAndPricePerSku() throws {
        let settings = ConnectorSettings(baseURL: "http://sim/c/walmart-us", credentials: ["accessToken": "wm-token"])
        let requests = try WalmartConnector().pushRequests(
            [ListingUpdate(sku: "W1", externalId: "W1", quantity: 8, price: Self.usd)],
            settings: settings
        )
        #expect(requests.count == 2)
        #expect(requests[0].method == "PUT")
        #expect(requests[0].url == "http://sim/c/walmart-us/v3/inventory?sku=W1")
        #expect(requests[0].headers["WM_SEC.ACCESS_TOKEN"] == "wm-token")
        #expect(requests[0].headers["WM_SVC.NAME"] == "Walmart Marketplace")
        #expect(requests[0].headers["WM_QOS.CORRELATION_ID"]?.count == 36)
        #expect(try requests[0].jsonBody() == Self.json(#"{"sku":"W1","quantity":{"unit":"EACH","amount":8}}"#))
        #expect(requests[1].url == "http://sim/c/walmart-us/v3/price")
        #expect(
            try requests[1].jsonBody()
                == Self.json(#"{"sku":"W1","pricing":[{"currentPriceType":"BASE","currentPrice":{"currency":"USD","amount":19.99}}]}"#)
        )
    }

    @Test func etsyWritesTheListingInventoryAndNeedsAPrice() throws {
        let settings = ConnectorSettings(baseURL: "http://sim/c/etsy-shop", credentials: ["apiKey": "key", "accessToken": "tok", "shopId": "77"])
        let requests = try EtsyConnector().pushRequests(
            [ListingUpdate(sku: "MUG", externalId: "1234567890", quantity: 3, price: Money(amount: 1250, currency: "EUR"))],
            settings: settings
        )
        let request = try #require(requests.first)
        #expect(request.method == "PUT")
        #expect(request.url == "http://sim/c/etsy-shop/v3/application/listings/1234567890/inventory")
        #expect(request.headers["x-api-key"] == "key")
        #expect(
            try request.jsonBody()
                == Self.json(
                    """
                    {"products":[{"sku":"MUG","property_values":[],"offerings":[{"price":12.50,"quantity":3,"is_enabled":true}]}],
                     "price_on_property":[],"quantity_on_property":[],"sku_on_property":[]}
                    """
                )
        )
        #expect(throws: ConnectorError.missingPrice(sku: "MUG")) {
            try EtsyConnector().pushRequests([ListingUpdate(sku: "MUG", externalId: "1", quantity: 3)], settings: settings)
        }
    }

    @Test func tiktokSignsEveryCall() throws {
        let clock: @Sendable () -> Date = { Date(timeIntervalSince1970: 1_700_000_000) }
        let settings = ConnectorSettings(
            baseURL: "http://sim/c/tiktok-shop",
            credentials: ["appKey": "ak", "appSecret": "as", "accessToken": "tt", "shopCipher": "ROW_x"],
            channelLocationId: "WH1"
        )
        let updates = [
            ListingUpdate(sku: "T1", externalId: "1729", quantity: 6, price: Self.usd, references: ["skuId": "17291"]),
            ListingUpdate(sku: "T2", externalId: "1729", quantity: 2, references: ["skuId": "17292"]),
        ]
        let requests = try TikTokShopConnector(now: clock).pushRequests(updates, settings: settings)
        #expect(requests.count == 2)
        let inventory = requests[0]
        #expect(
            inventory.url.hasPrefix(
                "http://sim/c/tiktok-shop/product/202309/products/1729/inventory/update?app_key=ak&timestamp=1700000000&shop_cipher=ROW_x&sign="
            )
        )
        #expect(inventory.headers["x-tts-access-token"] == "tt")
        #expect(
            try inventory.jsonBody()
                == Self.json(
                    """
                    {"skus":[{"id":"17291","inventory":[{"quantity":6,"warehouse_id":"WH1"}]},
                             {"id":"17292","inventory":[{"quantity":2,"warehouse_id":"WH1"}]}]}
                    """
                )
        )
        let query = URLQuery.items(of: inventory.url)
        let expectedSign = TikTokShopConnector.requestSignature(
            path: "/product/202309/products/1729/inventory/update",
            query: query,
            body: inventory.body,
            appSecret: "as"
        )
        #expect(query["sign"] == expectedSign)
        #expect(query["sign"]?.count == 64)
        #expect(try requests[1].jsonBody() == Self.json(#"{"skus":[{"id":"17291","price":{"amount":"19.99","currency":"USD"}}]}"#))
        #expect(throws: ConnectorError.missingReference(field: "skuId", sku: "T3")) {
            try TikTokShopConnector().pushRequests([ListingUpdate(sku: "T3", externalId: "1", quantity: 1)], settings: settings)
        }
    }

    @Test func wooBatchesProductsAndVariationsSeparately() throws {
        let settings = ConnectorSettings(baseURL: "http://sim/c/woo", credentials: ["consumerKey": "ck", "consumerSecret": "cs"])
        let updates = [
            ListingUpdate(sku: "P", externalId: "799", quantity: 10, price: Self.usd),
            ListingUpdate(sku: "V", externalId: "801", quantity: 1, references: ["parentId": "800"]),
        ]
        let requests = try WooCommerceConnector().pushRequests(updates, settings: settings)
        #expect(
            requests.map(\.url) == ["http://sim/c/woo/wp-json/wc/v3/products/batch", "http://sim/c/woo/wp-json/wc/v3/products/800/variations/batch"]
        )
        #expect(requests[0].headers["Authorization"] == "Basic Y2s6Y3M=")
        #expect(try requests[0].jsonBody() == Self.json(#"{"update":[{"id":799,"manage_stock":true,"stock_quantity":10,"regular_price":"19.99"}]}"#))
    }

    @Test func genericPostsOneBatch() throws {
        let requests = try GenericConnector().pushRequests(
            [ListingUpdate(sku: "G", externalId: "g-1", quantity: 2, price: Self.usd)],
            settings: ConnectorSettings(baseURL: "http://sim/c/pos")
        )
        #expect(requests.first?.url == "http://sim/c/pos/inventory/batch")
        #expect(
            try requests.first?.jsonBody()
                == Self.json(#"{"items":[{"externalId":"g-1","sku":"G","quantity":2,"price":{"amount":1999,"currency":"USD"},"listed":true}]}"#)
        )
    }

    @Test func statusClassification() {
        let connector = GenericConnector()
        #expect(connector.pushOutcome(status: 200, headers: [:], body: []) == .accepted)
        #expect(connector.pushOutcome(status: 429, headers: ["retry-after": "2.5"], body: []) == .rateLimited(retryAfterSeconds: 3))
        #expect(connector.pushOutcome(status: 503, headers: [:], body: []) == .retryable(reason: "HTTP 503"))
        #expect(connector.pushOutcome(status: 404, headers: [:], body: Array("nope".utf8)) == .rejected(reason: "HTTP 404: nope", skus: []))
        let throttled = Array(#"{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED"}}]}"#.utf8)
        #expect(ShopifyConnector().pushOutcome(status: 200, headers: [:], body: throttled) == .rateLimited(retryAfterSeconds: nil))
        let stale = Array(#"{"data":{"inventorySetQuantities":{"userErrors":[{"code":"CHANGE_FROM_QUANTITY_STALE","message":"stale"}]}}}"#.utf8)
        #expect(
            ShopifyConnector().pushOutcome(status: 200, headers: [:], body: stale) == .rejected(reason: "CHANGE_FROM_QUANTITY_STALE: stale", skus: [])
        )
        #expect(
            TikTokShopConnector().pushOutcome(status: 200, headers: [:], body: Array(#"{"code":12052700,"message":"bad sku"}"#.utf8))
                == .rejected(reason: "code 12052700: bad sku", skus: [])
        )
    }
}
