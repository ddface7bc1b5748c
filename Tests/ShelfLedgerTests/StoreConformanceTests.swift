import Foundation
import ShelfCore
@testable import ShelfLedger
import Testing

/// The token and rule stores, the same bodies on SQLite and PostgreSQL (in the conformance suite, so on its cluster).
extension LedgerStoreConformanceTests {
    @Test("tokens: created on one node, accepted on another; listed oldest first; revoked at once", arguments: StoreKind.allCases)
    func tokensAcrossNodes(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { f in
            let a = TokenStore(records: f.stores.tokens, clock: f.clock)
            let b = TokenStore(records: f.stores.tokens, clock: f.clock)
            let (first, secret) = try await a.create(seller: "s1", scopes: [.admin, .read], ttl: 3600, label: "ops")
            f.clock.advance(by: 1)
            let (second, _) = try await a.create(seller: "s1", scopes: [.ingest], ttl: nil)
            _ = try await a.create(seller: "s2", scopes: [.read], ttl: nil)
            let seen = try #require(await b.authenticate(secret))
            #expect(seen == first)
            #expect(seen.scopes == [.read, .admin] && seen.label == "ops" && seen.expiresAt == f.clock.now().addingTimeInterval(3599))
            #expect(try await b.list(seller: "s1") == [first, second])
            #expect(try await b.list(seller: "nobody").isEmpty)
            // Revoked on node a: refused by a at once, and by a node that had not cached it.
            #expect(try await a.revoke(id: first.id, seller: "s1"))
            #expect(await a.authenticate(secret) == nil)
            #expect(await TokenStore(records: f.stores.tokens, clock: f.clock).authenticate(secret) == nil)
            let revokedAt = try #require(try await b.list(seller: "s1").first?.revokedAt)
            #expect(revokedAt == f.clock.now())
            // A second revocation keeps the first instant; another seller's or an unknown id changes nothing.
            f.clock.advance(by: 10)
            #expect(try await a.revoke(id: first.id, seller: "s1"))
            #expect(try await a.list(seller: "s1").first?.revokedAt == revokedAt)
            #expect(try await !a.revoke(id: first.id, seller: "s2"))
            #expect(try await !a.revoke(id: "nope", seller: "s1"))
            // Expiry is the clock's.
            let (_, short) = try await a.create(seller: "s1", scopes: [.read], ttl: 60)
            #expect(await b.authenticate(short) != nil)
            f.clock.advance(by: 60)
            #expect(await b.authenticate(short) == nil)
        }
    }

    @Test("tokens: one digest, one token; an unknown token is read once and found once it exists elsewhere", arguments: StoreKind.allCases)
    func tokenLookups(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { f in
            let server = TokenStore(records: f.stores.tokens, clock: f.clock)
            let token = "shelf_aaaaaaaaaaaa_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
            for _ in 0..<50 { #expect(await server.authenticate(token) == nil) }
            #expect(server.databaseReads == 1)
            let info = TokenInfo(id: "aaaaaaaaaaaa", seller: "s1", scopes: [.read], createdAt: f.clock.now())
            try await f.stores.tokens.insert(info, hash: TokenStore.digest(token))
            await #expect(throws: (any Error).self) {
                try await f.stores.tokens.insert(TokenInfo(id: "other", seller: "s1", scopes: [.read], createdAt: f.clock.now()),
                                                 hash: TokenStore.digest(token))
            }
            #expect(try await f.stores.tokens.token(hash: TokenStore.digest(token)) == info)
            #expect(try await f.stores.tokens.token(hash: TokenStore.digest("shelf_x")) == nil)
            #expect(await server.authenticate(token) == nil)  // still remembered as unknown
            f.clock.advance(by: TokenStore.defaultUnknownTTL)
            #expect(await server.authenticate(token)?.id == "aaaaaaaaaaaa")
            #expect(server.databaseReads == 2)
        }
    }

    @Test("rules: stored, listed, enabled, paused and deleted with their schedule claim", arguments: StoreKind.allCases)
    func rules(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { f in
            let rules = f.stores.rules
            func rule(_ id: String, at offset: TimeInterval) -> StoredRule {
                StoredRule(id: id, text: "when \(id)", rule: #"{"id":"\#(id)"}"#, explain: "explains \(id)", enabled: true,
                           createdAt: f.clock.now().addingTimeInterval(offset))
            }
            try await rules.insert(rule("r2", at: 0), seller: "s1")
            try await rules.insert(rule("r1", at: 1), seller: "s1")
            try await rules.insert(rule("r0", at: 2), seller: "s2")
            await #expect(throws: (any Error).self) { try await rules.insert(rule("r2", at: 5), seller: "s1") }
            #expect(try await rules.list(seller: "s1") == [rule("r2", at: 0), rule("r1", at: 1)])
            #expect(try await rules.enabled().map { "\($0.seller)/\($0.rule.id)" } == ["s1/r1", "s1/r2", "s2/r0"])
            try await rules.pause(id: "r1", seller: "s1", reason: "kept failing")
            let paused = try #require(try await rules.list(seller: "s1").last)
            #expect(!paused.enabled && paused.pausedReason == "kept failing")
            #expect(try await rules.enabled().map(\.rule.id) == ["r2", "r0"])
            #expect(try await rules.setEnabled(true, id: "r1", seller: "s1"))
            #expect(try await rules.list(seller: "s1").last == rule("r1", at: 1))
            #expect(try await !rules.setEnabled(false, id: "r1", seller: "s2"))
            #expect(try await rules.claimOccurrence(f.clock.now(), id: "r1", seller: "s1"))
            #expect(try await rules.delete(id: "r1", seller: "s1"))
            #expect(try await !rules.delete(id: "r1", seller: "s1"))
            #expect(try await rules.list(seller: "s1").map(\.id) == ["r2"])
            // The deleted rule's claim went with it: a rule of the same id starts afresh.
            try await rules.insert(rule("r1", at: 3), seller: "s1")
            #expect(try await rules.claimOccurrence(f.clock.now(), id: "r1", seller: "s1"))
        }
    }

    @Test("rules: an occurrence is claimed once, also by many claimants at once; earlier ones never", arguments: StoreKind.allCases)
    func scheduleClaims(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { f in
            let rules = f.stores.rules
            let t = f.clock.now()
            #expect(try await rules.claimOccurrence(t, id: "r", seller: "s1"))
            #expect(try await !rules.claimOccurrence(t, id: "r", seller: "s1"))
            #expect(try await !rules.claimOccurrence(t.addingTimeInterval(-60), id: "r", seller: "s1"))
            #expect(try await rules.claimOccurrence(t, id: "r", seller: "s2"))  // per seller
            let next = t.addingTimeInterval(3600)
            let wins = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<12 { group.addTask { try await rules.claimOccurrence(next, id: "r", seller: "s1") ? 1 : 0 } }
                return try await group.reduce(0, +)
            }
            #expect(wins == 1)
        }
    }
}
