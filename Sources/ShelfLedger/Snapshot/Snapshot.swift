import Foundation
import ShelfCore
import Synchronization

/// The in-memory state of every seller, rebuilt from the ledger at start and updated after each commit.
public final class Snapshot: Sendable {
    private let sellers: Mutex<[String: SellerSnapshot]>
    private let ready = Atomic<Bool>(false)
    /// Committed events, in commit order, for the propagator, the stream, the rule engine and the monitors.
    public let feed = ChangeFeed()
    private let observers = Mutex<[@Sendable ([LedgerEvent]) -> Void]>([])

    /// Registers a cheap, non-blocking function called synchronously with each committed batch, right after the snapshot has it
    /// (sales velocity, channel pulses). Anything slow belongs on `feed`.
    public func observe(_ observer: @escaping @Sendable ([LedgerEvent]) -> Void) { observers.withLock { $0.append(observer) } }

    func notify(_ events: [LedgerEvent]) {
        guard !events.isEmpty else { return }
        for o in observers.withLock({ $0 }) { o(events) }
        feed.publish(events)
    }

    public init() { sellers = Mutex([:]) }

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

    func markReady() { ready.store(true, ordering: .releasing) }
}
