import Foundation
import Logging
import ShelfCore
import Synchronization

/// The source of truth: turns commands into durable events (group commit), keeps the state tables and the outbox in the same
/// transaction, then applies the committed events to the snapshot in sequence order.
public final class Ledger: Sendable {
    /// Every store the ledger reads and writes (the embedded SQLite file or one PostgreSQL database).
    public let stores: ShelfStore
    /// Where commands are recorded and events read back from (`stores.ledger`).
    public var store: any LedgerStore { stores.ledger }
    /// The push queues (outbox, retries, dead letters): in the same store as `store`'s outbox rows.
    public var pushQueue: any PushQueueStore { stores.pushQueue }
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
        /// Sellers to bring up to the store (`follow`) instead of commands: run in turn with the commits, never beside one.
        var follow: [String] = []
    }

    /// A connection that receives pushes: where the outbox fans an SKU change out to.
    struct PushTarget: Sendable {
        var id: String
        var channel: String
    }

    /// A ledger on `stores` (all on one database: the outbox rows the ledger store writes are the ones the push queue reads).
    public init(stores: ShelfStore, snapshot: Snapshot? = nil, clock: any WallClock = SystemWallClock(),
                logger: Logger = Logger(label: "shelf.ledger"), maxBatch: Int = 512) {
        self.stores = stores
        let store = stores.ledger
        let snapshot = snapshot ?? Snapshot()
        self.snapshot = snapshot
        self.clock = clock
        self.logger = logger
        self.maxBatch = maxBatch
        snapshot.feed.attach(
            reader: { seller, after, limit in try await store.events(seller: seller, after: after, limit: limit) },
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
    public func ensureSeller(id: String, name: String, currency: String, timeZone: String) async throws {
        _ = try await stores.sellers.insert(SellerRow(id: id, name: name, currency: currency, timeZone: timeZone, createdAt: clock.now()),
                                            profile: nil)
        _ = snapshot.ensureSeller(id)
    }

    /// Creates a new seller (a tenant) with its business calendar and rule vocabulary; false when the id is taken (nothing
    /// changes then). The seller can be given tokens, locations, channels and a catalog at once.
    public func createSeller(_ seller: SellerFixture) async throws -> Bool {
        let body = try ShelfJSON.string(seller)
        let row = SellerRow(id: seller.id, name: seller.name, currency: seller.currency, timeZone: seller.timeZone, createdAt: clock.now())
        let created = try await stores.sellers.insert(row, profile: body)
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
    public func sellers() async throws -> [SellerSummary] {
        try await stores.sellers.sellers().map(summary)
    }

    /// One seller, or nil when there is none with this id (one keyed read).
    public func seller(id: String) async throws -> SellerSummary? {
        try await stores.sellers.seller(id: id).map(summary)
    }

    private func summary(_ row: SellerRow) -> SellerSummary {
        let live = snapshot.seller(row.id)
        return SellerSummary(id: row.id, name: row.name, currency: row.currency, timeZone: row.timeZone,
                             holidays: live?.catalog.holidays ?? [], createdAt: row.createdAt, skus: live?.count ?? 0)
    }

    /// Ids of every seller.
    public func sellerIDs() async throws -> [String] {
        try await stores.sellers.sellers().map(\.id)
    }

    /// The seller's currency (ISO 4217) and time zone.
    public func sellerSettings(_ id: String) async throws -> (currency: String, timeZone: String)? {
        try await stores.sellers.seller(id: id).map { ($0.currency, $0.timeZone) }
    }

    // MARK: Snapshot

    /// Rebuilds the snapshot from the state rows, reporting to `snapshot.progress` (and stopping with `RebuildStopped` when
    /// it is asked to); marks the snapshot ready unless `markReady` is false (start-up marks it after loading fixtures).
    /// `only`: rebuild these sellers alone (the others are already loaded, from a checkpoint).
    public func rebuildSnapshot(markReady: Bool = true, only: Set<String>? = nil) async throws {
        let loaded = try await stores.state.loadState(progress: snapshot.progress, sellers: only)
        for var state in loaded {
            let seller = state.seller
            state.catalog.holidays = try await sellerFixture(seller)?.holidays.sorted() ?? []
            for (sku, reason) in state.quarantined.sorted(by: { $0.key < $1.key }) {
                logger.error("SKU quarantined at start-up", metadata: ["seller": "\(seller)", "sku": "\(sku)", "reason": "\(reason)"])
            }
            snapshot.ensureSeller(seller).load(shards: state.shards, catalog: state.catalog, lastSequence: state.lastSequence,
                                               lastRecordedAt: state.lastRecordedAt, quarantined: state.quarantined)
        }
        try await reloadConnections()
        if markReady { snapshot.markReady() }
    }

    /// Re-reads which connections receive pushes (after a connection is created, changed or deleted).
    public func reloadConnections() async throws {
        var map: [String: [PushTarget]] = [:]
        for (seller, c) in try await stores.connections.pushEnabled() { map[seller, default: []].append(PushTarget(id: c.id, channel: c.channel)) }
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
        return await enqueue(Pending(commands: commands, reply: OneShot()))
    }

    /// Queues commands or a catch-up for the writer and waits for the answer; the first caller to find the writer idle
    /// drains the queue until its own answer is in, then hands what is left to a writer task of its own (a caller that
    /// drained until the queue ran dry would, under steady load, never get back to its work).
    private func enqueue(_ pending: Pending) async -> [Result<CommandOutcome, LedgerError>] {
        let leads = queue.withLock { q -> Bool in
            q.pending.append(pending)
            if q.draining { return false }
            q.draining = true
            return true
        }
        if leads { await drain(leader: pending.reply) }
        return await pending.reply.value
    }

    /// Commits batches until the queue is empty or, run by a caller (`leader`), until that caller's batch is answered;
    /// other callers just wait for their reply.
    private func drain(leader: OneShot<[Result<CommandOutcome, LedgerError>]>? = nil) async {
        while true {
            let batch = queue.withLock { q -> [Pending]? in
                guard !q.pending.isEmpty else {
                    q.draining = false
                    return nil
                }
                var taken = 0
                var count = 0
                // A catch-up goes alone, in its turn: commits before it are published before it reads, later ones after.
                if !q.pending[0].follow.isEmpty {
                    return [q.pending.removeFirst()]
                }
                for p in q.pending {
                    if !p.follow.isEmpty { break }
                    if count > 0 && count + p.commands.count > maxBatch { break }
                    count += p.commands.count
                    taken += 1
                }
                let batch = Array(q.pending.prefix(taken))
                q.pending.removeFirst(taken)
                return batch
            }
            guard let batch else { return }
            if batch.count == 1, !batch[0].follow.isEmpty {
                for seller in batch[0].follow {
                    do {
                        try await catchUp(seller: seller, creating: true)
                    } catch {
                        logger.error("ledger catch-up failed", metadata: ["seller": "\(seller)", "error": "\(error)"])
                    }
                }
                batch[0].reply.fulfill([])
                if batch[0].reply === leader { return handOff() }
                continue
            }
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
            // Let the callers just answered run before the next batch is taken: those that submit again at once (a busy
            // producer) join it instead of waiting a whole commit for the next one. Without this, steady producers split into
            // two halves that take turns and every commit (its fsync, its rewritten pages) serves half of them. A few yields at
            // most: it stops as soon as they are all back, or when a yield brought nobody new.
            let led = leader.map { l in batch.contains { $0.reply === l } } ?? false
            // (The leading caller is not coming back while it runs this, so it is not waited for; alone, it waits for nobody.)
            let expected = batch.count - (led ? 1 : 0)
            var waited = 0
            while expected > 0, waited < 8 {
                let queued = queue.withLock { $0.pending.count }
                if queued >= expected { break }
                await Task.yield()
                waited += 1
                if queued > 0, queue.withLock({ $0.pending.count }) == queued { break }
            }
            if led { return handOff() }
        }
    }

    /// The leading caller's answer is in: it goes back to its work, and a writer task takes over whatever is queued.
    private func handOff() {
        let more = queue.withLock { q -> Bool in
            if q.pending.isEmpty {
                q.draining = false
                return false
            }
            return true
        }
        if more { Task { await self.drain() } }
    }

    /// What one transaction changed, published to the snapshot after the commit.
    struct SellerChanges: Sendable {
        var nextSequence: Int64
        var states: [String: SKUState] = [:]
        var catalog: SellerCatalog?
        var events: [LedgerEvent] = []
    }

    /// A batch decided in memory: each command's result, what to write, and what to publish once it is written.
    struct Plan: Sendable {
        var results: [Result<CommandOutcome, LedgerError>]
        var writes: LedgerWriteSet
        var changes: [String: SellerChanges]
    }

    /// Times a batch is decided again after another writer appended to one of its sellers (or took one of its keys) first.
    /// From the third attempt on, each waits a random pause (full jitter, growing to 32 ms) so that nodes writing the same
    /// seller at once stop colliding.
    static let conflictAttempts = 40

    private func commit(_ commands: [Command]) async -> [Result<CommandOutcome, LedgerError>] {
        let snapshot = self.snapshot
        let targets = connections.withLock { $0 }
        var attempt = 0
        while true {
            attempt += 1
            do {
                // (a) what the decisions need from the store, in one read; (b) decide in memory; (c) one conditional write.
                let now = clock.now()
                let plan = try await store.commit(Self.readRequest(commands, snapshot: snapshot)) { read in
                    // A seller the store has events for beyond the snapshot (another node wrote them): nothing is written,
                    // the snapshot catches up below and the batch is decided again.
                    for (seller, last) in read.lastSequence.sorted(by: { $0.key < $1.key }) {
                        let known = snapshot.seller(seller)?.lastSequence ?? last
                        if last > known { throw LedgerStoreConflict.sequence(seller: seller, expected: known, found: last) }
                    }
                    let plan = try Self.decide(commands, read: read, now: now, snapshot: snapshot, targets: targets)
                    return (plan.writes, plan)
                }
                for (seller, change) in plan.changes.sorted(by: { $0.key < $1.key }) {
                    guard let sellerSnapshot = snapshot.seller(seller) else { continue }
                    sellerSnapshot.publish(states: Array(change.states.values), catalog: change.catalog, events: change.events)
                    snapshot.notify(change.events)
                }
                return plan.results
            } catch let conflict as LedgerStoreConflict {
                switch conflict {
                case .sequence(let seller, _, _) where attempt < Self.conflictAttempts:
                    // Another writer appended to this seller: bring the snapshot up to the store, then decide again.
                    logger.warning("ledger sequence moved under the batch; catching up and retrying", metadata: ["conflict": "\(conflict)"])
                    do {
                        try await catchUp(seller: seller)
                    } catch {
                        logger.error("ledger catch-up failed", metadata: ["error": "\(error)"])
                        return commands.map { _ in .failure(.storage("\(error)")) }
                    }
                    if attempt >= 2 {
                        try? await Task.sleep(for: .microseconds(Int.random(in: 0...(1000 << min(attempt - 2, 5)))))
                    }
                case .sequence where commands.count == 1:
                    logger.error("ledger commit kept colliding with other nodes", metadata: ["error": "\(conflict)", "attempts": "\(attempt)"])
                    return [.failure(.busy("\(conflict)"))]
                case .idempotencyKey where attempt < Self.conflictAttempts:
                    // Another writer recorded one of the keys: read again, and the command is answered as its duplicate.
                    continue
                default:
                    guard commands.count > 1 else {
                        logger.error("ledger commit failed", metadata: ["error": "\(conflict)"])
                        return [.failure(.storage("\(conflict)"))]
                    }
                    // The whole batch rolled back; commit each command alone so only the offending one fails.
                    logger.error("ledger batch rolled back; retrying one by one", metadata: ["error": "\(conflict)"])
                    var results: [Result<CommandOutcome, LedgerError>] = []
                    for command in commands { results += await commit([command]) }
                    return results
                }
            } catch {
                logger.error("ledger commit failed", metadata: ["error": "\(error)"])
                return commands.map { _ in .failure(.storage("\(error)")) }
            }
        }
    }

    /// Brings the sellers' snapshots up to the events the store has beyond them (appended by another node), in turn with
    /// this node's own commits; a seller the snapshot does not know yet is added and read from its first event.
    public func follow(sellers: [String]) async {
        guard !sellers.isEmpty else { return }
        _ = await enqueue(Pending(commands: [], reply: OneShot(), follow: sellers))
    }

    /// Applies the seller's events the store has beyond the snapshot (appended by another writer, or after a checkpoint) to
    /// the snapshot; `notify` false applies them before start-up is done, without telling the observers and the feed. With
    /// `creating`, a seller the snapshot lacks is added first (only a catch-up in turn with the commits may add one).
    func catchUp(seller: String, notify: Bool = true, creating: Bool = false) async throws {
        if creating, snapshot.seller(seller) == nil {
            // A seller another node created: its business calendar comes from its profile.
            let holidays = try await sellerFixture(seller)?.holidays ?? []
            snapshot.ensureSeller(seller).setHolidays(holidays)
        }
        guard let sellerSnapshot = snapshot.seller(seller) else { return }
        while true {
            let events = try await store.events(seller: seller, after: sellerSnapshot.lastSequence, limit: 1000)
            guard !events.isEmpty else { return }
            var states: [String: SKUState] = [:]
            var catalog = sellerSnapshot.catalog
            var catalogChanged = false
            for e in events {
                if catalog.apply(e.event) {
                    catalogChanged = true
                    continue
                }
                guard let sku = e.event.sku else { continue }
                var state = states[sku] ?? sellerSnapshot.sku(sku)
                // A state that already holds this event (a checkpoint taken while it was applied) does not take it twice.
                if let state, state.lastSequence >= e.sequence { continue }
                Inventory.apply(e.event, to: &state, sequence: e.sequence, recordedAt: e.recordedAt)
                states[sku] = state
            }
            sellerSnapshot.publish(states: Array(states.values), catalog: catalogChanged ? catalog : nil, events: events)
            if notify { snapshot.notify(events) }
        }
    }

    /// Event types that give units back to the locations their order took them from (when they name no location).
    static let givesBackToOrder: Set<EventType> = [.orderCancelled, .orderFulfilled, .returnReceived]

    /// The order whose history the command's decision needs, if any.
    static func orderKey(_ command: Command) -> OrderKey? {
        let draft = command.draft
        guard givesBackToOrder.contains(draft.type), draft.location == nil, let sku = draft.sku ?? draft.item?.sku,
              let orderId = draft.orderId else { return nil }
        return OrderKey(seller: command.seller, sku: sku, orderId: orderId)
    }

    static func readRequest(_ commands: [Command], snapshot: Snapshot) -> LedgerReadRequest {
        var request = LedgerReadRequest()
        for command in commands where snapshot.seller(command.seller) != nil {
            request.sellers.insert(command.seller)
            if let key = command.key { request.keys.insert(IdempotencyKey(seller: command.seller, source: command.source, key: key)) }
            if let order = orderKey(command) { request.orders.insert(order) }
        }
        return request
    }

    /// Decides every command against the snapshot and what the store answered, in memory: nothing here touches storage.
    static func decide(
        _ commands: [Command], read: LedgerReadResult, now: Date, snapshot: Snapshot, targets: [String: [PushTarget]]
    ) throws -> Plan {
        let encoder = ShelfJSON.encoder()
        let decoder = ShelfJSON.decoder()
        var changes: [String: SellerChanges] = [:]
        var writes = LedgerWriteSet()
        var keysInBatch: [IdempotencyKey: (hash: String?, outcome: CommandOutcome)] = [:]
        // Order histories as recorded plus what earlier commands of this batch add to them.
        var histories = read.orderHistory
        var results: [Result<CommandOutcome, LedgerError>] = []
        results.reserveCapacity(commands.count)
        for command in commands {
            guard let sellerSnapshot = snapshot.seller(command.seller) else {
                results.append(.failure(.unknownSeller(command.seller)))
                continue
            }
            // Idempotency: within this batch, then in the store.
            let idempotencyKey = command.key.map { IdempotencyKey(seller: command.seller, source: command.source, key: $0) }
            if let idempotencyKey {
                if let earlier = keysInBatch[idempotencyKey] {
                    if let hash = command.requestHash, let earlierHash = earlier.hash, hash != earlierHash {
                        results.append(.failure(.idempotencyConflict(key: idempotencyKey.key)))
                    } else {
                        var outcome = earlier.outcome
                        outcome.status = .duplicate
                        results.append(.success(outcome))
                    }
                    continue
                }
                if let stored = read.outcomes[idempotencyKey] {
                    if let hash = command.requestHash, let storedHash = stored.requestHash, hash != storedHash {
                        results.append(.failure(.idempotencyConflict(key: idempotencyKey.key)))
                    } else {
                        var outcome = try decoder.decode(CommandOutcome.self, from: Data(stored.outcome.utf8))
                        outcome.status = .duplicate
                        results.append(.success(outcome))
                    }
                    continue
                }
            }
            // Taken out of the dictionary while it is changed, so the arrays inside are not copied on every command.
            var change = changes.removeValue(forKey: command.seller)
                ?? SellerChanges(nextSequence: (read.lastSequence[command.seller] ?? 0) + 1)
            let sku = command.draft.sku ?? command.draft.item?.sku
            if let sku, let reason = sellerSnapshot.quarantineReason(sku) {
                results.append(.failure(.refused(.invalid(field: "sku", reason: "is quarantined (\(reason)); repair or delete its stored rows first"))))
                changes[command.seller] = change
                continue
            }
            let current: SKUState? = sku.flatMap { change.states[$0] ?? sellerSnapshot.sku($0) }
            let catalog = change.catalog ?? sellerSnapshot.catalog
            let order = orderKey(command)
            let decision: Decision
            switch Inventory.decide(command.draft, state: current, catalog: catalog, now: now, orderHistory: order.flatMap { histories[$0] } ?? [],
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
                writes.events.append(EncodedEvent(
                    seller: e.seller, sequence: e.sequence, type: e.event.type.rawValue, sku: e.event.sku, source: e.source,
                    externalId: e.externalId, recordedAt: e.recordedAt,
                    body: try FastJSON.event(e.event) ?? String(decoding: encoder.encode(e.event), as: UTF8.self), orderId: e.event.orderId
                ))
                if let orderId = e.event.orderId, let eventSKU = e.event.sku, OrderKey.historyTypes.contains(e.event.type) {
                    let key = OrderKey(seller: command.seller, sku: eventSKU, orderId: orderId)
                    if histories[key] != nil { histories[key]!.append(e.event) }
                }
            }
            if let state {
                writes.states.append(SKUStateChange(seller: command.seller, old: current, new: state, promise: command.draft.type.isPromise))
                // Transactional outbox: one row per (seller, SKU) holding the latest sequence; the propagator fans it out to
                // every connection that lists the SKU, so a burst of events on one SKU coalesces into one pending push.
                if command.propagate, recorded.contains(where: { $0.event.type.affectsChannels }), !state.listings.isEmpty, !(targets[command.seller] ?? []).isEmpty {
                    writes.outbox.append(OutboxRow(seller: command.seller, sku: state.sku, sequence: sequence - 1))
                }
            }
            if newCatalog != catalog {
                writes.catalogs.append(CatalogChange(seller: command.seller, old: catalog, new: newCatalog))
            }
            if let idempotencyKey {
                writes.idempotency.append(IdempotencyRow(
                    key: idempotencyKey, requestHash: command.requestHash, sequence: outcome.sequence,
                    outcome: try FastJSON.outcome(outcome) ?? String(decoding: encoder.encode(outcome), as: UTF8.self)
                ))
            }
            change.nextSequence = sequence
            if let state { change.states[state.sku] = state }
            if newCatalog != catalog { change.catalog = newCatalog }
            change.events.append(contentsOf: recorded)
            changes[command.seller] = change
            if let idempotencyKey { keysInBatch[idempotencyKey] = (command.requestHash, outcome) }
            results.append(.success(outcome))
        }
        for (seller, change) in changes.sorted(by: { $0.key < $1.key }) where !change.events.isEmpty {
            let first = change.events[0].sequence
            writes.sequences.append(SequenceAdvance(seller: seller, expected: first - 1, last: change.nextSequence - 1))
        }
        // Sellers whose every command was refused publish nothing.
        changes = changes.filter { !$0.value.events.isEmpty }
        return Plan(results: results, writes: writes, changes: changes)
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
