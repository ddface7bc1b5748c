import Foundation
import GRDB
import Logging
import ShelfCore
import Synchronization

/// The source of truth: turns commands into durable events (group commit), keeps the state tables and the outbox in the same
/// transaction, then applies the committed events to the snapshot in sequence order.
public final class Ledger: Sendable {
    public let database: LedgerDatabase
    public let snapshot: Snapshot
    public let clock: any WallClock
    let logger: Logger
    /// Most commands one transaction carries.
    public let maxBatch: Int
    private let queue = Mutex(Queue())
    private let connections = Mutex<[String: [PushTarget]]>([:])
    private let counters = Mutex(LedgerStats())
    let connectionCache = Mutex<[String: [ConnectionFixture]]>([:])

    /// Commits and commands so far (average batch size = commands / commits).
    public var stats: LedgerStats { counters.withLock { $0 } }

    struct Queue {
        var pending: [Pending] = []
        var draining = false
    }

    struct Pending {
        var commands: [Command]
        var reply: OneShot<[Result<CommandOutcome, LedgerError>]>
    }

    /// A connection that receives pushes: where the outbox fans an SKU change out to.
    struct PushTarget: Sendable {
        var id: String
        var channel: String
    }

    public init(database: LedgerDatabase, snapshot: Snapshot? = nil, clock: any WallClock = SystemWallClock(),
                logger: Logger = Logger(label: "shelf.ledger"), maxBatch: Int = 512) {
        self.database = database
        let snapshot = snapshot ?? Snapshot()
        self.snapshot = snapshot
        self.clock = clock
        self.logger = logger
        self.maxBatch = maxBatch
        snapshot.feed.attach(
            reader: { [weak self] seller, after, limit in try self?.events(seller: seller, after: after, limit: limit) ?? [] },
            positions: { [weak snapshot] in
                guard let snapshot else { return [:] }
                var out: [String: Int64] = [:]
                for id in snapshot.sellerIDs { out[id] = snapshot.seller(id)?.lastSequence ?? 0 }
                return out
            }
        )
    }

    // MARK: Sellers

    /// Creates the seller if it does not exist yet.
    public func ensureSeller(id: String, name: String, currency: String, timeZone: String) throws {
        let record = SellerRecord(id: id, name: name, currency: currency, timeZone: timeZone, createdAt: clock.now().timeIntervalSince1970)
        _ = try database.pool.write { db in try Self.insertIfNew(record, db) }
        _ = snapshot.ensureSeller(id)
    }

    /// Inserts the seller unless its id exists; true when it was inserted.
    static func insertIfNew(_ record: SellerRecord, _ db: Database) throws -> Bool {
        try record.insert(db, onConflict: .ignore)
        return db.changesCount > 0
    }

    /// Creates a new seller (a tenant) with its business calendar and rule vocabulary; false when the id is taken (nothing
    /// changes then). The seller can be given tokens, locations, channels and a catalog at once.
    public func createSeller(_ seller: SellerFixture) throws -> Bool {
        let body = try ShelfJSON.string(seller)
        let record = SellerRecord(id: seller.id, name: seller.name, currency: seller.currency, timeZone: seller.timeZone,
                                  createdAt: clock.now().timeIntervalSince1970)
        let created = try database.pool.write { db -> Bool in
            guard try Self.insertIfNew(record, db) else { return false }
            try SellerProfileRecord(seller: seller.id, body: body).save(db)
            return true
        }
        if created { snapshot.ensureSeller(seller.id).setHolidays(seller.holidays) }
        return created
    }

    /// A seller as the platform operator sees it: identity, settings, business calendar and size.
    public struct SellerSummary: Codable, Hashable, Sendable {
        public var id: String
        public var name: String
        public var currency: String
        public var timeZone: String
        public var holidays: [CivilDate]
        public var createdAt: Date
        public var skus: Int
    }

    /// Every seller, by id.
    public func sellers() throws -> [SellerSummary] {
        try database.pool.read { db in try SellerRecord.order(Column("id")).fetchAll(db) }.map(summary)
    }

    /// One seller, or nil when there is none with this id (one keyed read).
    public func seller(id: String) throws -> SellerSummary? {
        try database.pool.read { db in try SellerRecord.fetchOne(db, key: id) }.map(summary)
    }

    private func summary(_ record: SellerRecord) -> SellerSummary {
        let live = snapshot.seller(record.id)
        return SellerSummary(id: record.id, name: record.name, currency: record.currency, timeZone: record.timeZone,
                             holidays: live?.catalog.holidays ?? [], createdAt: Date(timeIntervalSince1970: record.createdAt), skus: live?.count ?? 0)
    }

    /// Ids of every seller.
    public func sellerIDs() throws -> [String] {
        try database.pool.read { db in try String.fetchAll(db, sql: "SELECT id FROM sellers ORDER BY id") }
    }

    /// The seller's currency (ISO 4217) and time zone.
    public func sellerSettings(_ id: String) throws -> (currency: String, timeZone: String)? {
        try database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT currency, timeZone FROM sellers WHERE id = ?", arguments: [id]).map { ($0[0], $0[1]) }
        }
    }

    // MARK: Snapshot

    /// Rebuilds the snapshot from the state tables, reporting to `snapshot.progress` (and stopping with `RebuildStopped` when
    /// it is asked to); marks the snapshot ready unless `markReady` is false (start-up marks it after loading fixtures).
    public func rebuildSnapshot(markReady: Bool = true) throws {
        let progress = snapshot.progress
        let loaded = try database.pool.read { db -> [(String, StateRows.LoadedStates, SellerCatalog, Int64, Date?)] in
            // One pass over every row gains nothing from a large page cache, and the pages it would keep (64 MiB at a million
            // SKUs) would stay in this reader for the life of the process: read through a small one, then put it back.
            let cacheSize = try Int.fetchOne(db, sql: "PRAGMA cache_size") ?? -2000
            try db.execute(sql: "PRAGMA cache_size = -2048")
            defer {
                try? db.execute(sql: "PRAGMA shrink_memory")
                try? db.execute(sql: "PRAGMA cache_size = \(cacheSize)")
            }
            progress.begin(total: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM skus") ?? 0)
            return try String.fetchAll(db, sql: "SELECT id FROM sellers").map { seller in
                let states = try StateRows.readStates(db, seller: seller, progress: progress)
                var catalog = try StateRows.readCatalog(db, seller: seller)
                catalog.holidays = try Self.sellerFixture(db, seller: seller)?.holidays.sorted() ?? []
                let last = try Row.fetchOne(
                    db, sql: "SELECT sequence, recordedAt FROM events WHERE seller = ? ORDER BY sequence DESC LIMIT 1", arguments: [seller]
                )
                return (seller, states, catalog, last?[0] ?? 0, (last?[1] as Double?).map(Date.init(timeIntervalSince1970:)))
            }
        }
        for (seller, states, catalog, last, at) in loaded {
            for (sku, reason) in states.quarantined.sorted(by: { $0.key < $1.key }) {
                logger.error("SKU quarantined at start-up", metadata: ["seller": "\(seller)", "sku": "\(sku)", "reason": "\(reason)"])
            }
            snapshot.ensureSeller(seller).load(shards: states.shards, catalog: catalog, lastSequence: last, lastRecordedAt: at,
                                               quarantined: states.quarantined)
        }
        try reloadConnections()
        if markReady { snapshot.markReady() }
    }

    /// Re-reads which connections receive pushes (after a connection is created, changed or deleted).
    public func reloadConnections() throws {
        let rows = try database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT seller, id, channel FROM connections WHERE pushEnabled = 1 ORDER BY seller, id")
        }
        var map: [String: [PushTarget]] = [:]
        for row in rows { map[row[0], default: []].append(PushTarget(id: row[1], channel: row[2])) }
        connections.withLock { $0 = map }
        connectionCache.withLock { $0.removeAll() }
    }

    // MARK: Commands

    /// Records one command durably (group-committed with concurrent ones) and answers only after the commit.
    public func submit(_ command: Command) async -> Result<CommandOutcome, LedgerError> {
        await submit([command])[0]
    }

    /// Records commands in order; each gets its own outcome. Concurrent callers share transactions (group commit).
    public func submit(_ commands: [Command]) async -> [Result<CommandOutcome, LedgerError>] {
        guard !commands.isEmpty else { return [] }
        let reply = OneShot<[Result<CommandOutcome, LedgerError>]>()
        let leads = queue.withLock { q -> Bool in
            q.pending.append(Pending(commands: commands, reply: reply))
            if q.draining { return false }
            q.draining = true
            return true
        }
        if leads { await drain() }
        return await reply.value
    }

    /// The leader commits batches until the queue is empty; followers just wait for their reply.
    private func drain() async {
        while true {
            let batch = queue.withLock { q -> [Pending]? in
                guard !q.pending.isEmpty else {
                    q.draining = false
                    return nil
                }
                var taken = 0
                var count = 0
                for p in q.pending {
                    if count > 0 && count + p.commands.count > maxBatch { break }
                    count += p.commands.count
                    taken += 1
                }
                let batch = Array(q.pending.prefix(taken))
                q.pending.removeFirst(taken)
                return batch
            }
            guard let batch else { return }
            let commands = batch.flatMap(\.commands)
            let results = await commit(commands)
            counters.withLock {
                $0.commits += 1
                $0.commands += commands.count
            }
            var offset = 0
            for p in batch {
                p.reply.fulfill(Array(results[offset..<(offset + p.commands.count)]))
                offset += p.commands.count
            }
        }
    }

    /// What one transaction changed, published to the snapshot after the commit.
    struct SellerChanges: Sendable {
        var nextSequence: Int64
        var states: [String: SKUState] = [:]
        var catalog: SellerCatalog?
        var events: [LedgerEvent] = []
    }

    private func commit(_ commands: [Command]) async -> [Result<CommandOutcome, LedgerError>] {
        let now = clock.now()
        let snapshot = self.snapshot
        let targets = connections.withLock { $0 }
        do {
            let (results, changes) = try await database.pool.write { db in
                try Self.apply(commands, db: db, now: now, snapshot: snapshot, targets: targets)
            }
            for (seller, change) in changes.sorted(by: { $0.key < $1.key }) {
                guard let sellerSnapshot = snapshot.seller(seller) else { continue }
                sellerSnapshot.publish(states: Array(change.states.values), catalog: change.catalog, events: change.events)
                snapshot.notify(change.events)
            }
            return results
        } catch let error as StateRows.ConsistencyError where commands.count > 1 {
            // The whole batch rolled back; commit each command alone so only the offending one fails.
            logger.error("ledger batch rolled back; retrying one by one", metadata: ["error": "\(error)"])
            var results: [Result<CommandOutcome, LedgerError>] = []
            for command in commands { results += await commit([command]) }
            return results
        } catch {
            logger.error("ledger commit failed", metadata: ["error": "\(error)"])
            return commands.map { _ in .failure(.storage("\(error)")) }
        }
    }

    private static func apply(
        _ commands: [Command], db: Database, now: Date, snapshot: Snapshot, targets: [String: [PushTarget]]
    ) throws -> ([Result<CommandOutcome, LedgerError>], [String: SellerChanges]) {
        let encoder = ShelfJSON.encoder()
        let decoder = ShelfJSON.decoder()
        var changes: [String: SellerChanges] = [:]
        var keysInBatch: [String: (hash: String?, outcome: CommandOutcome)] = [:]
        var results: [Result<CommandOutcome, LedgerError>] = []
        results.reserveCapacity(commands.count)
        for command in commands {
            guard let sellerSnapshot = snapshot.seller(command.seller) else {
                results.append(.failure(.unknownSeller(command.seller)))
                continue
            }
            // Idempotency: within this batch, then in the table.
            let batchKey = command.key.map { "\(command.seller)\u{0}\(command.source)\u{0}\($0)" }
            if let key = command.key, let batchKey {
                if let earlier = keysInBatch[batchKey] {
                    if let hash = command.requestHash, let earlierHash = earlier.hash, hash != earlierHash {
                        results.append(.failure(.idempotencyConflict(key: key)))
                    } else {
                        var outcome = earlier.outcome
                        outcome.status = .duplicate
                        results.append(.success(outcome))
                    }
                    continue
                }
                if let row = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT requestHash, outcome FROM idempotency WHERE seller = ? AND source = ? AND key = ?"),
                    arguments: [command.seller, command.source, key]
                ) {
                    let storedHash: String? = row[0]
                    if let hash = command.requestHash, let storedHash, hash != storedHash {
                        results.append(.failure(.idempotencyConflict(key: key)))
                    } else {
                        var outcome = try decoder.decode(CommandOutcome.self, from: Data((row[1] as String).utf8))
                        outcome.status = .duplicate
                        results.append(.success(outcome))
                    }
                    continue
                }
            }
            // Taken out of the dictionary while it is changed, so the arrays inside are not copied on every command.
            var change: SellerChanges
            if let existing = changes.removeValue(forKey: command.seller) {
                change = existing
            } else {
                let last = try Int64.fetchOne(
                    db, sql: "SELECT COALESCE(MAX(sequence), 0) FROM events WHERE seller = ?", arguments: [command.seller]
                ) ?? 0
                change = SellerChanges(nextSequence: last + 1)
            }
            let sku = command.draft.sku ?? command.draft.item?.sku
            if let sku, let reason = sellerSnapshot.quarantineReason(sku) {
                results.append(.failure(.refused(.invalid(field: "sku", reason: "is quarantined (\(reason)); repair or delete its stored rows first"))))
                changes[command.seller] = change
                continue
            }
            let current: SKUState? = sku.flatMap { change.states[$0] ?? sellerSnapshot.sku($0) }
            let catalog = change.catalog ?? sellerSnapshot.catalog
            let decision: Decision
            var orderHistory: [ShelfEvent] = []
            if Self.givesBackToOrder.contains(command.draft.type), command.draft.location == nil, let sku, let orderId = command.draft.orderId {
                orderHistory = try Self.orderEvents(db, seller: command.seller, sku: sku, orderId: orderId, decoder: decoder)
            }
            switch Inventory.decide(command.draft, state: current, catalog: catalog, now: now, orderHistory: orderHistory,
                                    newId: { UUID().uuidString.lowercased() }) {
            case .failure(let refusal):
                results.append(.failure(.refused(refusal)))
                changes[command.seller] = change
                continue
            case .success(let d):
                decision = d
            }
            var state = current
            var newCatalog = catalog
            var sequence = change.nextSequence
            var recorded: [LedgerEvent] = []
            for event in decision.events {
                if !newCatalog.apply(event) {
                    Inventory.apply(event, to: &state, sequence: sequence, recordedAt: now)
                }
                recorded.append(
                    LedgerEvent(seller: command.seller, sequence: sequence, source: command.source, externalId: command.key,
                                recordedAt: now, event: event)
                )
                sequence += 1
            }
            let outcome = CommandOutcome(
                status: .accepted, sequence: recorded[0].sequence, oversold: decision.oversold, available: state?.available(now: now),
                reservation: decision.reservation
            )
            for e in recorded {
                try db.cachedStatement(
                    sql: "INSERT INTO events (seller, sequence, type, sku, source, externalId, recordedAt, body) VALUES (?,?,?,?,?,?,?,?)"
                ).execute(arguments: [
                    e.seller, e.sequence, e.event.type.rawValue, e.event.sku, e.source, e.externalId,
                    e.recordedAt.timeIntervalSince1970, try FastJSON.event(e.event) ?? String(decoding: encoder.encode(e.event), as: UTF8.self),
                ])
            }
            if let state {
                try StateRows.write(db, seller: command.seller, old: current, new: state, promise: command.draft.type.isPromise)
                // Transactional outbox: one row per (seller, SKU) holding the latest sequence; the propagator fans it out to
                // every connection that lists the SKU, so a burst of events on one SKU coalesces into one pending push.
                if command.propagate, recorded.contains(where: { $0.event.type.affectsChannels }), !state.listings.isEmpty, !(targets[command.seller] ?? []).isEmpty {
                    try db.cachedStatement(
                        sql: "INSERT INTO outbox (seller, sku, sequence) VALUES (?,?,?) ON CONFLICT (seller, sku) DO UPDATE SET sequence = excluded.sequence"
                    ).execute(arguments: [command.seller, state.sku, sequence - 1])
                }
            }
            if newCatalog != catalog {
                try StateRows.write(db, seller: command.seller, old: catalog, new: newCatalog)
            }
            if let key = command.key {
                try db.cachedStatement(
                    sql: "INSERT INTO idempotency (seller, source, key, requestHash, sequence, outcome) VALUES (?,?,?,?,?,?)"
                ).execute(arguments: [
                    command.seller, command.source, key, command.requestHash, outcome.sequence,
                    try FastJSON.outcome(outcome) ?? String(decoding: encoder.encode(outcome), as: UTF8.self),
                ])
            }
            change.nextSequence = sequence
            if let state { change.states[state.sku] = state }
            if newCatalog != catalog { change.catalog = newCatalog }
            change.events.append(contentsOf: recorded)
            changes[command.seller] = change
            if let batchKey { keysInBatch[batchKey] = (command.requestHash, outcome) }
            results.append(.success(outcome))
        }
        return (results, changes)
    }
}

extension Ledger {
    /// Event types that give units back to the locations their order took them from (when they name no location).
    static let givesBackToOrder: Set<EventType> = [.orderCancelled, .orderFulfilled, .returnReceived]

    /// The recorded events of one order on one SKU that move its units (confirmed, cancelled, fulfilled, returned), in
    /// sequence order: read inside the writing transaction, so earlier commands of the same batch are included.
    static func orderEvents(_ db: Database, seller: String, sku: String, orderId: String, decoder: JSONDecoder) throws -> [ShelfEvent] {
        let bodies = try String.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT body FROM events INDEXED BY events_by_order
                    WHERE seller = ? AND sku = ? AND type IN ('order.confirmed', 'order.cancelled', 'order.fulfilled', 'return.received')
                        AND json_extract(body, '$.orderId') = ?
                    ORDER BY sequence
                    """
            ),
            arguments: [seller, sku, orderId]
        )
        return try bodies.map { try decoder.decode(ShelfEvent.self, from: Data($0.utf8)) }
    }
}

/// Counters of the ledger's group commit.
public struct LedgerStats: Sendable {
    public var commits = 0
    public var commands = 0
}

/// A value delivered once, awaited by one task.
final class OneShot<Value: Sendable>: Sendable {
    private enum State {
        case empty
        case waiting(CheckedContinuation<Value, Never>)
        case done(Value)
    }
    private let state = Mutex(State.empty)

    func fulfill(_ value: Value) {
        let waiter = state.withLock { s -> CheckedContinuation<Value, Never>? in
            if case .waiting(let c) = s {
                s = .done(value)
                return c
            }
            s = .done(value)
            return nil
        }
        waiter?.resume(returning: value)
    }

    var value: Value {
        get async {
            await withCheckedContinuation { c in
                let ready = state.withLock { s -> Value? in
                    if case .done(let v) = s { return v }
                    s = .waiting(c)
                    return nil
                }
                if let ready { c.resume(returning: ready) }
            }
        }
    }
}
