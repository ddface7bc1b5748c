import Foundation
import ShelfConnectors
import Testing

@Suite("Shopify known-answer vector")
struct ShopifyKnownAnswerTests {
    static let body = Array(
        (#"{"inventory_item_id":271878346596884015,"location_id":24826418,"available":10,"updated_at":"2026-01-09T12:00:00-05:00","#
            + #""admin_graphql_api_id":"gid://shopify/InventoryLevel/24826418?inventory_item_id=271878346596884015"}"#).utf8
    )
    static let expectedHMAC = "Qyuu+Slq7aD3c/ieDGTM0c4RjA8IIoAhYQLxfweT1NM="

    static func headers(hmac: String) -> [String: String] {
        [
            "x-shopify-topic": "inventory_levels/update",
            "x-shopify-hmac-sha256": hmac,
            "x-shopify-shop-domain": "example.myshopify.com",
            "x-shopify-api-version": "2026-01",
            "x-shopify-webhook-id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        ]
    }

    @Test func bodyIsExactly219Bytes() {
        #expect(Self.body.count == 219)
    }

    @Test func signatureMatchesTheVector() {
        let headers = ShopifyConnector().signWebhook(body: Self.body, secret: "hush", eventId: "x", topic: .inventory, now: Date())
        #expect(headers["X-Shopify-Hmac-Sha256"] == Self.expectedHMAC)
    }

    @Test func vectorVerifies() {
        #expect(ShopifyConnector().verifyWebhook(headers: Self.headers(hmac: Self.expectedHMAC), body: Self.body, secret: "hush"))
    }

    @Test func trailingSpaceFails() {
        let padded = Self.body + [UInt8(ascii: " ")]
        #expect(!ShopifyConnector().verifyWebhook(headers: Self.headers(hmac: Self.expectedHMAC), body: padded, secret: "hush"))
    }

    @Test func wrongSecretEmptyBodyAndMissingHeadersFail() {
        let connector = ShopifyConnector()
        #expect(!connector.verifyWebhook(headers: Self.headers(hmac: Self.expectedHMAC), body: Self.body, secret: "hush2"))
        #expect(!connector.verifyWebhook(headers: Self.headers(hmac: Self.expectedHMAC), body: [], secret: "hush"))
        for required in ["x-shopify-topic", "x-shopify-shop-domain", "x-shopify-api-version", "x-shopify-webhook-id", "x-shopify-hmac-sha256"] {
            var headers = Self.headers(hmac: Self.expectedHMAC)
            headers[required] = nil
            #expect(!connector.verifyWebhook(headers: headers, body: Self.body, secret: "hush"), "missing \(required) must fail")
        }
    }

    @Test func vectorParsesWithInt64Ids() throws {
        let events = try ShopifyConnector().parseWebhook(headers: Self.headers(hmac: Self.expectedHMAC), body: Self.body)
        let event = try #require(events.first)
        #expect(events.count == 1)
        #expect(event.kind == .inventoryLevel)
        #expect(event.eventId == "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")
        // 271878346596884015 > 2^53: a Double would have rounded it to ...4016.
        #expect(event.lines == [ChannelWebhookEvent.Line(sku: nil, externalId: "271878346596884015", quantity: 10)])
        #expect(event.channelLocationId == "24826418")
        #expect(event.occurredAt == Date(timeIntervalSince1970: 1_767_978_000))
    }
}
