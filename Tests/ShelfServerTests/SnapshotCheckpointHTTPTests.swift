import Foundation
import Hummingbird
import HummingbirdTesting
import ShelfCore
import ShelfLedger
import ShelfServer
import Synchronization
import Testing

/// The checkpoint through the real server: a server leaves a checkpoint beside its database, and the next
/// server on the same database starts from it (`/readyz` 503 until it is loaded, then 200) and answers the same offer.
@Suite("Snapshot checkpoint over HTTP")
struct SnapshotCheckpointHTTPTests {
    @Test("a restart on the same database loads the checkpoint the first server wrote and answers the same offer; /readyz goes 503 → 200")
    func restartUsesCheckpoint() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("shelf-ckpt-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = directory.appendingPathComponent("shelf.sqlite").path
        let clock = ManualWallClock(TestServer.monday)
        let first = try await TestServer.make(clock: clock, database: database)
        #expect(first.env.checkpoints?.path == database + ".snapshot")
        #expect(first.env.checkpoints?.lastOutcome == .rebuilt(.missing))
        let offer = Mutex<Data?>(nil)
        try await ShelfApplication.buildApplication(first.env, services: first.env.services).test(.live) { client in
            let posted = try await client.send(.post, "/v1/events", token: first.ingest,
                                               json: #"{"type":"order.confirmed","sku":"TEE-RED-M","qty":2,"channel":"amazon"}"#,
                                               headers: ["Idempotency-Key": "ckpt-1"])
            #expect(posted.status == .accepted)
            let answer = try await client.send(.get, "/v1/offers/TEE-RED-M", token: first.read)
            #expect(answer.status == .ok)
            offer.withLock { $0 = Data(answer.body.readableBytesView) }
        }
        // The service wrote the checkpoint once the server was ready (there was none).
        #expect(FileManager.default.fileExists(atPath: database + ".snapshot"))

        var config = ServerConfiguration(
            host: "127.0.0.1", port: 0, databasePath: database,
            fixturesDirectory: TestServer.repositoryRoot.appendingPathComponent("fixtures/demo").path, clock: clock
        )
        config.snapshotCheckpoint = .besideDatabase
        let second = try await ShelfEnvironment.open(config, load: false)
        try await ShelfApplication.buildApplication(second).test(.live) { client in
            let before = try await client.send(.get, "/readyz")
            #expect(before.status == .serviceUnavailable)
            try await second.loadSnapshot()  // what StartupLoader runs
            // Written once the first server was ready (after its rebuild), maybe before the order: caught up then.
            guard case .checkpoint(let skus, let caughtUp) = second.checkpoints?.lastOutcome else {
                Issue.record("not loaded from the checkpoint: \(String(describing: second.checkpoints?.lastOutcome))")
                return
            }
            #expect(skus == 202 && caughtUp <= 1)
            let after = try await client.send(.get, "/readyz")
            #expect(after.status == .ok)
            #expect(value(try after.object(), "skus") as? Int == 202)
            let again = try await client.send(.get, "/v1/offers/TEE-RED-M", token: first.read)
            #expect(again.status == .ok)
            let body = try #require(offer.withLock { $0 })
            let expected = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
            // What the snapshot holds is as before the restart (what the channels were last heard from is not kept).
            for field in ["stock", "price", "delivery", "purchasable", "title"] {
                #expect(NSDictionary(dictionary: try again.object()).value(forKey: field) as? NSObject == expected[field] as? NSObject, "\(field)")
            }
            offer.withLock { $0 = Data(again.body.readableBytesView) }
            #expect(value(try again.object(), "stock.committed") as? Int == 2)
        }

        // The same database rebuilt from the ledger (checkpoint off) answers the very same offer.
        config.snapshotCheckpoint = .off
        let third = try await ShelfEnvironment.open(config)
        #expect(third.checkpoints == nil)
        try await ShelfApplication.buildApplication(third).test(.live) { client in
            let replayed = try await client.send(.get, "/v1/offers/TEE-RED-M", token: first.read)
            let body = try #require(offer.withLock { $0 })
            let fromCheckpoint = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
            #expect(NSDictionary(dictionary: try replayed.object()) == NSDictionary(dictionary: fromCheckpoint), "\(replayed.text)")
        }
    }
}
