import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import ShelfConnectors
import ShelfSimulator
import ShelfCore

/// A value set once and awaited by others.
actor Once<Value: Sendable> {
    private var value: Value?
    private var waiters: [CheckedContinuation<Value, Never>] = []

    func set(_ newValue: Value) {
        guard value == nil else { return }
        value = newValue
        for waiter in waiters { waiter.resume(returning: newValue) }
        waiters = []
    }

    func get() async -> Value {
        if let value { return value }
        return await withCheckedContinuation { waiters.append($0) }
    }
}

/// Runs `service` in a ServiceGroup for the duration of `body`, then shuts it down gracefully.
func whileRunning<Value: Sendable>(
    _ service: some Service,
    port: Once<Int>,
    _ body: @Sendable (Int) async throws -> Value
) async throws -> Value {
    let group = ServiceGroup(configuration: .init(services: [service], logger: Logger(label: "test")))
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        let bound = await port.get()
        do {
            let value = try await body(bound)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return value
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            throw error
        }
    }
}

/// A simulator started on 127.0.0.1 with an OS-assigned port.
struct LiveSimulator: Sendable {
    let port: Int
    let client: TestHTTPClient

    var root: String { "http://127.0.0.1:\(port)" }

    func base(_ connection: String) -> String { "\(root)/c/\(connection)" }

    /// Calls the control API.
    @discardableResult
    func control(_ method: String, _ path: String, _ body: String? = nil) async throws -> TestHTTPResponse {
        try await client.send(method, root + path, body: body.map { Array($0.utf8) } ?? [])
    }

    /// Sends a connector-built request.
    func send(_ request: ChannelHTTPRequest, timeout: TimeInterval = 10) async throws -> TestHTTPResponse {
        try await client.send(request.method, request.url, headers: request.headers, body: request.body, timeout: timeout)
    }

    func addConnection(_ id: String, kind: ChannelKind, webhookURL: String? = nil, rate: Double? = nil, burst: Double? = nil) async throws {
        var fields = [#""kind":"\#(kind.rawValue)""#, #""webhookSecret":"secret-\#(id)""#]
        if let webhookURL { fields.append(#""webhookURL":"\#(webhookURL)""#) }
        if let rate { fields.append(#""rateLimitPerSecond":\#(rate)"#) }
        if let burst { fields.append(#""burst":\#(burst)"#) }
        let response = try await control("PUT", "/_sim/connections/\(id)", "{" + fields.joined(separator: ",") + "}")
        precondition(response.status == 200, "connection setup failed: \(response.text)")
    }

    func seed(
        _ connection: String,
        externalId: String,
        sku: String,
        quantity: Int,
        price: Int64? = 1999,
        references: [String: String] = [:]
    ) async throws {
        var fields = [#""sku":"\#(sku)""#, #""quantity":\#(quantity)"#]
        if let price { fields.append(#""price":{"amount":\#(price),"currency":"USD"}"#) }
        if !references.isEmpty {
            fields.append(#""references":"# + String(decoding: try JSONEncoder().encode(references), as: UTF8.self))
        }
        let response = try await control("PUT", "/_sim/connections/\(connection)/items/\(externalId)", "{" + fields.joined(separator: ",") + "}")
        precondition(response.status == 200, "seed failed: \(response.text)")
    }

    func item(_ connection: String, _ externalId: String) async throws -> JSONValue {
        try await control("GET", "/_sim/connections/\(connection)/items/\(externalId)").json()
    }

    func pushes(_ connection: String) async throws -> [JSONValue] {
        try await control("GET", "/_sim/pushes?connection=\(connection)").json()["pushes"]?.arrayValue ?? []
    }
}

/// Starts a simulator for the duration of `body`.
func withSimulator<Value: Sendable>(
    fixtures: FixtureSet = FixtureSet(),
    clock: any SimulatorClock = SystemSimulatorClock(),
    _ body: @Sendable (LiveSimulator) async throws -> Value
) async throws -> Value {
    let port = Once<Int>()
    let configuration = SimulatorConfiguration(
        host: "127.0.0.1",
        port: 0,
        fixtures: fixtures,
        clock: clock,
        webhookTransport: CurlWebhookTransport(timeout: 5),
        onListening: { await port.set($0) }
    )
    let app = try ShelfSimulator.buildApplication(configuration)
    return try await whileRunning(app, port: port) { bound in
        try await body(LiveSimulator(port: bound, client: TestHTTPClient()))
    }
}
