import Foundation
import ShelfConnectors
import ShelfCore

/// Everything the simulator knows, behind one actor: connections, displayed items, recorded pushes, faults, budgets,
/// orders and counters.
actor SimulatorState {
    /// A change a push asks for on one item.
    struct PushChange: Sendable {
        var externalId: String
        var quantity: Int?
        var price: Money?
        /// Compare-and-set base (Shopify `changeFromQuantity`); nil skips the check.
        var expectedQuantity: Int?
    }

    /// What happened to one `PushChange`.
    enum PushResult: Sendable, Equatable {
        case applied(SimItem, delta: Int)
        case notFound(String)
        case stale(externalId: String, current: Int)
    }

    /// Outcome of a storefront sale.
    enum SaleResult: Sendable {
        case sold(SimItem, SimOrder)
        case refused(available: Int)
        case unknownItem
    }

    let clock: any SimulatorClock
    private let fixtures: FixtureSet
    private var connectionsById: [String: SimConnection] = [:]
    private var itemsByConnection: [String: [String: SimItem]] = [:]
    private var recordedPushes: [RecordedPush] = []
    private var nextPushSeq = 1
    private var faults: [FaultRule] = []
    private var nextFaultId = 1
    private var buckets: [String: TokenBucket] = [:]
    private var ordersByConnection: [String: [String: SimOrder]] = [:]
    private var statsByConnection: [String: ConnectionStats] = [:]
    private var nextEventNumber = 1

    init(clock: any SimulatorClock, fixtures: FixtureSet) {
        self.clock = clock
        self.fixtures = fixtures
        (connectionsById, itemsByConnection) = Self.seeded(fixtures, now: clock.now())
    }

    /// The connections and items the fixtures describe.
    private static func seeded(_ fixtures: FixtureSet, now: Date) -> ([String: SimConnection], [String: [String: SimItem]]) {
        var connections: [String: SimConnection] = [:]
        var items: [String: [String: SimItem]] = [:]
        for connection in fixtures.connections { connections[connection.id] = connection }
        for seed in fixtures.items where connections[seed.connection] != nil && !seed.externalId.isEmpty {
            items[seed.connection, default: [:]][seed.externalId] = SimItem(
                connection: seed.connection,
                externalId: seed.externalId,
                sku: seed.sku,
                quantity: seed.quantity,
                price: seed.price,
                references: seed.references,
                updatedAt: Timestamp.format(now),
                version: 1
            )
        }
        return (connections, items)
    }

    /// Clears all state and reloads the fixtures the process started with.
    func reset() {
        connectionsById = [:]
        itemsByConnection = [:]
        recordedPushes = []
        nextPushSeq = 1
        faults = []
        buckets = [:]
        ordersByConnection = [:]
        statsByConnection = [:]
        (connectionsById, itemsByConnection) = Self.seeded(fixtures, now: clock.now())
    }

    // MARK: Connections

    func upsertConnection(_ connection: SimConnection) -> SimConnection {
        connectionsById[connection.id] = connection
        // A changed budget starts a fresh bucket.
        buckets = buckets.filter { !$0.key.hasPrefix(connection.id + "\u{1}") }
        return connection
    }

    func connection(_ id: String) -> SimConnection? { connectionsById[id] }

    func connections() -> [SimConnection] { connectionsById.values.sorted { $0.id < $1.id } }

    // MARK: Items

    func upsertItem(
        connection: String,
        externalId: String,
        sku: String,
        quantity: Int,
        price: Money?,
        references: [String: String]?
    ) throws(SimulatorError) -> SimItem {
        guard connectionsById[connection] != nil else { throw .unknownConnection(connection) }
        guard !externalId.isEmpty else { throw .invalid("externalId must not be empty") }
        let previous = itemsByConnection[connection]?[externalId]
        let item = SimItem(
            connection: connection,
            externalId: externalId,
            sku: sku,
            quantity: quantity,
            price: price,
            references: references ?? previous?.references,
            updatedAt: Timestamp.format(clock.now()),
            version: (previous?.version ?? 0) + 1
        )
        itemsByConnection[connection, default: [:]][externalId] = item
        return item
    }

    func item(_ connection: String, _ externalId: String) -> SimItem? {
        itemsByConnection[connection]?[externalId]
    }

    /// The connection's items in a stable order (by externalId) — the order every poll pages through.
    func items(_ connection: String) -> [SimItem] {
        (itemsByConnection[connection] ?? [:]).values.sorted { $0.externalId < $1.externalId }
    }

    /// The first item whose reference `name` equals `value` (Shopify variant ids).
    func item(_ connection: String, reference name: String, equals value: String) -> SimItem? {
        items(connection).first { $0.references?[name] == value }
    }

    // MARK: Pushes

    /// Applies `changes`. With `atomic`, any not-found or stale change refuses them all (Shopify mutations).
    func applyPush(
        connection: String,
        changes: [PushChange],
        atomic: Bool,
        receivedAt: Date,
        receivedAtNanos: UInt64
    ) -> [PushResult] {
        guard let kind = connectionsById[connection]?.kind else { return changes.map { .notFound($0.externalId) } }
        var results: [PushResult] = changes.map { change in
            guard let item = itemsByConnection[connection]?[change.externalId] else { return .notFound(change.externalId) }
            if let expected = change.expectedQuantity, expected != item.quantity {
                return .stale(externalId: change.externalId, current: item.quantity)
            }
            return .applied(item, delta: 0)
        }
        let failures = results.filter { if case .applied = $0 { return false } else { return true } }.count
        statsByConnection[connection, default: ConnectionStats()].pushesRejected += failures
        if atomic && failures > 0 {
            return results
        }
        let stamp = Timestamp.format(receivedAt)
        for (index, change) in changes.enumerated() {
            guard case .applied(var item, _) = results[index] else { continue }
            let delta = (change.quantity ?? item.quantity) - item.quantity
            if let quantity = change.quantity { item.quantity = quantity }
            if let price = change.price { item.price = price }
            item.version += 1
            item.updatedAt = stamp
            itemsByConnection[connection]![change.externalId] = item
            results[index] = .applied(item, delta: delta)
            recordedPushes.append(
                RecordedPush(
                    seq: nextPushSeq,
                    connection: connection,
                    kind: kind,
                    externalId: item.externalId,
                    sku: item.sku,
                    quantity: change.quantity,
                    price: change.price,
                    receivedAt: stamp,
                    receivedAtNanos: receivedAtNanos
                )
            )
            nextPushSeq += 1
            statsByConnection[connection, default: ConnectionStats()].pushes += 1
        }
        return results
    }

    func pushes(connection: String?, sku: String?, after: Int?) -> [RecordedPush] {
        recordedPushes.filter { push in
            (connection == nil || push.connection == connection) && (sku == nil || push.sku == sku) && push.seq > (after ?? 0)
        }
    }

    func clearPushes() {
        recordedPushes = []
    }

    // MARK: Faults

    func addFault(
        connection: String,
        mode: FaultRule.Mode,
        status: Int?,
        retryAfterSeconds: Int?,
        count: Int?,
        durationMs: Int?,
        operation: String?
    ) throws(SimulatorError) -> FaultRule {
        guard connectionsById[connection] != nil else { throw .unknownConnection(connection) }
        if let count, count <= 0 { throw .invalid("count must be positive") }
        if let operation, !["push", "poll", "order"].contains(operation) { throw .invalid("operation must be push, poll or order") }
        let rule = FaultRule(
            id: nextFaultId,
            connection: connection,
            mode: mode,
            status: status,
            retryAfterSeconds: retryAfterSeconds,
            count: count,
            durationMs: durationMs,
            operation: operation
        )
        nextFaultId += 1
        faults.append(rule)
        return rule
    }

    func listFaults() -> [FaultRule] { faults }

    func clearFaults(connection: String?) {
        faults.removeAll { connection == nil || $0.connection == connection }
    }

    /// The fault that hits this request, if any (consuming one of its `count`).
    func takeFault(connection: String, operation: String) -> FaultRule? {
        guard let index = faults.firstIndex(where: { $0.connection == connection && ($0.operation == nil || $0.operation == operation) }) else {
            return nil
        }
        let rule = faults[index]
        if let remaining = rule.count {
            if remaining <= 1 {
                faults.remove(at: index)
            } else {
                faults[index].count = remaining - 1
            }
        }
        statsByConnection[connection, default: ConnectionStats()].faultsInjected += 1
        return rule
    }

    // MARK: Rate budgets

    /// Spends one request of the connection's budget; returns Retry-After seconds when it is spent.
    func takeToken(connection: SimConnection, operation: String) -> (retryAfter: Int?, budget: RateBudget) {
        let (defaults, bucketName) = RateBudget.defaults(for: connection.kind, operation: operation)
        let budget = RateBudget(perSecond: connection.rateLimitPerSecond ?? defaults.perSecond, burst: connection.burst ?? defaults.burst)
        let key = connection.id + "\u{1}" + bucketName
        let now = clock.monotonicNanos()
        var bucket = buckets[key] ?? TokenBucket(rate: budget.perSecond, capacity: budget.burst, nowNanos: now)
        let retryAfter = bucket.take(nowNanos: now)
        buckets[key] = bucket
        if retryAfter != nil { statsByConnection[connection.id, default: ConnectionStats()].rateLimited += 1 }
        return (retryAfter, budget)
    }

    // MARK: Orders and sales

    func recordOrder(connection: String, order: SimOrder) {
        ordersByConnection[connection, default: [:]][order.orderId] = order
    }

    func order(_ connection: String, _ orderId: String) -> SimOrder? {
        ordersByConnection[connection]?[orderId]
    }

    /// Sets a displayed quantity because the channel itself says so (inventory webhooks).
    func setQuantity(connection: String, externalId: String, quantity: Int) {
        guard var item = itemsByConnection[connection]?[externalId] else { return }
        item.quantity = quantity
        item.version += 1
        item.updatedAt = Timestamp.format(clock.now())
        itemsByConnection[connection]![externalId] = item
    }

    /// A storefront sale: succeeds only if the displayed quantity covers it.
    func sell(connection: String, externalId: String, quantity: Int, wireOrderId: String) -> SaleResult {
        guard var item = itemsByConnection[connection]?[externalId] else { return .unknownItem }
        guard quantity > 0, item.quantity >= quantity else {
            statsByConnection[connection, default: ConnectionStats()].refused += 1
            statsByConnection[connection, default: ConnectionStats()].refusedUnits += max(quantity, 0)
            return .refused(available: item.quantity)
        }
        let now = clock.now()
        item.quantity -= quantity
        item.version += 1
        item.updatedAt = Timestamp.format(now)
        itemsByConnection[connection]![externalId] = item
        let order = SimOrder(
            orderId: wireOrderId,
            lines: [ChannelWebhookEvent.Line(sku: item.sku, externalId: item.externalId, quantity: quantity)],
            cancelled: false,
            createdAt: Timestamp.format(now),
            createdAtEpochSeconds: Timestamp.epochSeconds(now)
        )
        ordersByConnection[connection, default: [:]][wireOrderId] = order
        statsByConnection[connection, default: ConnectionStats()].sold += 1
        statsByConnection[connection, default: ConnectionStats()].soldUnits += quantity
        return .sold(item, order)
    }

    // MARK: Counters

    func count(_ connection: String, _ update: (inout ConnectionStats) -> Void) {
        update(&statsByConnection[connection, default: ConnectionStats()])
    }

    func stats() -> [String: ConnectionStats] {
        var result = statsByConnection
        for id in connectionsById.keys where result[id] == nil { result[id] = ConnectionStats() }
        return result
    }

    /// A fresh delivery id for a simulated webhook.
    func nextEventId(prefix: String) -> String {
        defer { nextEventNumber += 1 }
        return "\(prefix)-\(Timestamp.epochSeconds(clock.now()))-\(nextEventNumber)"
    }
}
