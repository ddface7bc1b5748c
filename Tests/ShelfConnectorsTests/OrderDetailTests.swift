import Foundation
import ShelfConnectors
import Testing

@Suite("Order detail for reference-only webhooks")
struct OrderDetailTests {
    @Test func onlyReferenceChannelsHaveOrderRequests() {
        let settings = ConnectorSettings(baseURL: "http://x", credentials: ["shopId": "77"])
        for kind in ChannelKind.allCases {
            let request = Connectors.connector(for: kind).orderDetailRequest(orderId: "1001", settings: settings)
            #expect((request != nil) == [.ebay, .etsy, .tiktok].contains(kind), "\(kind)")
        }
        #expect(EbayConnector().orderDetailRequest(orderId: "12-345", settings: settings)?.url == "http://x/sell/fulfillment/v1/order/12-345")
        #expect(EtsyConnector().orderDetailRequest(orderId: "1001", settings: settings)?.url == "http://x/v3/application/shops/77/receipts/1001")
    }

    @Test func ebayOrder() throws {
        let order = try EbayConnector().parseOrderDetail(
            status: 200,
            headers: [:],
            body: Array(
                """
                {"orderId":"12-345","creationDate":"2026-11-23T06:00:00.000Z","cancelStatus":{"cancelState":"NONE_REQUESTED"},
                 "lineItems":[{"lineItemId":"1","legacyItemId":"110","sku":"E1","quantity":2}]}
                """.utf8
            )
        )
        #expect(
            order
                == ChannelOrder(
                    orderId: "12-345",
                    cancelled: false,
                    lines: [.init(sku: "E1", externalId: "E1", quantity: 2)],
                    occurredAt: Date(timeIntervalSince1970: 1_795_413_600)
                )
        )
    }

    @Test func etsyReceipt() throws {
        let order = try EtsyConnector().parseOrderDetail(
            status: 200,
            headers: [:],
            body: Array(
                """
                {"receipt_id":9988776655,"status":"Canceled","create_timestamp":1700000000,
                 "transactions":[{"transaction_id":1,"listing_id":1234567890,"sku":"MUG","quantity":3}]}
                """.utf8
            )
        )
        #expect(order.orderId == "9988776655")
        #expect(order.cancelled)
        #expect(order.lines == [.init(sku: "MUG", externalId: "1234567890", quantity: 3)])
    }

    @Test func tiktokMergesOneLinePerUnit() throws {
        let order = try TikTokShopConnector().parseOrderDetail(
            status: 200,
            headers: [:],
            body: Array(
                """
                {"code":0,"data":{"orders":[{"id":"5761","status":"AWAITING_SHIPMENT","create_time":1700000000,"line_items":[
                  {"id":"a","product_id":"1729","sku_id":"17291","seller_sku":"T1"},
                  {"id":"b","product_id":"1729","sku_id":"17291","seller_sku":"T1"},
                  {"id":"c","product_id":"1730","sku_id":"17301","seller_sku":"T9"}]}]}}
                """.utf8
            )
        )
        #expect(order.lines == [.init(sku: "T1", externalId: "1729", quantity: 2), .init(sku: "T9", externalId: "1730", quantity: 1)])
        #expect(!order.cancelled)
    }

    @Test func otherChannelsRefuse() {
        #expect(throws: ConnectorError.self) { try ShopifyConnector().parseOrderDetail(status: 200, headers: [:], body: Array("{}".utf8)) }
    }
}
