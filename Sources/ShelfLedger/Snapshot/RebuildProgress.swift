import ServiceLifecycle
import Synchronization

/// How far the start-up rebuild of the snapshot has come (read by `/readyz` and the progress display), and the switch that
/// stops it when the server is asked to shut down before it is ready.
public final class RebuildProgress: Sendable {
    private let totalSKUs = Atomic<Int>(0)
    private let loadedSKUs = Atomic<Int>(0)
    private let stopRequested = Atomic<Bool>(false)

    public init() {}

    /// SKUs the ledger holds (known once the rebuild has counted them; 0 before).
    public var total: Int { totalSKUs.load(ordering: .relaxed) }
    /// SKUs read into the snapshot so far.
    public var loaded: Int { loadedSKUs.load(ordering: .relaxed) }
    /// Whole percent done (100 when there is nothing to load).
    public var percent: Int {
        let t = total
        return t == 0 ? 100 : min(100, loaded * 100 / t)
    }

    /// Asks a running rebuild to stop at its next check (every few thousand rows).
    public func stop() { stopRequested.store(true, ordering: .relaxed) }
    /// True once `stop()` was called: a `SnapshotStateStore` reading rows checks it every few thousand.
    public var isStopped: Bool { stopRequested.load(ordering: .relaxed) }

    /// Starts counting: the store holds `total` SKUs (a `SnapshotStateStore` calls it once it has counted them).
    public func begin(total: Int) {
        totalSKUs.store(total, ordering: .relaxed)
        loadedSKUs.store(0, ordering: .relaxed)
    }

    /// `n` more SKUs were read.
    public func advance(by n: Int) { loadedSKUs.add(n, ordering: .relaxed) }
}

/// The rebuild was stopped before it finished (shutdown during start-up).
public struct RebuildStopped: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "the snapshot rebuild was stopped before it finished" }
}

extension Snapshot {
    /// For long-running services at the top of `run()`: waits until the snapshot is ready and answers true, or answers false
    /// when the server shuts down (or the task is cancelled) first — the service then returns at once.
    public func readyOrShutdown() async -> Bool {
        do {
            try await cancelWhenGracefulShutdown { try await self.waitUntilReady() }
            return true
        } catch {
            return false
        }
    }
}
