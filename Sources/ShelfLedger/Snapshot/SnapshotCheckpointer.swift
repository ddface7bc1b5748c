import Foundation
import Logging
import ServiceLifecycle
import ShelfCore
import Synchronization

/// Loads the snapshot from a checkpoint file when it is intact and describes this database, and writes checkpoints: after a
/// rebuild, in the background as events accumulate (`Policy`), and at shutdown. A checkpoint is never trusted blindly: a
/// damaged, unknown or stale one is logged in one line and the snapshot is rebuilt from the ledger instead.
public final class SnapshotCheckpointer: Sendable {
    /// When the background writer takes a new checkpoint.
    public struct Policy: Sendable {
        /// Events applied since the last checkpoint that make the next one due.
        public var events: Int64
        /// Time after which any applied event makes the next one due.
        public var interval: Duration
        /// Least time between two background checkpoints (bounds their cost under heavy ingest).
        public var spacing: Duration
        /// How often the writer looks.
        public var check: Duration
        /// Events since the last checkpoint that make shutdown write one (fewer are caught up at the next start in less time
        /// than a write of a large snapshot takes, which would hold up the shutdown).
        public var atShutdown: Int64

        /// Most of one core the background writer takes: after a write of d seconds the next waits at least
        /// d × (1 − share) / share (at a million SKUs a write takes tens of seconds).
        public var share: Double

        public init(events: Int64 = 200_000, interval: Duration = .seconds(600), spacing: Duration = .seconds(60), check: Duration = .seconds(5),
                    atShutdown: Int64 = 10_000, share: Double = 0.1) {
            self.share = min(1, max(0.01, share))
            self.events = events
            self.interval = interval
            self.spacing = spacing
            self.check = check
            self.atShutdown = atShutdown
        }
    }

    /// How the snapshot was loaded.
    public enum LoadOutcome: Sendable, Equatable {
        /// From the checkpoint: SKUs it held, and events applied after it.
        case checkpoint(skus: Int, caughtUp: Int)
        /// By a full rebuild from the ledger, with the reason the checkpoint was not used.
        case rebuilt(SnapshotCheckpointError)
    }

    /// What one write produced.
    public struct Written: Sendable {
        public var bytes: Int
        public var skus: Int
        public var seconds: Double
    }

    public let path: String
    public let policy: Policy
    let ledger: Ledger
    let logger: Logger
    let state = Mutex(State())

    struct State {
        /// Each seller's last sequence in the last checkpoint written or loaded.
        var written: [String: Int64] = [:]
        var writtenAt: ContinuousClock.Instant?
        /// How long the last write took.
        var lastWrite: Duration = .zero
        /// A rebuild happened (or the checkpoint lacked sellers): write one as soon as the snapshot is ready.
        var needed = true
        var writing = false
        var outcome: LoadOutcome?
    }

    /// How the last `load()` went (nil before one).
    public var lastOutcome: LoadOutcome? { state.withLock { $0.outcome } }

    public init(path: String, ledger: Ledger, policy: Policy = Policy(), logger: Logger = Logger(label: "shelf.checkpoint")) {
        self.path = path
        self.ledger = ledger
        self.policy = policy
        self.logger = logger
    }

    // MARK: Loading

    /// Fills the snapshot (without marking it ready): from the checkpoint, caught up from the ledger, when it is intact and not
    /// stale; otherwise by a full rebuild. Throws `RebuildStopped` when `snapshot.progress.stop()` is called meanwhile.
    @discardableResult
    public func load() async throws -> LoadOutcome {
        do {
            let outcome = try await loadCheckpoint()
            logger.info("snapshot loaded from checkpoint", metadata: ["path": "\(path)", "skus": "\(outcome.skus)", "caughtUp": "\(outcome.caughtUp)"])
            let loaded = LoadOutcome.checkpoint(skus: outcome.skus, caughtUp: outcome.caughtUp)
            state.withLock { $0.outcome = loaded }
            return loaded
        } catch let stop as RebuildStopped {
            throw stop
        } catch {
            let reason = error as? SnapshotCheckpointError ?? .malformed("\(error)")
            if reason == .missing {
                logger.info("no snapshot checkpoint at \(path); rebuilding the snapshot from the ledger")
            } else {
                logger.warning("snapshot checkpoint \(path) refused: \(reason); rebuilding the snapshot from the ledger")
            }
            try await ledger.rebuildSnapshot(markReady: false)
            state.withLock {
                $0.needed = true
                $0.outcome = .rebuilt(reason)
            }
            return .rebuilt(reason)
        }
    }

    /// Reads, checks and installs the checkpoint, then catches every seller up; throws `SnapshotCheckpointError` when it cannot
    /// be used (the snapshot is then left for a rebuild to overwrite).
    private func loadCheckpoint() async throws -> (skus: Int, caughtUp: Int) {
        guard FileManager.default.fileExists(atPath: path) else { throw SnapshotCheckpointError.missing }
        let (path, progress, ledger) = (self.path, ledger.snapshot.progress, ledger)
        let sellers = try await Self.onThread {
            try SnapshotCheckpoint.read(path, begin: { progress.begin(total: $0) }, advance: { progress.advance(by: $0) },
                                        stopped: { if progress.isStopped { throw RebuildStopped() } })
        }
        // Stale: each seller must exist, and the event at its last sequence must be the one the checkpoint saw.
        let known = Set(try await ledger.sellerIDs())
        for seller in sellers {
            guard known.contains(seller.id) else { throw SnapshotCheckpointError.stale("seller \(seller.id) is not in the database") }
            guard seller.lastSequence > 0 else { continue }
            let at = try await ledger.store.events(seller: seller.id, after: seller.lastSequence - 1, limit: 1).first
            guard let at, at.sequence == seller.lastSequence else {
                throw SnapshotCheckpointError.stale("seller \(seller.id) has no event \(seller.lastSequence) in the database")
            }
            guard try SnapshotCheckpoint.eventDigest(at) == seller.lastEvent else {
                throw SnapshotCheckpointError.stale("event \(seller.lastSequence) of seller \(seller.id) is not the one it was taken after")
            }
        }
        // Install, rebuild the sellers it lacks, and catch up.
        for seller in sellers {
            // Holidays are kept in the seller's profile, not in events: read as they are now.
            let holidays = try await ledger.sellerFixture(seller.id)?.holidays.sorted() ?? []
            var catalog = seller.catalog
            catalog.holidays = holidays
            ledger.snapshot.ensureSeller(seller.id).load(shards: seller.shards, catalog: catalog, lastSequence: seller.lastSequence,
                                                         lastRecordedAt: seller.lastRecordedAt)
        }
        let lacking = known.subtracting(sellers.map(\.id))
        if !lacking.isEmpty { try await ledger.rebuildSnapshot(markReady: false, only: lacking) } else { try await ledger.reloadConnections() }
        var caughtUp = 0
        for seller in sellers {
            let before = ledger.snapshot.seller(seller.id)?.lastSequence ?? 0
            try await ledger.catchUp(seller: seller.id, notify: false)
            caughtUp += Int((ledger.snapshot.seller(seller.id)?.lastSequence ?? 0) - before)
        }
        // SKU rows changed outside the ledger (a repair, a copy) do not show in its events: the counts would then differ.
        let counts = try await ledger.stores.state.skuCounts()
        for seller in sellers {
            let held = ledger.snapshot.seller(seller.id)?.count ?? 0
            guard held == counts[seller.id] ?? 0 else {
                throw SnapshotCheckpointError.stale("seller \(seller.id) has \(counts[seller.id] ?? 0) SKUs in the database, \(held) after the checkpoint")
            }
        }
        state.withLock { s in
            s.written = Dictionary(uniqueKeysWithValues: sellers.map { ($0.id, $0.lastSequence) })
            s.writtenAt = .now
            s.needed = sellers.count != known.count
        }
        return (sellers.reduce(0) { $0 + $1.count }, caughtUp)
    }

    // MARK: Writing

    /// Writes a checkpoint of the snapshot as it is now (when it is ready). Sellers with quarantined SKUs are left out (their
    /// rows are read again at the next start, in case they were repaired).
    @discardableResult
    public func write() async throws -> Written? {
        let snapshot = ledger.snapshot
        guard snapshot.isReady else { return nil }
        guard state.withLock({ s -> Bool in
            if s.writing { return false }
            s.writing = true
            return true
        }) else { return nil }
        defer { state.withLock { $0.writing = false } }
        let started = ContinuousClock.now
        var views: [SnapshotCheckpoint.SellerView] = []
        for id in snapshot.sellerIDs {
            guard let seller = snapshot.seller(id), var view = seller.checkpointView() else { continue }
            if view.lastSequence > 0 {
                guard let at = try await ledger.store.events(seller: id, after: view.lastSequence - 1, limit: 1).first,
                      at.sequence == view.lastSequence else { continue }
                view.lastEvent = try SnapshotCheckpoint.eventDigest(at)
            }
            views.append(view)
        }
        let (path, taken) = (self.path, views)
        let bytes = try await Self.onThread { try SnapshotCheckpoint.write(taken, to: path) }
        let written = Written(bytes: bytes, skus: views.reduce(0) { $0 + $1.count }, seconds: Double((ContinuousClock.now - started) / .milliseconds(1)) / 1000)
        state.withLock { s in
            s.written = Dictionary(uniqueKeysWithValues: views.map { ($0.id, $0.lastSequence) })
            s.writtenAt = .now
            s.lastWrite = .now - started
            s.needed = false
        }
        logger.info("snapshot checkpoint written", metadata: ["path": "\(path)", "bytes": "\(bytes)", "skus": "\(written.skus)",
                                                               "seconds": "\(written.seconds)"])
        return written
    }

    /// Events applied since the last checkpoint (or load), over every seller.
    public var eventsSinceCheckpoint: Int64 {
        let written = state.withLock { $0.written }
        return ledger.snapshot.sellerIDs.reduce(0) { total, id in
            total + max(0, (ledger.snapshot.seller(id)?.lastSequence ?? 0) - (written[id] ?? 0))
        }
    }

    /// True when the policy asks for a checkpoint now.
    func isDue(now: ContinuousClock.Instant = .now) -> Bool {
        let (needed, at, took) = state.withLock { ($0.needed, $0.writtenAt, $0.lastWrite) }
        if needed { return true }
        if let at, now - at < max(policy.spacing, took * ((1 - policy.share) / policy.share)) { return false }
        let events = eventsSinceCheckpoint
        guard events > 0 else { return false }
        return events >= policy.events || at.map { now - $0 >= policy.interval } ?? true
    }

    /// Runs blocking work (file and SQLite reads, decoding) on its own thread, never on the cooperative pool.
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
            Thread {
                do { c.resume(returning: try body()) } catch { c.resume(throwing: error) }
            }.start()
        }
    }
}

/// Keeps the checkpoint fresh while the server runs (`SnapshotCheckpointer.Policy`) and writes a last one at shutdown, once
/// the snapshot is ready, when there is none yet or `Policy.atShutdown` events came after it (a shutdown during start-up
/// writes nothing).
public struct SnapshotCheckpointService: Service {
    let checkpointer: SnapshotCheckpointer

    public init(_ checkpointer: SnapshotCheckpointer) { self.checkpointer = checkpointer }

    public func run() async throws {
        guard await checkpointer.ledger.snapshot.readyOrShutdown() else { return }
        let checkpointer = self.checkpointer
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                if checkpointer.isDue() { await checkpointer.writeLogged() }
                try await Task.sleep(for: checkpointer.policy.check)
            }
        }
        // Detached: the last write finishes even when the group is cancelled rather than shut down gracefully.
        if checkpointer.state.withLock({ $0.needed }) || checkpointer.eventsSinceCheckpoint >= max(1, checkpointer.policy.atShutdown) {
            await Task.detached { await checkpointer.writeLogged() }.value
        }
    }
}

extension SnapshotCheckpointer {
    /// `write()`, logging a failure (the previous checkpoint, if any, stays as it was).
    func writeLogged() async {
        do {
            try await write()
        } catch {
            logger.error("snapshot checkpoint not written", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }
}

extension SellerSnapshot {
    /// A view to checkpoint: the catalog and last sequence first, then every shard's states (each copied under its lock,
    /// which shares the storage until the writer changes it). A SKU changed in between carries a later `lastSequence` than
    /// the view's, and catching up skips the events it already holds, so the view loads to the same state as a rebuild.
    /// Nil for a seller with quarantined SKUs (left to be read from its rows).
    func checkpointView() -> SnapshotCheckpoint.SellerView? {
        let head = meta.withLock { m in (m.catalog, m.lastSequence, m.lastRecordedAt, m.quarantined.isEmpty) }
        guard head.3 else { return nil }
        let states = shards.map { shard in shard.withLock { $0.states } }
        return SnapshotCheckpoint.SellerView(id: id, lastSequence: head.1, lastRecordedAt: head.2, lastEvent: [], catalog: head.0, shards: states)
    }
}
