import Foundation
import ShelfConnectors
import ShelfSimulator
import Testing
import ShelfCore

@Suite("Webhooks the simulator sends")
struct SimulatorWebhookTests {
    static func supported(_ kind: ChannelKind) -> [WebhookTopic] {
        switch kind {
        case .shopify, .amazon, .woocommerce, .generic, .walmart: return [.order, .cancel, .inventory]
        case .tiktok: return [.order, .cancel]
        case .ebay, .etsy: return [.order]
        }
    }

    @Test(arguments: ChannelKind.allCases)
    func deliveriesAreSignedAsTheChannelDoes(kind: ChannelKind) async throws {
        let inbox = WebhookInbox()
        try await withWebhookReceiver(inbox: inbox) { receiver in
            try await withSimulator { sim in
                try await sim.addConnection("conn-\(kind.rawValue)", kind: kind, webhookURL: "\(receiver)/conn-\(kind.rawValue)?src=sim")
                try await sim.seed("conn-\(kind.rawValue)", externalId: KindSetup.externalId(kind, 1), sku: KindSetup.sku(1), quantity: 5)
                for topic in Self.supported(kind) {
                    let quantity = topic == .inventory && kind == .walmart ? 0 : 2
                    let body = """
                        {"topic":"\(topic.rawValue)","orderId":"5001","eventId":"evt-\(topic.rawValue)",
                         "lines":[{"externalId":"\(KindSetup.externalId(kind, 1))","sku":"\(KindSetup.sku(1))","quantity":\(quantity)}]}
                        """
                    let response = try await sim.control("POST", "/_sim/connections/conn-\(kind.rawValue)/webhooks", body)
                    #expect(response.status == 200, "\(kind) \(topic): \(response.text)")
                    #expect(try response.json()["deliveries"]?.arrayValue?.first?["status"]?.intValue == 200)
                }
            }
        }
        let received = await inbox.received
        #expect(received.count == Self.supported(kind).count)
        let connector = Connectors.connector(for: kind)
        for webhook in received {
            #expect(webhook.headers[":path"] == "/v1/webhooks/conn-\(kind.rawValue)?src=sim")
            #expect(
                connector.verifyWebhook(headers: webhook.headers, body: webhook.body, secret: "secret-conn-\(kind.rawValue)"),
                "\(kind) signature"
            )
            #expect(!connector.verifyWebhook(headers: webhook.headers, body: webhook.body, secret: "wrong"), "\(kind) wrong secret")
            let events = try connector.parseWebhook(headers: webhook.headers, body: webhook.body)
            #expect(events.count == 1, "\(kind)")
            #expect(events.first?.eventId.hasPrefix("evt-") == true, "\(kind) dedupe id")
        }
        let kinds = Set(try received.flatMap { try connector.parseWebhook(headers: $0.headers, body: $0.body) }.map { "\($0.kind)" })
        #expect(kinds.count == Self.supported(kind).count, "\(kind): \(kinds)")
    }

    @Test func unsupportedTopicsAreRefused() async throws {
        try await withSimulator { sim in
            try await sim.addConnection("e", kind: .etsy, webhookURL: "http://127.0.0.1:9/none")
            let response = try await sim.control(
                "POST",
                "/_sim/connections/e/webhooks",
                #"{"topic":"inventory","lines":[{"externalId":"1","quantity":1}]}"#
            )
            #expect(response.status == 422)
            #expect(response.text.contains("no 'inventory' webhook"))
            try await sim.addConnection("n", kind: .generic)
            #expect(try await sim.control("POST", "/_sim/connections/n/webhooks", #"{"topic":"order","lines":[]}"#).status == 422, "no webhookURL")
        }
    }

    @Test func duplicatesShareTheDeliveryIdAndStatusesAreReported() async throws {
        let inbox = WebhookInbox(statuses: [500, 200, 200])
        try await withWebhookReceiver(inbox: inbox) { receiver in
            try await withSimulator { sim in
                try await sim.addConnection("shop", kind: .shopify, webhookURL: "\(receiver)/shop")
                let response = try await sim.control(
                    "POST",
                    "/_sim/connections/shop/webhooks",
                    #"{"topic":"order","orderId":"1001","duplicates":2,"lines":[{"externalId":"1000001","sku":"SKU-0001","quantity":1}]}"#
                )
                let deliveries = try response.json()["deliveries"]?.arrayValue ?? []
                #expect(deliveries.map { $0["status"]?.intValue } == [500, 200, 200])
                #expect(deliveries.map { $0["copy"]?.intValue } == [1, 2, 3])
                #expect(Set(deliveries.compactMap { $0["eventId"]?.stringValue }).count == 1)
                let stats = try await sim.control("GET", "/_sim/stats").json()["connections"]?["shop"]
                #expect(stats?["webhooksSent"]?.intValue == 2)
                #expect(stats?["webhooksFailed"]?.intValue == 1)
            }
        }
        let ids = await inbox.received.map { $0.headers["x-shopify-webhook-id"] }
        #expect(ids.count == 3)
        #expect(Set(ids).count == 1)
    }

    @Test func batchShufflesReproduciblyAcrossConnections() async throws {
        let inbox = WebhookInbox()
        try await withWebhookReceiver(inbox: inbox) { receiver in
            try await withSimulator { sim in
                try await sim.addConnection("w", kind: .woocommerce, webhookURL: "\(receiver)/w")
                try await sim.addConnection("g", kind: .generic, webhookURL: "\(receiver)/g")
                let webhooks = (1...6).map { number in
                    #"{"connection":"\#(number % 2 == 0 ? "w" : "g")","topic":"order","orderId":"\#(number)","eventId":"e\#(number)","#
                        + #""lines":[{"externalId":"7","sku":"S","quantity":1}]}"#
                }
                let body = #"{"shuffle":true,"seed":42,"webhooks":["# + webhooks.joined(separator: ",") + "]}"
                let first = try await sim.control("POST", "/_sim/webhooks:batch", body).json()["deliveries"]?.arrayValue ?? []
                let second = try await sim.control("POST", "/_sim/webhooks:batch", body).json()["deliveries"]?.arrayValue ?? []
                let order = first.compactMap { $0["eventId"]?.stringValue }
                #expect(Set(order) == Set((1...6).map { "e\($0)" }))
                #expect(order != (1...6).map { "e\($0)" }, "shuffled")
                #expect(order == second.compactMap { $0["eventId"]?.stringValue }, "same seed, same order")
                #expect(first.allSatisfy { $0["status"]?.intValue == 200 })
            }
        }
        #expect(await inbox.received.count == 12)
    }

    @Test(arguments: [ChannelKind.ebay, .etsy, .tiktok])
    func referenceWebhooksResolveThroughTheOrderEndpoint(kind: ChannelKind) async throws {
        let inbox = WebhookInbox()
        try await withWebhookReceiver(inbox: inbox) { receiver in
            try await withSimulator { sim in
                try await sim.addConnection("c", kind: kind, webhookURL: "\(receiver)/c")
                try await sim.seed("c", externalId: KindSetup.externalId(kind, 1), sku: KindSetup.sku(1), quantity: 5)
                let response = try await sim.control(
                    "POST",
                    "/_sim/connections/c/webhooks",
                    #"{"topic":"order","orderId":"777","#
                        + #""lines":[{"externalId":"\#(KindSetup.externalId(kind, 1))","sku":"\#(KindSetup.sku(1))","quantity":3}]}"#
                )
                #expect(response.status == 200)
                let webhook = try #require(await inbox.received.first)
                let connector = Connectors.connector(for: kind)
                let event = try #require(try connector.parseWebhook(headers: webhook.headers, body: webhook.body).first)
                #expect(event.needsOrderDetail)
                #expect(event.lines.isEmpty)
                let settings = KindSetup.settings(kind, base: sim.base("c"))
                let orderId = try #require(event.orderId)
                let request = try #require(connector.orderDetailRequest(orderId: orderId, settings: settings))
                let detail = try await sim.send(request)
                #expect(detail.status == 200, "\(kind): \(detail.text)")
                let order = try connector.parseOrderDetail(status: detail.status, headers: detail.headers, body: detail.body)
                #expect(order.orderId == event.orderId)
                #expect(!order.cancelled)
                #expect(order.lines.map(\.quantity) == [3])
                #expect(order.lines.first?.sku == KindSetup.sku(1))
            }
        }
    }

    @Test func inventoryWebhookChangesTheDisplayedQuantity() async throws {
        let inbox = WebhookInbox()
        try await withWebhookReceiver(inbox: inbox) { receiver in
            try await withSimulator { sim in
                try await sim.addConnection("a", kind: .amazon, webhookURL: "\(receiver)/a")
                try await sim.seed("a", externalId: "SKU-0001", sku: "SKU-0001", quantity: 5)
                try await sim.seed("a", externalId: "SKU-0002", sku: "SKU-0002", quantity: 5)
                let response = try await sim.control(
                    "POST",
                    "/_sim/connections/a/webhooks",
                    #"{"topic":"inventory","lines":[{"externalId":"SKU-0001","sku":"SKU-0001","quantity":1},"#
                        + #"{"externalId":"SKU-0002","sku":"SKU-0002","quantity":0}]}"#
                )
                #expect(try response.json()["deliveries"]?.arrayValue?.count == 2, "one notification per SKU")
                #expect(try await sim.item("a", "SKU-0001")["quantity"]?.intValue == 1)
                #expect(try await sim.item("a", "SKU-0002")["quantity"]?.intValue == 0)
            }
        }
        #expect(await inbox.received.count == 2)
    }
}
