import Foundation
import HTTPTypes
import HummingbirdTesting
import ShelfAutomation
import ShelfCore
import ShelfLedger
import ShelfServer
import Testing

@Suite("Reservations over live HTTP")
struct ReservationTests {
    static func hold(_ client: any TestClientProtocol, _ server: TestServer, sku: String, qty: Int, key: String, ttl: Int = 120) async throws -> TestResponse {
        try await client.send(.post, "/v1/reservations", token: server.read,
                              json: #"{"sku":"\#(sku)","qty":\#(qty),"ttlSeconds":\#(ttl)}"#, headers: ["Idempotency-Key": key])
    }

    static func available(_ client: any TestClientProtocol, _ server: TestServer, _ sku: String) async throws -> Int {
        try #require(value(try await client.send(.get, "/v1/offers/\(sku)", token: server.read).object(), "stock.available") as? Int)
    }

    @Test("a hold lowers available for everyone at once, the same key returns the same hold, and it expires on time")
    func holdLifecycle() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let before = try await Self.available(client, server, "TEE-RED-M")
            let created = try await Self.hold(client, server, sku: "TEE-RED-M", qty: 2, key: "cart-1", ttl: 60)
            #expect(created.status == .created)
            let id = try #require(try created.object()["id"] as? String)
            #expect(try await Self.available(client, server, "TEE-RED-M") == before - 2)
            let again = try await Self.hold(client, server, sku: "TEE-RED-M", qty: 2, key: "cart-1", ttl: 60)
            #expect(again.status == .ok)
            #expect(try again.object()["id"] as? String == id)
            #expect(try await Self.available(client, server, "TEE-RED-M") == before - 2)
            server.clock.advance(by: 61)
            #expect(try await Self.available(client, server, "TEE-RED-M") == before)
            let swept = await ReservationSweeper(ledger: server.env.ledger).sweepOnce()
            #expect(swept == 1)
            let audit = try await client.send(.get, "/v1/audit?sku=TEE-RED-M", token: server.admin).object()
            let types = (audit["events"] as? [[String: Any]] ?? []).compactMap { value($0, "event.type") as? String }
            #expect(types.suffix(2) == ["reservation.created", "reservation.expired"])
            #expect(try await client.send(.post, "/v1/reservations/\(id)/commit", token: server.read).status == .notFound)
        }
    }

    @Test("release gives the units back; commit turns the hold into committed stock")
    func releaseAndCommit() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let before = try await Self.available(client, server, "TEE-RED-M")
            let a = try #require(try await Self.hold(client, server, sku: "TEE-RED-M", qty: 1, key: "a").object()["id"] as? String)
            let b = try #require(try await Self.hold(client, server, sku: "TEE-RED-M", qty: 2, key: "b").object()["id"] as? String)
            #expect(try await client.send(.delete, "/v1/reservations/\(a)", token: server.read).status == .ok)
            #expect(try await Self.available(client, server, "TEE-RED-M") == before - 2)
            let committed = try await client.send(.post, "/v1/reservations/\(b)/commit", token: server.read)
            #expect(value(try committed.object(), "status") as? String == "committed")
            let stock = try await client.send(.get, "/v1/stock/TEE-RED-M", token: server.read).object()
            #expect(value(stock, "total.committed") as? Int == 2)
            #expect(value(stock, "total.reserved") as? Int == 0)
            #expect(try await client.send(.delete, "/v1/reservations/\(b)", token: server.read).status == .notFound)
            #expect(try await client.send(.delete, "/v1/reservations/\(a)", token: server.otherAdmin).status == .notFound)
        }
    }

    @Test("two agents racing for the last unit: exactly one wins, the other gets 409 with the available quantity")
    func raceForLastUnit() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let body = #"{"productId":"P-LAST","title":"Last one","price":{"amount":100,"currency":"USD"},"levels":[{"location":"reno","onHand":1}]}"#
            #expect(try await client.send(.put, "/v1/skus/LAST-1", token: server.admin, json: body).status == .ok)
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for i in 0..<8 {
                    group.addTask { try await Self.hold(client, server, sku: "LAST-1", qty: 1, key: "agent-\(i)").status }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .created }.count == 1)
            #expect(statuses.filter { $0 == .conflict }.count == 7)
            let refused = try await Self.hold(client, server, sku: "LAST-1", qty: 1, key: "late")
            #expect(refused.headers[.contentType] == "application/problem+json")
            #expect(value(try refused.object(), "available") as? Int == 0)
            #expect(try await Self.available(client, server, "LAST-1") == 0)
        }
    }

    @Test("TTL bounds and quantities are validated")
    func validation() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let ttl = try await Self.hold(client, server, sku: "TEE-RED-M", qty: 1, key: "t", ttl: 5).object()
            #expect(value(ttl, "field") as? String == "ttlSeconds")
            let qty = try await Self.hold(client, server, sku: "TEE-RED-M", qty: 0, key: "q").object()
            #expect(value(qty, "field") as? String == "qty")
            let unknown = try await Self.hold(client, server, sku: "NOPE-1", qty: 1, key: "n")
            #expect(unknown.status == .notFound)
        }
    }
}
