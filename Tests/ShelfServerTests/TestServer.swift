import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import ShelfCore
import ShelfLedger
import ShelfChannels
import ShelfServer
import Testing

/// A real Shelf server (live HTTP on loopback, a temporary SQLite file, the demo fixtures) with a manual clock and tokens.
struct TestServer {
    let env: ShelfEnvironment
    let anyClock: any WallClock
    /// The manual clock (tests that move time).
    var clock: ManualWallClock { anyClock as! ManualWallClock }
    let read: String
    let ingest: String
    let admin: String
    /// A token of a second seller, `other`, which has one SKU `TEE-RED-M` of its own.
    let otherAdmin: String

    /// Monday 2026-11-23 06:00 UTC.
    static let monday = Date(timeIntervalSince1970: 1_795_413_600)

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static func make(at start: Date = monday, maxBatchSKUs: Int = 500, readsOnEventLoop: Bool = false) async throws -> TestServer {
        try await make(clock: ManualWallClock(start), maxBatchSKUs: maxBatchSKUs, readsOnEventLoop: readsOnEventLoop)
    }

    static func make(
        clock: any WallClock, maxBatchSKUs: Int = 500, pushPolicy: PushPolicy = PushPolicy(), database: String? = nil,
        notifyURL: String? = nil, readsOnEventLoop: Bool = false, watchPolicy: WatchPolicy = WatchPolicy()
    ) async throws -> TestServer {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("shelf-e2e-\(UUID().uuidString)")
        let start = clock.now()
        var config = ServerConfiguration(
            host: "127.0.0.1", port: 0, databasePath: database ?? dir.appendingPathComponent("shelf.sqlite").path,
            fixturesDirectory: repositoryRoot.appendingPathComponent("fixtures/demo").path, maxBatchSKUs: maxBatchSKUs,
            pushPolicy: pushPolicy, notifyURL: notifyURL, clock: clock
        )
        config.readsOnEventLoop = readsOnEventLoop
        config.watchPolicy = watchPolicy
        let env = try await ShelfEnvironment.open(config)
        let ledger = env.ledger
        let hadOther = ledger.snapshot.seller("other") != nil
        try await ledger.ensureSeller(id: "other", name: "Other Co", currency: "USD", timeZone: "UTC")
        let item = CatalogItem(sku: "TEE-RED-M", productId: "P-OTHER", title: "Other tee", price: Money(amount: 100, currency: "USD"))
        let setup = [
            Command(seller: "other", source: "test", draft: ShelfEvent(
                type: .locationUpserted, locationInfo: Location(id: "main", name: "Main", timeZone: "UTC"), occurredAt: start)),
            Command(seller: "other", source: "test", draft: ShelfEvent(
                type: .skuUpserted, sku: "TEE-RED-M", item: item,
                levels: [LocationStock(location: "main", level: StockLevel(onHand: 7))], occurredAt: start)),
            Command(seller: "other", source: "test", draft: ShelfEvent(
                type: .skuUpserted, sku: "OTHER-ONLY", item: CatalogItem(sku: "OTHER-ONLY", productId: "P-O2", title: "Only other",
                                                                          price: Money(amount: 100, currency: "USD")),
                levels: [LocationStock(location: "main", level: StockLevel(onHand: 3))], occurredAt: start)),
        ]
        if !hadOther { for r in await ledger.submit(setup) { _ = try r.get() } }
        return TestServer(
            env: env, anyClock: clock,
            read: try await env.tokens.create(seller: "demo", scopes: [.read], ttl: nil).1,
            ingest: try await env.tokens.create(seller: "demo", scopes: [.ingest, .read], ttl: nil).1,
            admin: try await env.tokens.create(seller: "demo", scopes: [.admin], ttl: nil).1,
            otherAdmin: try await env.tokens.create(seller: "other", scopes: [.admin], ttl: nil).1
        )
    }

    /// Runs `body` against the server listening on a free loopback port.
    func run(_ body: @Sendable @escaping (any TestClientProtocol) async throws -> Void) async throws {
        try await ShelfApplication.buildApplication(env).test(.live) { client in try await body(client) }
    }
}

extension TestClientProtocol {
    /// Sends a request with an optional bearer token and JSON body.
    func send(_ method: HTTPRequest.Method, _ uri: String, token: String? = nil, json: String? = nil,
              headers extra: [String: String] = [:]) async throws -> TestResponse {
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        if json != nil { headers[.contentType] = "application/json" }
        for (k, v) in extra { headers[HTTPField.Name(k)!] = v }
        return try await execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }
}

extension TestResponse {
    /// The body parsed as a JSON object.
    func object() throws -> [String: Any] {
        let data = Data(body.readableBytesView)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "not a JSON object: \(String(decoding: data, as: UTF8.self))")
    }

    var text: String { String(buffer: body) }
}

/// Reads a nested value like `stock.available` from a JSON object.
func value(_ object: [String: Any], _ path: String) -> Any? {
    var current: Any? = object
    for part in path.split(separator: ".") {
        if let i = Int(part), let list = current as? [Any] {
            current = i < list.count ? list[i] : nil
        } else {
            current = (current as? [String: Any])?[String(part)]
        }
    }
    return current
}
