import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import ShelfLedger
import Synchronization

/// Keeps this node's snapshot and caches up with what other nodes write to the same PostgreSQL database.
///
/// A dedicated connection LISTENs on `ClusterChange.channel`; each store write announces itself there in its transaction
/// (delivered at commit). An `events` change makes the ledger read that seller's new events by sequence (`Ledger.follow`);
/// every other kind goes to `onChange`. A notification only wakes the node: what it reads is decided by sequence, so a lost
/// notification costs latency, never a change. Every `sweepInterval` the ledger heads are compared with the snapshot and any
/// seller behind is followed; after the listener (re)connects, `.everything` is announced locally and the heads are swept.
public final class PostgresChangeTail: Service, Sendable {
    let configuration: PostgresConnection.Configuration
    let client: PostgresClient
    let ledger: Ledger
    let sweepInterval: Duration
    let onChange: @Sendable (ClusterChange) async -> Void
    let logger: Logger
    /// Sellers announced and not yet followed, and whether a follower task is draining them.
    private let pending = Mutex(PendingSellers())
    private let counters = Mutex(TailStats())

    struct PendingSellers {
        var sellers: Set<String> = []
        var draining = false
    }

    /// Notifications heard, sweeps that found a seller behind, reconnects (for tests and metrics).
    public struct TailStats: Sendable {
        public var notifications = 0
        public var sweptBehind = 0
        public var connects = 0
    }

    public var stats: TailStats { counters.withLock { $0 } }

    /// `configuration` opens the listening connection (one, outside `client`'s pool); `client` serves the sweeps.
    public init(configuration: PostgresConnection.Configuration, client: PostgresClient, ledger: Ledger,
                sweepInterval: Duration = .seconds(1), logger: Logger = Logger(label: "shelf.cluster.tail"),
                onChange: @escaping @Sendable (ClusterChange) async -> Void) {
        self.configuration = configuration
        self.client = client
        self.ledger = ledger
        self.sweepInterval = sweepInterval
        self.onChange = onChange
        self.logger = logger
    }

    public func run() async throws {
        // Before the snapshot is built there is nothing to bring up to date (the rebuild reads the store as it is).
        guard await ledger.snapshot.readyOrShutdown() else { return }
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.listen() }
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: self.sweepInterval)
                        guard !Task.isCancelled else { return }
                        await self.sweep()
                    }
                }
                await group.waitForAll()
            }
        }
    }

    /// Listens until cancelled, reconnecting (after a pause that grows to 2 s) whenever the connection is lost.
    private func listen() async {
        var pause: Duration = .milliseconds(100)
        var attempt = 0
        while !Task.isCancelled {
            attempt += 1
            let connects = stats.connects
            do {
                let connection = try await PostgresConnection.connect(configuration: configuration, id: attempt, logger: logger)
                do {
                    try await consume(connection)
                } catch {
                    try? await connection.close()
                    throw error
                }
                try? await connection.close()
            } catch {
                if Task.isCancelled { return }
                logger.warning("change listener lost its connection; reconnecting", metadata: ["error": "\(String(reflecting: error))"])
            }
            if Task.isCancelled { return }
            try? await Task.sleep(for: pause)
            pause = min(pause * 2, .seconds(2))
            // A connection that did listen starts the next round of pauses afresh.
            if stats.connects > connects { pause = .milliseconds(100) }
        }
    }

    /// Listens on `connection` until it fails or the task is cancelled.
    private func consume(_ connection: PostgresConnection) async throws {
        try await connection.listen(on: ClusterChange.channel) { notifications in
            counters.withLock { $0.connects += 1 }
            // Listening now: whatever was announced while nobody listened is read from the store.
            await onChange(.everything)
            await sweep()
            for try await notification in notifications {
                counters.withLock { $0.notifications += 1 }
                await handle(notification.payload)
            }
        }
    }

    func handle(_ payload: String) async {
        guard let change = ClusterChange(payload: payload) else {
            logger.debug("unknown change announced; ignored", metadata: ["payload": "\(payload)"])
            return
        }
        if case .events(let seller) = change {
            follow([seller])
        } else {
            await onChange(change)
        }
    }

    /// Compares every seller's head in the store with the snapshot and follows those behind.
    public func sweep() async {
        do {
            let rows = try await client.query("SELECT seller, lastSequence FROM ledger_heads", logger: logger)
            var behind: [String] = []
            for try await (seller, last) in rows.decode((String, Int64).self)
            where last > (ledger.snapshot.seller(seller)?.lastSequence ?? 0) {
                behind.append(seller)
            }
            guard !behind.isEmpty else { return }
            counters.withLock { $0.sweptBehind += behind.count }
            follow(behind)
        } catch {
            if !Task.isCancelled { logger.warning("ledger heads could not be read", metadata: ["error": "\(String(reflecting: error))"]) }
        }
    }

    /// Queues sellers to follow; one task drains the queue, so a burst of announcements for a seller costs one read.
    private func follow(_ sellers: [String]) {
        let start = pending.withLock { p -> Bool in
            p.sellers.formUnion(sellers)
            if p.draining { return false }
            p.draining = true
            return true
        }
        guard start else { return }
        Task {
            while true {
                let next = pending.withLock { p -> [String] in
                    let out = p.sellers.sorted()
                    p.sellers.removeAll()
                    if out.isEmpty { p.draining = false }
                    return out
                }
                if next.isEmpty { return }
                await ledger.follow(sellers: next)
            }
        }
    }
}

extension ClusterChange {
    /// Announces the changes on `connection`: inside a transaction they are delivered when it commits, and not at all when
    /// it rolls back.
    func announce(on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("SELECT pg_notify(\(Self.channel), \(payload))", logger: logger)
    }

    /// Announces several sellers' new events in one statement.
    static func announceEvents(_ sellers: [String], on connection: PostgresConnection, logger: Logger) async throws {
        guard !sellers.isEmpty else { return }
        let payloads = sellers.map { ClusterChange.events(seller: $0).payload }
        try await connection.query("SELECT pg_notify(\(channel), p) FROM UNNEST(\(payloads)::text[]) AS p", logger: logger)
    }
}
