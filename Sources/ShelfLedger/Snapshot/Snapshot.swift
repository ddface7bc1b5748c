import Foundation
import ShelfCore
import Synchronization

/// The in-memory state of every seller, rebuilt from the ledger at start and updated after each commit.
public final class Snapshot: Sendable {
    private let sellers: Mutex<[String: SellerSnapshot]>
    private let ready = Atomic<Bool>(false)
    /// Committed events, in commit order, for the propagator, the stream, the rule engine and the monitors.
    public let feed: ChangeFeed
    private let observers = Mutex<[@Sendable ([LedgerEvent]) -> Void]>([])

    /// Registers a cheap, non-blocking function called synchronously with each committed batch, right after the snapshot has it
    /// (sales velocity, channel pulses). Anything slow belongs on `feed`.
    public func observe(_ observer: @escaping @Sendable ([LedgerEvent]) -> Void) { observers.withLock { $0.append(observer) } }

    func notify(_ events: [LedgerEvent]) {
        guard !events.isEmpty else { return }
        for o in observers.withLock({ $0 }) { o(events) }
        feed.publish(events)
    }

    /// `feedCapacity`: events the change feed keeps in memory for subscribers a little behind (older ones are read back from
    /// the ledger).
    public init(feedCapacity: Int = 32_768) {
        sellers = Mutex([:])
        feed = ChangeFeed(capacity: feedCapacity)
    }

    /// The seller's snapshot, if the seller exists.
    public func seller(_ id: String) -> SellerSnapshot? { sellers.withLock { $0[id] } }

    /// Every seller id.
    public var sellerIDs: [String] { sellers.withLock { $0.keys.sorted() } }

    func ensureSeller(_ id: String) -> SellerSnapshot {
        sellers.withLock { dict in
            if let s = dict[id] { return s }
            let s = SellerSnapshot(id: id)
            dict[id] = s
            return s
        }
    }

    /// True once the snapshot has been built from the ledger.
    public var isReady: Bool { ready.load(ordering: .acquiring) }

    /// How far the start-up rebuild has come.
    public let progress = RebuildProgress()
    private let readyWaiters = Mutex<[Int: CheckedContinuation<Void, any Error>]>([:])
    private let nextWaiter = Atomic<Int>(0)

    /// Marks the snapshot ready (built from the ledger, start-up data loaded) and wakes everything waiting for it.
    public func markReady() {
        ready.store(true, ordering: .releasing)
        for c in readyWaiters.withLock({ w in defer { w.removeAll() }; return Array(w.values) }) { c.resume() }
    }

    /// Returns once the snapshot is ready; throws `CancellationError` if the task is cancelled first (services wrap it in
    /// `cancelWhenGracefulShutdown` so a shutdown during start-up ends them at once).
    public func waitUntilReady() async throws {
        if isReady { return }
        let id = nextWaiter.add(1, ordering: .relaxed).newValue
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                let now = readyWaiters.withLock { w -> Bool in
                    if isReady || Task.isCancelled { return true }
                    w[id] = c
                    return false
                }
                if now { Task.isCancelled && !isReady ? c.resume(throwing: CancellationError()) : c.resume() }
            }
        } onCancel: {
            readyWaiters.withLock { $0.removeValue(forKey: id) }?.resume(throwing: CancellationError())
        }
    }
}
