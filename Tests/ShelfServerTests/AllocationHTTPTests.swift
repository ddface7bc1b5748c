import Foundation
import HTTPTypes
import HummingbirdTesting
import ShelfServer
import Testing

/// The reported oversell, end to end over live HTTP: a channel order larger than any one location is allocated across
/// locations, every channel is shown 0, the audit trail shows the allocation, and its cancellation restores each location.
@Suite("Allocation over live HTTP")
struct AllocationHTTPTests {
    static func post(_ client: any TestClientProtocol, _ server: TestServer, _ json: String, key: String) async throws -> TestResponse {
        try await client.send(.post, "/v1/events", token: server.ingest, json: json, headers: ["Idempotency-Key": key])
    }

    @Test("TEE-RED-M (60 available at Reno, 163 at ShipBob) ordered 228 on Amazon: 5 oversold, 0 everywhere, then restored")
    func channelOrderAcrossLocations() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let before = try await client.send(.get, "/v1/stock/TEE-RED-M", token: server.read).object()
            let locationsBefore = try #require(before["locations"] as? [[String: Any]])
            #expect(locationsBefore.compactMap { $0["available"] as? Int }.sorted() == [60, 163])

            let order = #"{"type":"order.confirmed","sku":"TEE-RED-M","qty":228,"channel":"amazon","orderId":"amz-228"}"#
            let accepted = try await Self.post(client, server, order, key: "amz-228")
            #expect(accepted.status == .accepted)
            #expect(try accepted.object()["oversold"] as? Int == 5)
            #expect(try await Self.post(client, server, order, key: "amz-228").object()["status"] as? String == "duplicate")

            let after = try await client.send(.get, "/v1/stock/TEE-RED-M", token: server.read).object()
            #expect(value(after, "total.available") as? Int == 0)
            #expect(value(after, "total.oversold") as? Int == 5)
            let locations = try #require(after["locations"] as? [[String: Any]])
            #expect(locations.allSatisfy { $0["available"] as? Int == 0 })
            #expect(locations.compactMap { $0["oversold"] as? Int }.reduce(0, +) == 5)
            let channels = try #require(after["channels"] as? [[String: Any]])
            #expect(!channels.isEmpty)
            #expect(channels.allSatisfy { $0["publishedQuantity"] as? Int == 0 })

            let audit = try await client.send(.get, "/v1/audit?sku=TEE-RED-M", token: server.admin).object()
            let events = (audit["events"] as? [[String: Any]] ?? []).compactMap { $0["event"] as? [String: Any] }
            let confirmed = try #require(events.last { $0["type"] as? String == "order.confirmed" })
            let allocation = try #require(confirmed["allocation"] as? [[String: Any]])
            #expect(allocation.compactMap { $0["location"] as? String } == ["shipbob", "reno"])
            #expect(allocation.compactMap { $0["qty"] as? Int } == [168, 60])

            let cancel = #"{"type":"order.cancelled","sku":"TEE-RED-M","qty":228,"channel":"amazon","orderId":"amz-228"}"#
            #expect(try await Self.post(client, server, cancel, key: "amz-228-cancel").status == .accepted)
            let restored = try await client.send(.get, "/v1/stock/TEE-RED-M", token: server.read).object()
            let locationsRestored = try #require(restored["locations"] as? [[String: Any]])
            #expect(locationsRestored.compactMap { $0["available"] as? Int }.sorted() == [60, 163])
            #expect(value(restored, "total.oversold") as? Int == 0)
        }
    }

    @Test("a hold over live HTTP larger than any one location is split and shows its allocation")
    func splitHoldOverHTTP() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let created = try await client.send(.post, "/v1/reservations", token: server.read,
                                                json: #"{"sku":"TEE-RED-M","qty":200,"ttlSeconds":120}"#, headers: ["Idempotency-Key": "cart-200"])
            #expect(created.status == .created)
            let allocation = try #require(try created.object()["allocation"] as? [[String: Any]])
            #expect(allocation.compactMap { $0["qty"] as? Int } == [163, 37])
            let tooMuch = try await client.send(.post, "/v1/reservations", token: server.read,
                                                json: #"{"sku":"TEE-RED-M","qty":24,"ttlSeconds":120}"#, headers: ["Idempotency-Key": "cart-24"])
            #expect(tooMuch.status == .conflict)
        }
    }
}
