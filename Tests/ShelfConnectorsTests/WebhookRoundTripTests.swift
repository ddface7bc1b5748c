import Foundation
import ShelfConnectors
import Testing

@Suite("Webhook sign → verify → parse for every kind")
struct WebhookRoundTripTests {
    static let now = Date(timeIntervalSince1970: 1_795_000_000)
    static let target = "/v1/webhooks/conn-1?x=1"

    /// Topics each channel really has a webhook for.
    static func supported(_ kind: ChannelKind) -> [WebhookTopic] {
        switch kind {
        case .shopify, .amazon, .woocommerce, .generic, .walmart: return [.order, .cancel, .inventory]
        case .tiktok: return [.order, .cancel]
        case .ebay, .etsy: return [.order]
        }
    }

    static func draft(_ kind: ChannelKind, _ topic: WebhookTopic) -> WebhookDraft {
        let externalId = [.shopify, .etsy, .woocommerce, .tiktok].contains(kind) ? "7001" : "TEE-RED-M"
        let quantity = topic == .inventory ? (kind == .walmart ? 0 : 7) : 2
        return WebhookDraft(
            topic: topic,
            eventId: "evt-\(kind.rawValue)-\(topic.rawValue)",
            orderId: topic == .inventory ? nil : "1001",
            lines: [ChannelWebhookEvent.Line(sku: "TEE-RED-M", externalId: externalId, quantity: quantity)],
            occurredAt: now,
            accountId: "4242",
            channelLocationId: "555"
        )
    }

    static func lowercased(_ headers: [String: String], target: String = WebhookRoundTripTests.target) -> [String: String] {
        var result = Dictionary(uniqueKeysWithValues: headers.map { ($0.key.lowercased(), $0.value) })
        result[":method"] = "POST"
        result[":path"] = target
        return result
    }

    @Test(arguments: ChannelKind.allCases)
    func signedDeliveriesVerifyAndTamperingFails(kind: ChannelKind) throws {
        let connector = Connectors.connector(for: kind)
        let secret = "demo-secret-\(kind.rawValue)"
        for topic in Self.supported(kind) {
            let draft = Self.draft(kind, topic)
            let body = try connector.webhookBody(draft)
            let headers = Self.lowercased(
                connector.signWebhook(body: body, secret: secret, eventId: draft.eventId, topic: topic, now: Self.now, requestTarget: Self.target)
            )
            #expect(connector.verifyWebhook(headers: headers, body: body, secret: secret), "\(kind) \(topic) must verify")
            var tampered = body
            tampered[tampered.count / 2] ^= 0x01
            #expect(!connector.verifyWebhook(headers: headers, body: tampered, secret: secret), "\(kind) \(topic): tampered body")
            #expect(!connector.verifyWebhook(headers: headers, body: body + [0x20], secret: secret), "\(kind) \(topic): trailing space")
            #expect(!connector.verifyWebhook(headers: headers, body: body, secret: secret + "x"), "\(kind) \(topic): wrong secret")
            #expect(!connector.verifyWebhook(headers: [:], body: body, secret: secret), "\(kind) \(topic): no headers")
        }
    }

    @Test(arguments: ChannelKind.allCases)
    func parsedEventsMatchTheDraft(kind: ChannelKind) throws {
        let connector = Connectors.connector(for: kind)
        for topic in Self.supported(kind) {
            let draft = Self.draft(kind, topic)
            let body = try connector.webhookBody(draft)
            let headers = Self.lowercased(connector.signWebhook(body: body, secret: "s", eventId: draft.eventId, topic: topic, now: Self.now))
            let events = try connector.parseWebhook(headers: headers, body: body)
            let event = try #require(events.first, "\(kind) \(topic) parsed to nothing")
            #expect(events.count == 1)
            #expect(event.eventId == draft.eventId)
            let expectedKind: ChannelWebhookEvent.Kind = topic == .order ? .orderPlaced : topic == .cancel ? .orderCancelled : .inventoryLevel
            #expect(event.kind == expectedKind, "\(kind) \(topic)")
            if topic != .inventory { #expect(event.orderId == "1001", "\(kind) \(topic)") }
            if event.needsOrderDetail {
                #expect(event.lines.isEmpty)
                #expect([.ebay, .etsy, .tiktok].contains(kind))
            } else {
                let line = try #require(event.lines.first)
                #expect(line.quantity == draft.lines[0].quantity, "\(kind) \(topic)")
                #expect(line.sku == "TEE-RED-M" || line.externalId == "7001", "\(kind) \(topic) identifies the item")
            }
            if let occurredAt = event.occurredAt { #expect(abs(occurredAt.timeIntervalSince(Self.now)) < 1, "\(kind) \(topic)") }
        }
    }

    @Test(arguments: ChannelKind.allCases)
    func unsupportedTopicsAreRefused(kind: ChannelKind) {
        let connector = Connectors.connector(for: kind)
        for topic in WebhookTopic.allCases where !Self.supported(kind).contains(topic) {
            #expect(throws: ConnectorError.unsupportedTopic(kind, topic)) { try connector.webhookBody(Self.draft(kind, topic)) }
        }
    }

    @Test func walmartSignsTheRequestLine() throws {
        let connector = WalmartConnector()
        let draft = Self.draft(.walmart, .order)
        let body = try connector.webhookBody(draft)
        let signed = connector.signWebhook(body: body, secret: "s", eventId: draft.eventId, topic: .order, now: Self.now, requestTarget: "/a")
        #expect(connector.verifyWebhook(headers: Self.lowercased(signed, target: "/a"), body: body, secret: "s"))
        #expect(!connector.verifyWebhook(headers: Self.lowercased(signed, target: "/b"), body: body, secret: "s"))
        #expect(signed["WM_SEC.TIMESTAMP"] == "1795000000")
    }

    @Test func genericSignatureIsHexWithPrefix() {
        let headers = GenericConnector().signWebhook(body: Array("{}".utf8), secret: "k", eventId: "e1", topic: .order, now: Self.now)
        // python3: hmac.new(b"k", b"{}", hashlib.sha256).hexdigest()
        #expect(headers["X-Shelf-Signature"] == "sha256=add853b103fbcc936a194f9eb15e29c4ff08af6e47d5d1bca4f20218e31e4fff")
        #expect(headers["X-Shelf-Event-Id"] == "e1")
    }

    @Test func tiktokWebhookKeyIncludesAppKey() throws {
        let connector = TikTokShopConnector()
        let body = Array(#"{"type":1}"#.utf8)
        let signed = connector.signWebhook(body: body, secret: "appkey123:appsecret456", eventId: "n", topic: .order, now: Self.now)
        let expected = WebhookCrypto.hex(WebhookCrypto.hmacSHA256(secret: "appsecret456", message: Array("appkey123".utf8) + body))
        #expect(signed["Authorization"] == expected)
        #expect(!connector.verifyWebhook(headers: Self.lowercased(signed), body: body, secret: "appsecret456"))
    }

    @Test func etsyAcceptsWhsecSecretsAndRotatedSignatures() throws {
        let connector = EtsyConnector()
        let secret = "whsec_" + WebhookCrypto.base64(Array("0123456789abcdef0123456789abcdef".utf8))
        let body = try connector.webhookBody(Self.draft(.etsy, .order))
        var headers = Self.lowercased(connector.signWebhook(body: body, secret: secret, eventId: "msg_1", topic: .order, now: Self.now))
        #expect(connector.verifyWebhook(headers: headers, body: body, secret: secret))
        headers["webhook-signature"] = "v1,AAAA " + headers["webhook-signature"]!
        #expect(connector.verifyWebhook(headers: headers, body: body, secret: secret))
        headers["webhook-id"] = "msg_2"
        #expect(!connector.verifyWebhook(headers: headers, body: body, secret: secret))
    }
}
