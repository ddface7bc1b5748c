import Foundation
import HTTPTypes
import HummingbirdTesting
import ShelfCore
import ShelfLedger
import ShelfServer
import ShelfTestSupport
import Testing

@Suite("The server on PostgreSQL: one node over HTTP, then a second on the same database", .postgresCluster)
struct PostgresServerTests {
    /// The SKU's state with its stock and holds in a fixed order (a rebuilt snapshot reads them in key order).
    static func normalized(_ state: SKUState) -> SKUState {
        var state = state
        state.stock.sort { $0.location < $1.location }
        state.holds.sort { $0.id < $1.id }
        return state
    }

    /// The parts of an offer that come from the ledger (stock, price, identity), each as canonical JSON text.
    static func parts(_ offer: [String: Any]) throws -> [String: String] {
        var out: [String: String] = [:]
        for key in ["stock", "price", "sku", "title"] {
            let value = try #require(offer[key], "the offer has no \(key)")
            out[key] = String(decoding: try JSONSerialization.data(withJSONObject: ["v": value], options: .sortedKeys), as: UTF8.self)
        }
        return out
    }

    @Test("fixtures load into the empty database, events go in and read back over HTTP, a connection is kept; a second server rebuilds the same snapshot")
    func serverOnPostgres() async throws {
        let cluster = try #require(PostgresCluster.current).get()
        let url = "postgres://shelf@127.0.0.1:\(cluster.port)/\(try await cluster.createDatabase())"
        let clock = ManualWallClock(TestServer.monday)
        let first = try await TestServer.make(clock: clock, database: url)
        let (states, other, before, expected) = try await Self.firstNode(first, clock: clock)
        await first.env.close()

        // A second server on the same database: nothing loaded twice, the same snapshot, the same answers.
        let second = try await TestServer.make(clock: clock, database: url)
        do {
            #expect(second.env.snapshot.seller("demo")?.allStates().map(Self.normalized) == states)
            #expect(second.env.snapshot.seller("other")?.allStates().map(Self.normalized) == other)
            #expect(try await second.env.ledger.events(seller: "demo", sku: "TEE-RED-M", limit: 1000)
                .filter { $0.event.type == .orderConfirmed }.count == 1)
            try await second.run { client in
                let offer = try await client.send(.get, "/v1/offers/TEE-RED-M", token: second.read)
                let object = try offer.object()
                #expect(value(object, "stock.available") as? Int == before - 3)
                #expect(try Self.parts(object) == expected)
                let connection = try await client.send(.get, "/v1/connections/pg-web", token: second.admin)
                #expect(connection.status == .ok)
                #expect(value(try connection.object(), "channel") as? String == "amazon")
            }
        } catch {
            await second.env.close()
            throw error
        }
        await second.env.close()
    }
    /// The first node: checks, orders and a connection over HTTP; answers what the second must see.
    static func firstNode(_ first: TestServer, clock: ManualWallClock) async throws
        -> (states: [SKUState], other: [SKUState], available: Int, offer: [String: String])
    {
        do {
            #expect(first.env.database.postgres != nil)
            // The fixtures went into PostgreSQL: the demo seller, its catalog and its connections.
            let demo = try #require(first.env.snapshot.seller("demo"))
            #expect(demo.count > 10)
            #expect(try await first.env.ledger.connections(seller: "demo").isEmpty == false)
            let before = try #require(demo.sku("TEE-RED-M")).available(now: clock.now())
            let offerBefore = OfferBox()
            try await first.run { client in
                let offer = try await client.send(.get, "/v1/offers/TEE-RED-M", token: first.read)
                #expect(offer.status == .ok)
                #expect(value(try offer.object(), "stock.available") as? Int == before)
                for _ in 0..<2 {  // the second is the same key: answered as a duplicate, recorded once
                    let order = try await client.send(.post, "/v1/events", token: first.ingest,
                                                      json: #"{"type":"order.confirmed","sku":"TEE-RED-M","qty":3}"#,
                                                      headers: ["Idempotency-Key": "pg-e2e-1"])
                    #expect(order.status == .accepted, "\(order.text)")
                }
                let after = try await client.send(.get, "/v1/offers/TEE-RED-M", token: first.read)
                let object = try after.object()
                #expect(value(object, "stock.available") as? Int == before - 3)
                offerBefore.set(object)
                let put = try await client.send(.put, "/v1/connections/pg-web", token: first.admin, json: """
                    {"channel":"amazon","kind":"generic","baseURL":"http://127.0.0.1:1/pg-web","webhookSecret":"secret-pg-web","pushEnabled":false}
                    """)
                #expect(put.status == .created, "\(put.text)")
            }
            let states = first.env.snapshot.seller("demo")?.allStates().map(Self.normalized) ?? []
            let other = first.env.snapshot.seller("other")?.allStates().map(Self.normalized) ?? []
            return (states, other, before, try Self.parts(try #require(offerBefore.value)))
        } catch {
            await first.env.close()
            throw error
        }
    }
}

/// The offer read inside the first server's run, kept for the second's comparison.
final class OfferBox: @unchecked Sendable {
    private let lock = NSLock()
    private var object: [String: Any]?
    func set(_ value: [String: Any]) { lock.withLock { object = value } }
    var value: [String: Any]? { lock.withLock { object } }
}
