import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import Logging
import HummingbirdTesting
import ServiceLifecycle
import ShelfAutomation
import ShelfChannels
import ShelfConnectors
import ShelfCore
import ShelfCurl
import ShelfLedger
import ShelfServer
import ShelfSimulator
import Synchronization
import Testing
import ShelfTestSupport

/// Shelf and shelf-sim, both over real HTTP on loopback with real libcurl pushes, and the propagator running.
struct ChannelHarness: Sendable {
    let server: TestServer
    let simPort: Int
    let shelf: any TestClientProtocol
    let control: CurlClient

    /// Calls shelf-sim's control API.
    func sim(_ method: String, _ path: String, json: String? = nil) async throws -> (status: Int, body: [String: Any]) {
        let response = try await control.execute(CurlRequest(
            method: method, url: "http://127.0.0.1:\(simPort)\(path)",
            headers: json == nil ? [] : [(name: "Content-Type", value: "application/json")], body: Array((json ?? "").utf8)))
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        return (response.status, object)
    }

    /// Quantity pushes the simulator recorded for a SKU on a connection, oldest first (price-only pushes left out).
    func pushes(sku: String, connection: String? = nil) async throws -> [[String: Any]] {
        let query = "sku=\(sku)" + (connection.map { "&connection=\($0)" } ?? "")
        let all = try await sim("GET", "/_sim/pushes?\(query)").body["pushes"] as? [[String: Any]] ?? []
        return all.filter { $0["quantity"] is Int }
    }

    /// Waits until `condition` holds (polling), failing after `seconds`.
    func eventually(_ what: String, within seconds: Double = 20, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        let dlq = (try? await DeadLetterQueue(database: server.env.ledger.database).list(seller: "demo")) ?? []
        let outbox = (try? await server.env.ledger.database.pool.read { db in try String.fetchAll(db, sql: "SELECT seller || ' ' || sku || ' ' || sequence FROM outbox") }) ?? []
        let retries = (try? await server.env.ledger.database.pool.read { db in try String.fetchAll(db, sql: "SELECT connection || ' ' || sku || ' ' || sequence FROM deliveries") }) ?? []
        Issue.record("timed out waiting for \(what); outbox \(outbox.prefix(5)), retries \(retries.prefix(5)), gauges \(server.env.propagator.gauges(now: Date()).map { "\($0.connection) q\($0.queueDepth) f\($0.inFlight)" }); propagator \(server.env.propagator.stats); dead letters \(dlq.map { "\($0.connection) \($0.sku): \($0.lastError)" })")
        throw CancellationError()
    }

    static func run(policy: PushPolicy = PushPolicy(maxAttempts: 4, baseDelay: 0.05, maxDelay: 0.3, requestTimeout: .seconds(2)),
                    propagate: Bool = true, database: String? = nil, notifyURL: String? = nil,
                    _ body: @Sendable @escaping (ChannelHarness) async throws -> Void) async throws {
        let root = TestServer.repositoryRoot
        let portBox = Mutex<Int?>(nil)
        let sim = try ShelfSimulator.buildApplication(SimulatorConfiguration(
            host: "127.0.0.1", port: 0, fixtures: try FixtureSet.load(directory: root.appendingPathComponent("fixtures/demo/sim").path),
            onListening: { port in portBox.withLock { $0 = port } }))
        let server = try await TestServer.make(clock: SystemWallClock(), pushPolicy: policy, database: database, notifyURL: notifyURL)
        let control = CurlClient()
        try await withThrowingTaskGroup(of: Void.self) { group in
            let simGroup = ServiceGroup(services: [sim], logger: .init(label: "sim"))
            group.addTask { try await simGroup.run() }
            group.addTask { try await control.run() }
            var simPort = 0
            for _ in 0..<200 {
                if let p = portBox.withLock({ $0 }) { simPort = p; break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(simPort > 0)
            let port = simPort
            for var c in try await server.env.ledger.connections(seller: "demo") {
                c.baseURL = "http://127.0.0.1:\(port)/c/\(c.id)"
                try await server.env.ledger.upsertConnection(c, seller: "demo")
            }
            group.addTask { try await server.env.curl.run() }
            if propagate { group.addTask { try await server.env.propagator.run() } }
            group.addTask { try await server.env.ruleEngine.run() }
            try await server.run { client in
                let harness = ChannelHarness(server: server, simPort: port, shelf: client, control: control)
                for c in try await server.env.ledger.connections(seller: "demo") {
                    let simConnection = try await harness.sim("GET", "/_sim/connections").body["connections"] as? [[String: Any]] ?? []
                    guard let existing = simConnection.first(where: { $0["id"] as? String == c.id }) else { continue }
                    var input: [String: Any] = ["kind": c.kind, "webhookSecret": c.webhookSecret, "webhookURL": "http://127.0.0.1:\(client.port!)/v1/webhooks/\(c.id)"]
                    if let account = existing["accountId"] { input["accountId"] = account }
                    if let location = existing["channelLocationId"] { input["channelLocationId"] = location }
                    let json = String(decoding: try JSONSerialization.data(withJSONObject: input), as: UTF8.self)
                    #expect(try await harness.sim("PUT", "/_sim/connections/\(c.id)", json: json).status == 200)
                }
                try await body(harness)
            }
            await simGroup.triggerGracefulShutdown()
            group.cancelAll()
        }
    }
}
