import Dispatch
import Foundation
import ShelfConnectors
import ShelfSimulator
import Testing
import ShelfCore

@Suite("Pushes over HTTP")
struct SimulatorPushTests {
    @Test(arguments: ChannelKind.allCases)
    func pushUpdatesTheItemAndIsRecordedWithATimestamp(kind: ChannelKind) async throws {
        try await withSimulator { sim in
            try await sim.addConnection("conn", kind: kind, rate: 1000, burst: 1000)
            try await sim.seed(
                "conn",
                externalId: KindSetup.externalId(kind, 1),
                sku: KindSetup.sku(1),
                quantity: 5,
                references: KindSetup.references(kind, 1)
            )
            let connector = Connectors.connector(for: kind)
            let requests = try connector.pushRequests(
                [KindSetup.update(kind, 1, quantity: 3, price: 2499)],
                settings: KindSetup.settings(kind, base: sim.base("conn"))
            )
            let before = Date()
            let beforeNanos = DispatchTime.now().uptimeNanoseconds
            for request in requests {
                let response = try await sim.send(request)
                #expect(
                    connector.pushOutcome(status: response.status, headers: response.headers, body: response.body) == .accepted,
                    "\(kind): \(response.text)"
                )
            }
            let afterNanos = DispatchTime.now().uptimeNanoseconds
            let after = Date()

            let item = try await sim.item("conn", KindSetup.externalId(kind, 1))
            #expect(item["quantity"]?.intValue == 3, "\(kind)")
            #expect(item["price"]?["amount"]?.int64Value == 2499, "\(kind)")
            #expect(item["price"]?["currency"]?.stringValue == "USD", "\(kind)")

            let pushes = try await sim.pushes("conn")
            let quantityPush = try #require(pushes.first { $0["quantity"]?.intValue == 3 }, "\(kind): no quantity push in \(pushes)")
            #expect(quantityPush["sku"]?.stringValue == KindSetup.sku(1))
            #expect(quantityPush["externalId"]?.stringValue == KindSetup.externalId(kind, 1))
            let receivedAt = try #require(quantityPush["receivedAt"]?.stringValue.flatMap(Timestamp.parse))
            #expect(receivedAt >= before.addingTimeInterval(-0.001) && receivedAt <= after.addingTimeInterval(0.001))
            #expect(quantityPush["receivedAt"]?.stringValue?.count == 24, "RFC 3339 with milliseconds")
            let nanos = try #require(quantityPush["receivedAtNanos"]?.stringValue.flatMap(UInt64.init))
            #expect(nanos >= beforeNanos && nanos <= afterNanos, "monotonic stamp comparable with this process")
            #expect(pushes.contains { $0["price"]?["amount"]?.int64Value == 2499 }, "\(kind): price push recorded")
            #expect(Set(pushes.compactMap { $0["seq"]?.intValue }).count == pushes.count, "seq is unique")
        }
    }

    @Test func pushesFilterBySkuAndAfterAndCanBeCleared() async throws {
        try await withSimulator { sim in
            try await sim.addConnection("g", kind: .generic)
            for number in 1...3 {
                try await sim.seed("g", externalId: KindSetup.externalId(.generic, number), sku: KindSetup.sku(number), quantity: 1)
            }
            let updates = (1...3).map { KindSetup.update(.generic, $0, quantity: 10 + $0) }
            for request in try GenericConnector().pushRequests(updates, settings: KindSetup.settings(.generic, base: sim.base("g"))) {
                _ = try await sim.send(request)
            }
            let all = try await sim.control("GET", "/_sim/pushes").json()["pushes"]?.arrayValue ?? []
            #expect(all.count == 3)
            let firstSeq = try #require(all.first?["seq"]?.intValue)
            let later = try await sim.control("GET", "/_sim/pushes?after=\(firstSeq)").json()["pushes"]?.arrayValue ?? []
            #expect(later.count == 2)
            let bySku = try await sim.control("GET", "/_sim/pushes?sku=\(KindSetup.sku(2))").json()["pushes"]?.arrayValue ?? []
            #expect(bySku.map { $0["quantity"]?.intValue } == [12])
            #expect(try await sim.control("DELETE", "/_sim/pushes").status == 204)
            #expect(try await sim.pushes("g").isEmpty)
        }
    }

    @Test func unknownItemsAreRejectedTheWayTheChannelDoes() async throws {
        try await withSimulator { sim in
            try await sim.addConnection("e", kind: .ebay)
            try await sim.addConnection("a", kind: .amazon)
            try await sim.addConnection("s", kind: .shopify)
            try await sim.seed("e", externalId: "SKU-0001", sku: "SKU-0001", quantity: 1)
            let ebay = EbayConnector()
            let ebayRequest = try ebay.pushRequests(
                [KindSetup.update(.ebay, 1, quantity: 2), KindSetup.update(.ebay, 2, quantity: 2)],
                settings: KindSetup.settings(.ebay, base: sim.base("e"))
            )[0]
            let ebayResponse = try await sim.send(ebayRequest)
            #expect(
                ebay.pushOutcome(status: ebayResponse.status, headers: ebayResponse.headers, body: ebayResponse.body)
                    == .rejected(reason: "SKU not found.", skus: ["SKU-0002"])
            )
            #expect(try await sim.item("e", "SKU-0001")["quantity"]?.intValue == 2, "eBay applies the other items of a bulk call")

            let amazon = AmazonConnector()
            let amazonResponse = try await sim.send(
                try amazon.pushRequests([KindSetup.update(.amazon, 9, quantity: 1)], settings: KindSetup.settings(.amazon, base: sim.base("a")))[0]
            )
            guard case .rejected = amazon.pushOutcome(status: amazonResponse.status, headers: amazonResponse.headers, body: amazonResponse.body)
            else {
                Issue.record("Amazon INVALID must be a rejection: \(amazonResponse.text)")
                return
            }
            let shopify = ShopifyConnector()
            try await sim.seed("s", externalId: KindSetup.externalId(.shopify, 1), sku: "SKU-0001", quantity: 4)
            var stale = KindSetup.update(.shopify, 1, quantity: 9)
            stale.expectedChannelQuantity = 5
            let shopifyResponse = try await sim.send(
                try shopify.pushRequests([stale], settings: KindSetup.settings(.shopify, base: sim.base("s")))[0]
            )
            guard
                case .rejected(let reason, _) = shopify.pushOutcome(
                    status: shopifyResponse.status,
                    headers: shopifyResponse.headers,
                    body: shopifyResponse.body
                )
            else {
                Issue.record("stale changeFromQuantity must be rejected: \(shopifyResponse.text)")
                return
            }
            #expect(reason.hasPrefix("CHANGE_FROM_QUANTITY_STALE"))
            #expect(try await sim.item("s", KindSetup.externalId(.shopify, 1))["quantity"]?.intValue == 4)
            let stats = try await sim.control("GET", "/_sim/stats").json()
            #expect(stats["connections"]?["e"]?["pushesRejected"]?.intValue == 1)
        }
    }
}
