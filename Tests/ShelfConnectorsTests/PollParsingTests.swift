import Foundation
import ShelfConnectors
import Testing
import ShelfCore

@Suite("Poll requests and page parsing with pagination")
struct PollParsingTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func shopifyFollowsEndCursorAndKeepsBigIds() throws {
        let connector = ShopifyConnector()
        let settings = ConnectorSettings(baseURL: "http://sim/c/s", channelLocationId: "24826418")
        let first = connector.pollRequest(settings: settings, cursor: nil, etag: nil)
        #expect(first.method == "POST")
        #expect(try first.jsonBody()["variables"] == JSONValue.parse(#"{"first":100,"after":null,"locationId":"gid://shopify/Location/24826418"}"#))
        let page = try connector.parsePollResponse(
            status: 200,
            headers: [:],
            body: Self.bytes(
                """
                {"data":{"shop":{"currencyCode":"JPY"},"inventoryItems":{"pageInfo":{"hasNextPage":true,"endCursor":"eyJsYXN0X2lkIjoyfQ=="},
                "nodes":[{"id":"gid://shopify/InventoryItem/271878346596884015","sku":"TEE","updatedAt":"2026-01-09T17:00:00Z",
                  "variant":{"id":"gid://shopify/ProductVariant/1","price":"1500"},
                  "inventoryLevel":{"quantities":[{"name":"available","quantity":10}]}},
                 {"id":"gid://shopify/InventoryItem/2","sku":"","updatedAt":null,"variant":null,"inventoryLevel":null}]}},
                "extensions":{"cost":{"throttleStatus":{"maximumAvailable":2000.0,"currentlyAvailable":1990,"restoreRate":100.0}}}}
                """
            )
        )
        #expect(
            page.levels == [
                ChannelStockLevel(
                    sku: "TEE",
                    externalId: "271878346596884015",
                    quantity: 10,
                    price: Money(amount: 1500, currency: "JPY"),
                    updatedAt: Date(timeIntervalSince1970: 1_767_978_000)
                )
            ]
        )
        #expect(page.nextCursor == "eyJsYXN0X2lkIjoyfQ==")
        let second = connector.pollRequest(settings: settings, cursor: page.nextCursor, etag: nil)
        #expect(try second.jsonBody()["variables"]?["after"] == .string("eyJsYXN0X2lkIjoyfQ=="))
        let last = try connector.parsePollResponse(
            status: 200,
            headers: [:],
            body: Self.bytes(
                #"{"data":{"shop":{"currencyCode":"USD"},"inventoryItems":{"pageInfo":{"hasNextPage":false,"endCursor":"x"},"nodes":[]}}}"#
            )
        )
        #expect(last.nextCursor == nil)
        #expect(throws: ConnectorError.rateLimited(retryAfterSeconds: nil)) {
            try connector.parsePollResponse(
                status: 200,
                headers: [:],
                body: Self.bytes(#"{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED"}}]}"#)
            )
        }
    }

    @Test func amazonFollowsNextTokenAndSendsIfNoneMatch() throws {
        let connector = AmazonConnector()
        let settings = ConnectorSettings(baseURL: "http://sim/c/a")
        let request = connector.pollRequest(settings: settings, cursor: "tok+1", etag: "\"v1\"")
        #expect(
            request.url
                == "http://sim/c/a/fba/inventory/v1/summaries?details=true&granularityType=Marketplace&granularityId=ATVPDKIKX0DER"
                + "&marketplaceIds=ATVPDKIKX0DER&nextToken=tok%2B1"
        )
        #expect(request.headers["If-None-Match"] == "\"v1\"")
        let page = try connector.parsePollResponse(
            status: 200,
            headers: ["etag": "\"v2\""],
            body: Self.bytes(
                """
                {"payload":{"granularity":{"granularityType":"Marketplace","granularityId":"ATVPDKIKX0DER"},
                "inventorySummaries":[{"asin":"B0","fnSku":"X0","sellerSku":"TEE-RED-M","condition":"NewItem",
                "inventoryDetails":{"fulfillableQuantity":41},"lastUpdatedTime":"2026-11-23T06:00:00Z","totalQuantity":50}]},
                "pagination":{"nextToken":"page-2"}}
                """
            )
        )
        #expect(page.levels.first?.quantity == 41)
        #expect(page.levels.first?.externalId == "TEE-RED-M")
        #expect(page.nextCursor == "page-2")
        #expect(page.etag == "\"v2\"")
        let notModified = try connector.parsePollResponse(status: 304, headers: ["etag": "\"v1\""], body: [])
        #expect(notModified.notModified)
        #expect(notModified.levels.isEmpty)
        #expect(notModified.etag == "\"v1\"")
        #expect(throws: ConnectorError.rateLimited(retryAfterSeconds: 2)) {
            try connector.parsePollResponse(status: 429, headers: ["Retry-After": "2"], body: [])
        }
    }

    @Test func ebayReadsOffsetFromNext() throws {
        let connector = EbayConnector()
        #expect(
            connector.pollRequest(settings: ConnectorSettings(baseURL: "http://e"), cursor: nil, etag: nil).url
                == "http://e/sell/inventory/v1/inventory_item?limit=100&offset=0"
        )
        let page = try connector.parsePollResponse(
            status: 200,
            headers: [:],
            body: Self.bytes(
                """
                {"href":"http://e/sell/inventory/v1/inventory_item?limit=2&offset=0","limit":2,"size":2,"total":3,
                 "next":"http://e/sell/inventory/v1/inventory_item?limit=2&offset=2",
                 "inventoryItems":[{"sku":"A","availability":{"shipToLocationAvailability":{"quantity":3}}},{"sku":"B","availability":{}}]}
                """
            )
        )
        #expect(page.levels.map(\.quantity) == [3, 0])
        #expect(page.nextCursor == "2")
        let last = try connector.parsePollResponse(
            status: 200,
            headers: [:],
            body: Self.bytes(#"{"total":3,"size":1,"inventoryItems":[{"sku":"C"}]}"#)
        )
        #expect(last.nextCursor == nil)
    }

    @Test func walmartSumsNodesAndFollowsNextCursor() throws {
        let connector = WalmartConnector()
        #expect(
            connector.pollRequest(settings: ConnectorSettings(baseURL: "http://w"), cursor: "c2", etag: nil).url
                == "http://w/v3/inventories?limit=50&nextCursor=c2"
        )
        let page = try connector.parsePollResponse(
            status: 200,
            headers: [:],
            body: Self.bytes(
                """
                {"meta":{"totalCount":2,"nextCursor":"c3"},"elements":{"inventories":[{"sku":"W1","nodes":[
                  {"shipNode":"1","inputQty":{"unit":"EACH","amount":5},"availToSellQty":{"unit":"EACH","amount":4}},
                  {"shipNode":"2","inputQty":{"unit":"EACH","amount":2},"availToSellQty":{"unit":"EACH","amount":2}}]}]}}
                """
            )
        )
        #expect(page.levels == [ChannelStockLevel(sku: "W1", externalId: "W1", quantity: 6)])
        #expect(page.nextCursor == "c3")
    }

    @Test func etsyComputesTheNextOffsetFromTheRequest() throws {
        let connector = EtsyConnector()
        let settings = ConnectorSettings(baseURL: "http://t", credentials: ["shopId": "77"])
        let request = connector.pollRequest(settings: settings, cursor: "100", etag: nil)
        #expect(request.url == "http://t/v3/application/shops/77/listings?state=active&limit=100&offset=100")
        let body = Self.bytes(
            """
            {"count":201,"results":[{"listing_id":1234567890123,"quantity":4,"skus":["MUG"],
             "price":{"amount":1250,"divisor":100,"currency_code":"EUR"},"updated_timestamp":1767978000}]}
            """
        )
        let page = try connector.parsePollResponse(status: 200, headers: [:], body: body, request: request)
        #expect(
            page.levels == [
                ChannelStockLevel(
                    sku: "MUG",
                    externalId: "1234567890123",
                    quantity: 4,
                    price: Money(amount: 1250, currency: "EUR"),
                    updatedAt: Date(timeIntervalSince1970: 1_767_978_000)
                )
            ]
        )
        #expect(page.nextCursor == "101")
        let lastRequest = connector.pollRequest(settings: settings, cursor: "200", etag: nil)
        #expect(try connector.parsePollResponse(status: 200, headers: [:], body: body, request: lastRequest).nextCursor == nil)
        #expect(throws: ConnectorError.self) { try connector.parsePollResponse(status: 200, headers: [:], body: body) }
    }

    @Test func tiktokFollowsPageTokenPerSku() throws {
        let connector = TikTokShopConnector(now: { Date(timeIntervalSince1970: 1_700_000_000) })
        let settings = ConnectorSettings(baseURL: "http://k", credentials: ["appKey": "ak", "appSecret": "as"])
        let request = connector.pollRequest(settings: settings, cursor: "tok2", etag: nil)
        #expect(request.method == "POST")
        #expect(URLQuery.items(of: request.url)["page_token"] == "tok2")
        #expect(URLQuery.items(of: request.url)["page_size"] == "100")
        let page = try connector.parsePollResponse(
            status: 200,
            headers: [:],
            body: Self.bytes(
                """
                {"code":0,"message":"Success","request_id":"r","data":{"total_count":3,"next_page_token":"tok3","products":[
                  {"id":"1729","update_time":1700000000,"skus":[
                    {"id":"17291","seller_sku":"T1","price":{"currency":"USD","sale_price":"19.99","tax_exclusive_price":"19.99"},
                     "inventory":[{"warehouse_id":"WH1","quantity":4},{"warehouse_id":"WH2","quantity":1}]},
                    {"id":"17292","seller_sku":"T2","inventory":[{"warehouse_id":"WH1","quantity":0}]}]}]}}
                """
            )
        )
        #expect(page.levels.map(\.quantity) == [5, 0])
        #expect(page.levels.map(\.sku) == ["T1", "T2"])
        #expect(page.levels.first?.price == Money(amount: 1999, currency: "USD"))
        #expect(page.nextCursor == "tok3")
        let last = try connector.parsePollResponse(
            status: 200,
            headers: [:],
            body: Self.bytes(#"{"code":0,"data":{"next_page_token":"","products":[]}}"#)
        )
        #expect(last.nextCursor == nil)
    }

    @Test func wooFollowsTheLinkHeader() throws {
        let connector = WooCommerceConnector(storeCurrency: "USD")
        let headers = [
            "Link":
                #"<http://w/wp-json/wc/v3/products?per_page=100&page=1>; rel="prev", "#
                + #"<http://w/wp-json/wc/v3/products?per_page=100&page=3>; rel="next""#,
            "X-WP-Total": "250", "X-WP-TotalPages": "3",
        ]
        let page = try connector.parsePollResponse(
            status: 200,
            headers: headers,
            body: Self.bytes(
                """
                [{"id":799,"sku":"P","price":"19.99","stock_quantity":10,"manage_stock":true,"date_modified_gmt":"2026-01-09T17:00:00"},
                 {"id":800,"sku":"U","price":"5","stock_quantity":null,"manage_stock":false}]
                """
            )
        )
        #expect(
            page.levels == [
                ChannelStockLevel(
                    sku: "P",
                    externalId: "799",
                    quantity: 10,
                    price: Money(amount: 1999, currency: "USD"),
                    updatedAt: Date(timeIntervalSince1970: 1_767_978_000)
                )
            ]
        )
        #expect(page.nextCursor == "3")
        #expect(try connector.parsePollResponse(status: 200, headers: [:], body: Self.bytes("[]")).nextCursor == nil)
    }

    @Test func genericRoundTripsCursorAndMoney() throws {
        let connector = GenericConnector()
        #expect(
            connector.pollRequest(settings: ConnectorSettings(baseURL: "http://g"), cursor: "abc", etag: "W/\"1\"").headers["If-None-Match"]
                == "W/\"1\""
        )
        let page = try connector.parsePollResponse(
            status: 200,
            headers: ["ETag": "\"e\""],
            body: Self.bytes(
                """
                {"items":[{"externalId":"g-1","sku":"G","quantity":2,"price":{"amount":1999,"currency":"USD"},
                           "updatedAt":"2026-11-23T06:00:00.120Z"}],"nextCursor":"n2"}
                """
            )
        )
        #expect(page.levels.first?.price == Money(amount: 1999, currency: "USD"))
        #expect(abs((page.levels.first?.updatedAt?.timeIntervalSince1970 ?? 0) - 1_795_413_600.12) < 0.0005)
        #expect(page.nextCursor == "n2")
        #expect(page.etag == "\"e\"")
        #expect(throws: ConnectorError.unexpectedStatus(500, "boom")) {
            try connector.parsePollResponse(status: 500, headers: [:], body: Self.bytes("boom"))
        }
    }
}
