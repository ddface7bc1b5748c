import Foundation
import ShelfCore
import Synchronization

/// The in-memory state of every seller, rebuilt from the ledger at start and updated after each commit.
public final class Snapshot: Sendable {
    private let sellers: Mutex<[String: SellerSnapshot]>
    private let ready = Atomic<Bool>(false)
    /// Committed events, broadcast to the propagator, the stream and the rules engine.
    public let bus = EventBus()
    private let observers = Mutex<[@Sendable ([LedgerEvent]) -> Void]>([])

    /// Registers a cheap, non-blocking function called synchronously with each committed batch, right after the snapshot has it
    /// (sales velocity, channel pulses). Anything slow belongs on `bus`.
    public func observe(_ observer: @escaping @Sendable ([LedgerEvent]) -> Void) { observers.withLock { $0.append(observer) } }

    func notify(_ events: [LedgerEvent]) {
        guard !events.isEmpty else { return }
        for o in observers.withLock({ $0 }) { o(events) }
        bus.publish(events)
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

/// Fan-out of committed events to in-process subscribers. A slow subscriber loses its oldest buffered batches
/// (and can catch up from the ledger); it never slows the writer.
public final class EventBus: Sendable {
    private let subscribers = Mutex<[Int: AsyncStream<[LedgerEvent]>.Continuation]>([:])
    private let nextID = Atomic<Int>(0)

    public init() {}

    /// A stream of committed event batches, in sequence order per seller, from now on.
    public func subscribe(buffer: Int = 4096) -> AsyncStream<[LedgerEvent]> {
        let id = nextID.add(1, ordering: .relaxed).newValue
        let (stream, continuation) = AsyncStream<[LedgerEvent]>.makeStream(bufferingPolicy: .bufferingNewest(buffer))
        continuation.onTermination = { [weak self] _ in self?.subscribers.withLock { _ = $0.removeValue(forKey: id) } }
        subscribers.withLock { $0[id] = continuation }
        return stream
    }

    func publish(_ events: [LedgerEvent]) {
        guard !events.isEmpty else { return }
        for c in subscribers.withLock({ Array($0.values) }) { c.yield(events) }
    }

    /// Wakes subscribers without new events (an empty batch), e.g. after work was queued outside the ledger.
    public func poke() {
        for c in subscribers.withLock({ Array($0.values) }) { c.yield([]) }
    }

    /// Ends every subscription (at shutdown).
    public func finish() {
        for c in subscribers.withLock({ Array($0.values) }) { c.finish() }
    }
}
