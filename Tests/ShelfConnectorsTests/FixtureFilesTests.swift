import Foundation
import ShelfConnectors
import Testing
import ShelfCore

/// The example payloads in `fixtures/channels/<kind>/` parse with the connectors (and stay in sync with them).
@Suite("fixtures/channels")
struct FixtureFilesTests {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fixtures/channels")

    /// The demo connection of each kind and the id of its `TEE-RED-M` item.
    static let demo: [ChannelKind: (connection: String, externalId: String, references: [String: String])] = [
        .amazon: ("amazon-us", "TEE-RED-M", [:]),
        .ebay: ("ebay-us", "TEE-RED-M", ["offerId": "5001"]),
        .shopify: ("shopify-main", "271878346596884015", ["variantId": "44000000000000", "productId": "8000000000"]),
        .walmart: ("walmart-us", "TEE-RED-M", [:]),
        .etsy: ("etsy-shop", "1234567890", [:]),
        .tiktok: ("tiktok-shop", "1729000000000000001", ["skuId": "1729000000000000101"]),
        .woocommerce: ("woo-store", "799", [:]),
        .generic: ("pos-generic", "TEE-RED-M", [:]),
    ]

    static func bytes(_ kind: ChannelKind, _ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: root.appendingPathComponent(kind.rawValue).appendingPathComponent(name)))
    }

    static func settings(_ kind: ChannelKind) -> ConnectorSettings {
        ConnectorSettings(
            baseURL: "http://127.0.0.1:9090/c/\(demo[kind]!.connection)",
            credentials: ["accessToken": "demo-token", "sellerId": "A1DEMOSELLER", "shopId": "31415926", "apiKey": "demo-key"],
            channelLocationId: kind == .shopify ? "24826418" : nil
        )
    }

    @Test func everyFileIsJSON() throws {
        let files = FileManager.default.enumerator(at: Self.root, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? []
        let json = files.filter { $0.pathExtension == "json" }
        #expect(json.count == 2 + 4 * ChannelKind.allCases.count)
        for file in json {
            #expect(throws: Never.self, "\(file.lastPathComponent)") { try JSONValue.parse(Array(try Data(contentsOf: file))) }
        }
    }

    @Test(arguments: ChannelKind.allCases)
    func pushBodyIsWhatTheConnectorSends(kind: ChannelKind) throws {
        let (_, externalId, references) = Self.demo[kind]!
        let update = ListingUpdate(
            sku: "TEE-RED-M",
            externalId: externalId,
            quantity: 40,
            price: Money(amount: 1999, currency: "USD"),
            references: references
        )
        let request = try #require(try Connectors.connector(for: kind).pushRequests([update], settings: Self.settings(kind)).first)
        #expect(try JSONValue.parse(Self.bytes(kind, "push.json")) == request.jsonBody())
    }

    @Test(arguments: ChannelKind.allCases)
    func pollPageParses(kind: ChannelKind) throws {
        let connector = Connectors.connector(for: kind)
        let request = connector.pollRequest(settings: Self.settings(kind), cursor: nil, etag: nil)
        let page = try connector.parsePollResponse(status: 200, headers: [:], body: try Self.bytes(kind, "poll-page.json"), request: request)
        let level = try #require(page.levels.first { $0.externalId == Self.demo[kind]!.externalId })
        #expect(level.quantity == 41)
        #expect(level.sku == "TEE-RED-M")
        #expect(page.levels.count == 3)
        #expect(page.nextCursor == nil)
    }

    @Test(arguments: ChannelKind.allCases)
    func orderWebhookVerifiesAndParses(kind: ChannelKind) throws {
        let connection = Self.demo[kind]!.connection
        let body = try Self.bytes(kind, "order-webhook.json")
        guard case .object(let fields) = try JSONValue.parse(Self.bytes(kind, "order-webhook.headers.json")) else {
            Issue.record("headers file is not an object")
            return
        }
        var headers = fields.compactMapValues(\.stringValue)
        headers[":method"] = "POST"
        headers[":path"] = "/v1/webhooks/\(connection)"
        let connector = Connectors.connector(for: kind)
        #expect(connector.verifyWebhook(headers: headers, body: body, secret: "demo-secret-\(connection)"))
        let event = try #require(try connector.parseWebhook(headers: headers, body: body).first)
        #expect(event.kind == .orderPlaced)
        #expect(event.eventId == "demo-\(kind.rawValue)-order-1")
        #expect(event.orderId == "1001")
        #expect(event.needsOrderDetail || event.lines.map(\.quantity) == [2])
    }
}
