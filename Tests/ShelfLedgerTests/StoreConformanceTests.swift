import Foundation
import ShelfCore
@testable import ShelfLedger
import Testing
import ShelfTestSupport

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

/// The push queues, the same bodies on SQLite and PostgreSQL.
extension LedgerStoreConformanceTests {
    @Test("push queues: outcomes settle retries and dead letters; outbox rows go only up to the sequence settled", arguments: StoreKind.allCases)
    func pushSettlement(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { f in
            let q = f.stores.pushQueue
            try await q.requestPush([OutboxRow(seller: "s1", sku: "A", sequence: 5), OutboxRow(seller: "s1", sku: "B", sequence: 7),
                                     OutboxRow(seller: "s2", sku: "A", sequence: 2)])
            try await q.requestPush([OutboxRow(seller: "s1", sku: "A", sequence: 3)])  // an older request keeps the later row
            var pending = try await q.pendingPushes()
            #expect(Set(pending.outbox) == [OutboxRow(seller: "s1", sku: "A", sequence: 5), OutboxRow(seller: "s1", sku: "B", sequence: 7),
                                            OutboxRow(seller: "s2", sku: "A", sequence: 2)])
            #expect(pending.retries.isEmpty)
            let now = f.clock.now()
            func settled(_ connection: String, _ sku: String, _ sequence: Int64, _ outcome: PushQueue.Outcome) -> PushQueue.Settled {
                PushQueue.Settled(seller: "s1", connection: connection, sku: sku, sequence: sequence, outcome: outcome)
            }
            try await q.settle([settled("amz", "A", 5, .retry(attempts: 1, at: now.addingTimeInterval(2), error: "503")),
                                settled("ebay", "B", 6, .deadLetter(attempts: 4, error: "refused"))],
                               outbox: [OutboxRow(seller: "s1", sku: "A", sequence: 5), OutboxRow(seller: "s1", sku: "B", sequence: 6)], now: now)
            pending = try await q.pendingPushes()
            // B changed again (7) after the settled push (6): its row stays.
            #expect(Set(pending.outbox) == [OutboxRow(seller: "s1", sku: "B", sequence: 7), OutboxRow(seller: "s2", sku: "A", sequence: 2)])
            #expect(pending.retries == [PushQueue.RetryRow(seller: "s1", connection: "amz", sku: "A", sequence: 5, attempts: 1,
                                                           nextAttemptAt: now.addingTimeInterval(2))])
            // A retry at an older sequence never moves the waiting one back; delivery of an older sequence leaves it waiting.
            try await q.settle([settled("amz", "A", 4, .retry(attempts: 2, at: now.addingTimeInterval(4), error: "timeout"))], outbox: [], now: now)
            try await q.settle([settled("amz", "A", 4, .delivered)], outbox: [], now: now)
            pending = try await q.pendingPushes()
            #expect(pending.retries.map { "\($0.sequence)/\($0.attempts)" } == ["5/2"])
            #expect(try await q.depths() == PushQueue.Depths(outbox: 2, retries: 1, deadLetters: 1))
            let queues = try await q.connectionQueues(seller: "s1")
            #expect(queues["amz"] == DeadLetterQueue.ConnectionQueue(pending: 1, deadLetters: 0, lastError: "timeout"))
            #expect(queues["ebay"] == DeadLetterQueue.ConnectionQueue(pending: 0, deadLetters: 1, lastError: "refused", lastErrorAt: now))
            #expect(try await q.connectionQueues(seller: "s2").isEmpty)
            try await q.settle([settled("amz", "A", 5, .delivered)], outbox: [], now: now)
            #expect(try await q.pendingPushes().retries.isEmpty)
            // Sellers with no push-enabled connection lose their outbox rows; a deleted connection its retries.
            try await q.settle([settled("amz", "B", 7, .retry(attempts: 1, at: now, error: "x"))], outbox: [], now: now)
            #expect(try await q.discardOutbox(except: ["s1"]) == 1)
            try await q.discardRetries(seller: "s1", connection: "amz")
            #expect(try await q.depths() == PushQueue.Depths(outbox: 1, retries: 0, deadLetters: 1))
        }
    }

    @Test("dead letters: listed oldest first per seller, replayed one or all into the retry queue, discarded", arguments: StoreKind.allCases)
    func deadLetters(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { f in
            let q = f.stores.pushQueue
            let dlq = DeadLetterQueue(store: q)
            let now = f.clock.now()
            let letters = [("s1", "amz", "A", 3), ("s1", "amz", "B", 4), ("s1", "ebay", "A", 5), ("s2", "amz", "A", 1), ("s1", "amz", "A", 6)]
            for (seller, connection, sku, sequence) in letters {
                try await q.settle([PushQueue.Settled(seller: seller, connection: connection, sku: sku, sequence: Int64(sequence),
                                                      outcome: .deadLetter(attempts: 3, error: "gone \(sequence)"))], outbox: [], now: now)
            }
            let listed = try await dlq.list(seller: "s1")
            #expect(listed.map { "\($0.connection) \($0.sku) \($0.sequence) \($0.lastError)" }
                == ["amz A 3 gone 3", "amz B 4 gone 4", "ebay A 5 gone 5", "amz A 6 gone 6"])
            #expect(listed.map(\.id) == listed.map(\.id).sorted() && Set(listed.map(\.id)).count == 4)
            #expect(try await dlq.list(seller: "s1", limit: 2).count == 2)
            #expect(try await dlq.queues(seller: "s1")["amz"]?.lastError == "gone 6")
            // Replay one: it waits in the retry queue with no attempts, due at once.
            #expect(try await dlq.replay(id: listed[1].id, seller: "s1"))
            #expect(try await !dlq.replay(id: listed[1].id, seller: "s1"))
            #expect(try await !dlq.replay(id: listed[0].id, seller: "s2"))  // another seller's id
            var retries = try await q.pendingPushes().retries
            #expect(retries.map { "\($0.connection) \($0.sku) \($0.sequence) \($0.attempts)" } == ["amz B 4 0"])
            #expect(retries.first?.nextAttemptAt == Date(timeIntervalSince1970: 0))
            #expect(try await dlq.discard(id: listed[2].id, seller: "s1"))
            #expect(try await !dlq.discard(id: listed[2].id, seller: "s1"))
            // Replay all: two letters of one (connection, SKU) become one retry at the later sequence.
            #expect(try await dlq.replayAll(seller: "s1") == 2)
            retries = try await q.pendingPushes().retries.sorted { ($0.connection, $0.sku) < ($1.connection, $1.sku) }
            #expect(retries.map { "\($0.seller) \($0.connection) \($0.sku) \($0.sequence)" } == ["s1 amz A 6", "s1 amz B 4"])
            #expect(try await dlq.list(seller: "s1").isEmpty)
            #expect(try await dlq.list(seller: "s2").count == 1)
        }
    }
}

/// The rule notification outbox, the same bodies on SQLite and PostgreSQL.
extension LedgerStoreConformanceTests {
    @Test("notifications: due order, retry, dead after its attempts, listed by state, replayed by its seller only, counted",
          arguments: StoreKind.allCases)
    func notificationOutbox(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { f in
            let outbox = f.stores.notifications
            let t0 = f.clock.now()
            let ids = try await outbox.enqueue([
                NotificationDraft(seller: "a", ruleId: "r1", trigger: "event:1", url: "http://127.0.0.1:1/x", body: #"{"n":1}"#),
                NotificationDraft(seller: "b", ruleId: "r2", trigger: "event:2", url: "http://127.0.0.1:1/y", body: "{}"),
                NotificationDraft(seller: "a", ruleId: "r3", trigger: "lag:amz", url: "http://127.0.0.1:1/z", body: "{}"),
            ], now: t0)
            #expect(ids.count == 3 && ids == ids.sorted() && Set(ids).count == 3)
            #expect(try await outbox.enqueue([], now: t0).isEmpty)
            let first = try #require(try await outbox.due(now: t0, excluding: [], limit: 10).first)
            #expect(first == RuleNotification(id: ids[0], seller: "a", ruleId: "r1", trigger: "event:1", url: "http://127.0.0.1:1/x",
                                              body: #"{"n":1}"#, state: .pending, attempts: 0, nextAttemptAt: Date(timeIntervalSince1970: 0),
                                              lastError: nil, createdAt: t0))
            #expect(try await outbox.due(now: t0, excluding: [ids[0]], limit: 10).map(\.id) == [ids[1], ids[2]])
            #expect(try await outbox.due(now: t0, excluding: [], limit: 2).map(\.id) == [ids[0], ids[1]])
            try await outbox.record(id: ids[0], attempts: 1, outcome: .retry(at: t0.addingTimeInterval(30), error: "HTTP 500"))
            #expect(try await outbox.due(now: t0.addingTimeInterval(29), excluding: [], limit: 10).map(\.id) == [ids[1], ids[2]])
            #expect(try await outbox.due(now: t0.addingTimeInterval(30), excluding: [], limit: 10).map(\.id) == [ids[1], ids[2], ids[0]])
            #expect(try await outbox.nextDue() == Date(timeIntervalSince1970: 0))
            try await outbox.record(id: ids[1], attempts: 1, outcome: .delivered)
            try await outbox.record(id: ids[2], attempts: 1, outcome: .delivered)
            #expect(try await outbox.nextDue() == t0.addingTimeInterval(30))
            try await outbox.record(id: ids[0], attempts: 8, outcome: .dead(error: "timed out"))
            #expect(try await outbox.nextDue() == nil)
            #expect(try await outbox.due(now: t0.addingTimeInterval(3600), excluding: [], limit: 10).isEmpty)
            #expect(try await outbox.list(seller: "a", state: .dead, limit: 10).map(\.lastError) == ["timed out"])
            #expect(try await outbox.list(seller: "a", state: .pending, limit: 10).isEmpty)
            #expect(try await outbox.list(seller: "b", state: nil, limit: 10).isEmpty)
            #expect(try await outbox.counts() == [.pending: 0, .dead: 1])
            #expect(try await !outbox.replay(id: ids[0], seller: "b"))
            #expect(try await outbox.replayDead(seller: "b") == 0)
            #expect(try await outbox.replayDead(seller: "a") == 1)
            let replayed = try #require(try await outbox.list(seller: "a", state: nil, limit: 10).first)
            #expect(replayed.state == .pending && replayed.attempts == 0 && replayed.lastError == "timed out")
            #expect(try await outbox.due(now: t0, excluding: [], limit: 10).map(\.id) == [ids[0]])
            #expect(try await outbox.counts() == [.pending: 1, .dead: 0])
        }
    }
}

/// Agents' watches and their delivery state, the same bodies on SQLite and PostgreSQL.
extension LedgerStoreConformanceTests {
    func storedWatch(_ id: String, seller: String = "s1", token: String = "tok", spec: String = "{}", at createdAt: Date) -> StoredWatch {
        StoredWatch(id: id, seller: seller, tokenId: token, spec: spec, url: "http://127.0.0.1:1/\(id)", secret: "sec-\(id)", createdAt: createdAt)
    }

    @Test("watches: stored under the per-token limit, listed, paused, judged, dead-lettered, replayed and deleted", arguments: StoreKind.allCases)
    func watches(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { f in
            let store = f.stores.watches
            let t0 = f.clock.now()
            let usd = { (amount: Int64) in Money(amount: amount, currency: "USD") }
            let o1 = WatchObservation(available: 4, price: usd(1999), deliveryWindow: "ups/ground 2026-12-09..2026-12-11")
            #expect(try await store.insert(storedWatch("w2", spec: #"{"query":"a"}"#, at: t0), observations: ["A": o1], position: 7, limitPerToken: 2))
            #expect(try await store.insert(storedWatch("w1", at: t0.addingTimeInterval(1)), observations: [:], position: 9, limitPerToken: 2))
            #expect(try await !store.insert(storedWatch("w3", at: t0), observations: [:], position: 9, limitPerToken: 2))
            #expect(try await store.insert(storedWatch("w9", seller: "s2", token: "other", at: t0), observations: [:], position: 1, limitPerToken: 2))
            #expect(try await store.count(tokenId: "tok") { $0.contains("query") } == 1)
            #expect(try await store.list(seller: "s1").map(\.id) == ["w2", "w1"])
            #expect(try await store.all().map { "\($0.seller)/\($0.id)" } == ["s1/w1", "s1/w2", "s2/w9"])
            #expect(try await store.watch(id: "w1", seller: "s1") == storedWatch("w1", at: t0.addingTimeInterval(1)))
            #expect(try await store.watch(id: "w1", seller: "s2") == nil)
            try await store.setPaused("receiver gone", at: t0, id: "w1", seller: "s1")
            let paused = try #require(try await store.watch(id: "w1", seller: "s1"))
            #expect(paused.pausedReason == "receiver gone" && paused.pausedAt == t0)
            try await store.setPaused(nil, at: t0, id: "w1", seller: "s1")
            #expect(try await store.watch(id: "w1", seller: "s1")?.pausedAt == nil)

            // A judged batch: observations, firings (a later one of the same watch and SKU replaces the waiting one), cursors.
            let key = WatchObservationKey(seller: "s1", watchId: "w2", sku: "A")
            func fired(_ watch: String, _ sku: String, _ sequence: Int64, at offset: TimeInterval) -> WatchOutboxEntry {
                WatchOutboxEntry(seller: "s1", watchId: watch, sku: sku, deliveryId: "dlv_\(watch)\(sku)\(sequence)", eventType: "stock.low",
                                 sequence: sequence, changedAt: t0.addingTimeInterval(offset))
            }
            var j = WatchJudgement()
            j.observations[key] = WatchObservation(available: 1, price: usd(1899), deliveryWindow: nil)
            j.fired = [fired("w2", "A", 10, at: 5), fired("w1", "B", 11, at: 3), fired("w1", "C", 12, at: 4)]
            j.cursors = ["s1": 12]
            try await store.commit(j)
            j = WatchJudgement()
            j.fired = [fired("w2", "A", 13, at: 6)]
            j.delivered = [(WatchObservationKey(seller: "s1", watchId: "w1", sku: "C"), 12), (WatchObservationKey(seller: "s1", watchId: "w2", sku: "A"), 10)]
            j.cursors = ["s1": 11]  // never moves back
            try await store.commit(j)
            var resume = try await store.resumePoint()
            #expect(resume.cursors == ["s1": 12, "s2": 1])
            #expect(resume.observations == [key: WatchObservation(available: 1, price: usd(1899), deliveryWindow: nil)])
            #expect(resume.outbox == [fired("w1", "B", 11, at: 3), fired("w2", "A", 13, at: 6)])

            // Dead letters: one per (watch, SKU), the later replaces; the outbox row goes unless a newer firing replaced it.
            let letter = { (sku: String, sequence: Int64, offset: TimeInterval) in
                WatchDeadLetter(watchId: "w1", sku: sku, eventType: "stock.low", sequence: sequence, attempts: 5, lastError: "HTTP 500 \(sequence)",
                                failedAt: t0.addingTimeInterval(offset))
            }
            try await store.deadLetter([letter("B", 11, 20), letter("D", 8, 10)], seller: "s1")
            try await store.deadLetter([letter("D", 9, 15)], seller: "s1")
            #expect(try await store.deadLetters(watchId: "w1", seller: "s1") == [letter("D", 9, 15), letter("B", 11, 20)])
            #expect(try await store.deadLetters(watchId: "w1", seller: "s2").isEmpty)
            resume = try await store.resumePoint()
            #expect(resume.outbox == [fired("w2", "A", 13, at: 6)])
            try await store.setPaused("too many failures", at: t0, id: "w1", seller: "s1")
            let replayed = try await store.takeForReplay(watchId: "w1", seller: "s1", skus: ["B"])
            #expect(replayed.map { "\($0.sku) \($0.sequence) \($0.eventType)" } == ["B 11 stock.low"])
            #expect(replayed.first?.deliveryId.hasPrefix("dlv_") == true && replayed.first?.changedAt == t0.addingTimeInterval(20))
            #expect(try await store.watch(id: "w1", seller: "s1")?.pausedReason == nil)
            #expect(try await store.deadLetters(watchId: "w1", seller: "s1") == [letter("D", 9, 15)])
            #expect(try await store.resumePoint().outbox.map(\.sku) == ["A", "B"])

            // Deleting a watch takes its rows with it; the seller's position goes with its last watch.
            #expect(try await store.delete(id: "w1", seller: "s1"))
            #expect(try await !store.delete(id: "w1", seller: "s1"))
            resume = try await store.resumePoint()
            #expect(resume.outbox.map(\.watchId) == ["w2"] && resume.cursors["s1"] == 12)
            #expect(try await store.deadLetters(watchId: "w1", seller: "s1").isEmpty)
            #expect(try await store.delete(id: "w2", seller: "s1"))
            resume = try await store.resumePoint()
            #expect(resume.cursors == ["s2": 1] && resume.observations.isEmpty && resume.outbox.isEmpty)
        }
    }

    @Test("watches: many nodes creating watches for one token at once store no more than its limit", arguments: StoreKind.allCases)
    func watchLimitUnderConcurrency(kind: StoreKind) async throws {
        try await StoreFixture.with(kind) { f in
            let store = f.stores.watches
            let t0 = f.clock.now()
            let stored = try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<12 {
                    group.addTask {
                        try await store.insert(self.storedWatch("w\(i)", at: t0), observations: [:], position: 0, limitPerToken: 5) ? 1 : 0
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(stored == 5)
            #expect(try await store.list(seller: "s1").count == 5)
        }
    }
}
