import Foundation
import ShelfCore
@testable import ShelfLedger
import Testing
import ShelfTestSupport

@Suite("TokenStore")
struct TokenStoreTests {
    static func database() throws -> LedgerDatabase {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("shelf-tokens-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return try LedgerDatabase(path: dir.appendingPathComponent("shelf.sqlite").path)
    }

    static let unknown = "shelf_0123456789ab_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

    @Test("an unknown token asked 1,000 times reads the database once")
    func unknownTokenIsCached() async throws {
        let store = TokenStore(database: try Self.database(), clock: ManualWallClock(Date(timeIntervalSince1970: 1_795_400_000)))
        for _ in 0..<1000 { #expect(await store.authenticate(Self.unknown) == nil) }
        #expect(store.databaseReads <= 1)
        #expect(store.databaseReads == 1)
    }

    @Test("the unknown-token cache forgets after its TTL and holds at most its capacity, oldest forgotten first")
    func unknownCacheIsBounded() async throws {
        let clock = ManualWallClock(Date(timeIntervalSince1970: 1_795_400_000))
        let store = TokenStore(database: try Self.database(), clock: clock, unknownTTL: 5, unknownCapacity: 8)
        let tokens = (0..<100).map { "shelf_\(String(format: "%012x", $0))_x" }
        for t in tokens { #expect(await store.authenticate(t) == nil) }
        #expect(store.databaseReads == 100)
        #expect(store.unknownCount == 8)
        _ = await store.authenticate(tokens[99])  // still remembered
        #expect(store.databaseReads == 100)
        _ = await store.authenticate(tokens[0])  // forgotten: beyond capacity
        #expect(store.databaseReads == 101)
        clock.advance(by: 5)
        _ = await store.authenticate(tokens[99])  // forgotten: past its TTL
        #expect(store.databaseReads == 102)
        #expect(store.unknownCount <= 8)
    }

    @Test("a token created by another process after being refused is accepted once the refusal is forgotten (unknownTTL)")
    func createdElsewhereAcceptedWithinTTL() async throws {
        let clock = ManualWallClock(Date(timeIntervalSince1970: 1_795_400_000))
        let database = try Self.database()
        let server = TokenStore(database: database, clock: clock)
        let cli = TokenStore(database: database, clock: clock)
        // Never presented before it existed: accepted at once.
        let (_, fresh) = try await cli.create(seller: "s1", scopes: [.read], ttl: nil)
        #expect(await server.authenticate(fresh)?.seller == "s1")
        // Presented, refused, then created elsewhere: refused from memory until the TTL has passed, then accepted.
        let token = "shelf_aaaaaaaaaaaa_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
        #expect(await server.authenticate(token) == nil)
        try await Self.insert(token, id: "aaaaaaaaaaaa", into: database)
        #expect(await server.authenticate(token) == nil)
        clock.advance(by: TokenStore.defaultUnknownTTL - 0.5)
        #expect(await server.authenticate(token) == nil)
        clock.advance(by: 0.5)
        #expect(await server.authenticate(token)?.id == "aaaaaaaaaaaa")
    }

    @Test("a token is refused on the very next check after it is revoked")
    func revocationIsInstant() async throws {
        let store = TokenStore(database: try Self.database(), clock: ManualWallClock(Date(timeIntervalSince1970: 1_795_400_000)))
        let (info, token) = try await store.create(seller: "s1", scopes: [.admin], ttl: nil)
        #expect(await store.authenticate(token)?.id == info.id)
        #expect(await store.authenticate(token)?.id == info.id)  // now answered from memory
        let reads = store.databaseReads
        #expect(try await store.revoke(id: info.id, seller: "s1"))
        #expect(await store.authenticate(token) == nil)
        #expect(store.databaseReads == reads)
    }

    /// Writes a token row the way another process's `TokenStore.create` would, for a secret the test chose.
    static func insert(_ token: String, id: String, into database: LedgerDatabase) async throws {
        let other = TokenStore(database: database, clock: SystemWallClock())
        try await other.insert(token, TokenInfo(id: id, seller: "s1", scopes: [.read], createdAt: Date(timeIntervalSince1970: 1_795_400_000)))
    }
}
