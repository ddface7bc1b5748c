import Foundation
import ShelfConnectors
import ShelfSimulator
import Testing
import ShelfCore

@Suite("Storefront sales, stats, reset, fixtures")
struct SimulatorSaleTests {
    @Test func sellRefusesBeyondTheDisplayedQuantity() async throws {
        let inbox = WebhookInbox()
        try await withWebhookReceiver(inbox: inbox) { receiver in
            try await withSimulator { sim in
                try await sim.addConnection("w", kind: .walmart, webhookURL: "\(receiver)/w")
                try await sim.seed("w", externalId: "SKU-0001", sku: "SKU-0001", quantity: 3)
                let sold = try await sim.control("POST", "/_sim/connections/w/sell", #"{"externalId":"SKU-0001","quantity":2,"orderId":"PO-1"}"#)
                #expect(sold.status == 200)
                let sale = try sold.json()
                #expect(sale["remaining"]?.intValue == 1)
                #expect(sale["orderId"]?.stringValue == "PO-1")
                #expect(sale["deliveries"]?.arrayValue?.first?["status"]?.intValue == 200)

                let refused = try await sim.control("POST", "/_sim/connections/w/sell", #"{"externalId":"SKU-0001","quantity":2,"orderId":"PO-2"}"#)
                #expect(refused.status == 409)
                #expect(try refused.json()["available"]?.intValue == 1)
                #expect(try refused.json()["error"]?.stringValue == "insufficient_quantity")
                #expect(try await sim.item("w", "SKU-0001")["quantity"]?.intValue == 1, "a refused sale changes nothing")

                #expect(
                    try await sim.control("POST", "/_sim/connections/w/sell", #"{"externalId":"SKU-0001","quantity":1,"orderId":"PO-3"}"#).status
                        == 200
                )
                #expect(try await sim.control("POST", "/_sim/connections/w/sell", #"{"externalId":"SKU-0001","quantity":1}"#).status == 409)
                #expect(try await sim.control("POST", "/_sim/connections/w/sell", #"{"externalId":"NOPE","quantity":1}"#).status == 404)

                let stats = try await sim.control("GET", "/_sim/stats").json()["connections"]?["w"]
                #expect(stats?["sold"]?.intValue == 2)
                #expect(stats?["soldUnits"]?.intValue == 3)
                #expect(stats?["refused"]?.intValue == 2)
                #expect(stats?["refusedUnits"]?.intValue == 3)
            }
        }
        let received = await inbox.received
        #expect(received.count == 2, "one order webhook per successful sale")
        let connector = WalmartConnector()
        let event = try #require(try connector.parseWebhook(headers: received[0].headers, body: received[0].body).first)
        #expect(connector.verifyWebhook(headers: received[0].headers, body: received[0].body, secret: "secret-w"))
        #expect(event.kind == .orderPlaced)
        #expect(event.orderId == "PO-1")
        #expect(event.lines == [ChannelWebhookEvent.Line(sku: "SKU-0001", externalId: "SKU-0001", quantity: 2)])
    }

    @Test func resetRestoresTheFixtures() async throws {
        let fixtures = FixtureSet(
            connections: [SimConnection(id: "g", kind: .generic, webhookSecret: "s")],
            items: [FixtureSet.ItemSeed(connection: "g", externalId: "A", sku: "A", quantity: 4)]
        )
        try await withSimulator(fixtures: fixtures) { sim in
            try await sim.seed("g", externalId: "A", sku: "A", quantity: 1)
            try await sim.addConnection("extra", kind: .ebay)
            try await sim.control("POST", "/_sim/faults", #"{"connection":"g","mode":"reset"}"#)
            #expect(try await sim.control("POST", "/_sim/reset").status == 204)
            #expect(try await sim.item("g", "A")["quantity"]?.intValue == 4)
            let connections = try await sim.control("GET", "/_sim/connections").json()["connections"]?.arrayValue ?? []
            #expect(connections.compactMap { $0["id"]?.stringValue } == ["g"])
            #expect(try await sim.control("GET", "/_sim/faults").json()["faults"]?.arrayValue?.isEmpty == true)
            let poll = GenericConnector().pollRequest(settings: KindSetup.settings(.generic, base: sim.base("g")), cursor: nil, etag: nil)
            #expect(try await sim.send(poll).status == 200)
        }
    }

    @Test func controlAPIAnswersWithSortedJSONAndClearErrors() async throws {
        try await withSimulator { sim in
            let created = try await sim.control(
                "PUT",
                "/_sim/connections/x",
                #"{"kind":"shopify","webhookSecret":"s","webhookURL":"http://127.0.0.1:1/h"}"#
            )
            #expect(created.status == 200)
            #expect(created.text == #"{"id":"x","kind":"shopify","webhookSecret":"s","webhookURL":"http://127.0.0.1:1/h"}"#)
            #expect(try await sim.control("PUT", "/_sim/connections/y", #"{"kind":"myspace","webhookSecret":"s"}"#).status == 400)
            #expect(try await sim.control("PUT", "/_sim/connections/nope/items/1", #"{"sku":"A","quantity":1}"#).status == 404)
            #expect(try await sim.control("GET", "/_sim/connections/x/items/404").status == 404)
            #expect(try await sim.control("GET", "/c/nope/inventory").status == 404)
            #expect(try await sim.control("GET", "/c/x/not/an/endpoint").status == 404)
            try await sim.seed("x", externalId: "1", sku: "A", quantity: 1)
            let items = try await sim.control("GET", "/_sim/connections/x/items").json()["items"]?.arrayValue ?? []
            #expect(items.count == 1)
        }
    }

    @Test func demoFixturesLoad() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("fixtures/channels").path
        let fixtures = try FixtureSet.load(directory: directory)
        let expected: [String: ChannelKind] = [
            "amazon-us": .amazon, "ebay-us": .ebay, "shopify-main": .shopify, "walmart-us": .walmart, "etsy-shop": .etsy, "tiktok-shop": .tiktok,
        ]
        #expect(Dictionary(uniqueKeysWithValues: fixtures.connections.map { ($0.id, $0.kind) }) == expected)
        for connection in fixtures.connections {
            #expect(connection.webhookURL == "http://127.0.0.1:8080/v1/webhooks/\(connection.id)")
            #expect(connection.webhookSecret == "demo-secret-\(connection.id)")
        }
        #expect(!fixtures.items.isEmpty)
        #expect(throws: (any Error).self) { try FixtureSet.load(directory: directory + "/does-not-exist") }
    }
}
