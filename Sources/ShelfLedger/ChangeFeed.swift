import Foundation
import ShelfCore
import Synchronization

/// The one stream of applied changes: every committed batch, in commit order (so in sequence order per seller), kept in a
/// bounded ring. Each subscriber reads at its own pace from its own position; one that falls behind the ring catches up from
/// the ledger by sequence — a slow subscriber never slows the writer or the others, never grows a buffer without bound, and
/// never misses a change. SSE, the rule engine, the propagator and the spike monitor all read it.
public final class ChangeFeed: Sendable {
    /// Reads a seller's events after a sequence from the ledger's store (for catch-up), at most `limit`: asynchronously, so a
    /// subscriber catching up never blocks a cooperative-pool thread on the database.
    public typealias LedgerReader = @Sendable (_ seller: String, _ after: Int64, _ limit: Int) async throws -> [LedgerEvent]

    struct State {
        /// Retained events; `ring[0]` is at offset `first`.
        var ring: [LedgerEvent] = []
        var head = 0
        var first: Int64 = 0
        var next: Int64 = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var poked: Set<Int> = []
        var live: Set<Int> = []
        var finished = false
    }

    /// Events retained in memory for subscribers that are a little behind.
    public let capacity: Int
    private let state = Mutex(State())
    private let ids = Atomic<Int>(0)
    private let reader = Mutex<LedgerReader?>(nil)
    private let positions = Mutex<(@Sendable () -> [String: Int64])?>(nil)

    public init(capacity: Int = 32_768) {
        self.capacity = max(1, capacity)
    }

    /// Connects the feed to the ledger it catches up from, and to the snapshot's per-seller positions (the starting point of a
    /// new subscriber that falls behind before it has seen a seller's event).
    func attach(reader: @escaping LedgerReader, positions: @escaping @Sendable () -> [String: Int64]) {
        self.reader.withLock { $0 = reader }
        self.positions.withLock { $0 = positions }
    }

    /// Appends a committed batch and wakes every waiting subscriber.
    func publish(_ events: [LedgerEvent]) {
        guard !events.isEmpty else { return }
        let woken = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            for e in events {
                if s.ring.count < capacity {
                    s.ring.append(e)
                } else {
                    s.ring[s.head] = e
                    s.head = (s.head + 1) % capacity
                    s.first += 1
                }
                s.next += 1
            }
            let w = Array(s.waiters.values)
            s.waiters.removeAll()
            return w
        }
        for c in woken { c.resume() }
    }

    /// Wakes every subscriber with an empty batch (work was queued outside the ledger, e.g. a push requested by hand).
    public func poke() {
        let woken = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.poked = s.live
            let w = Array(s.waiters.values)
            s.waiters.removeAll()
            return w
        }
        for c in woken { c.resume() }
    }

    /// Wakes one subscriber with an empty batch (its own heartbeat).
    fileprivate func poke(id: Int) {
        let woken = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard s.live.contains(id) else { return nil }
            s.poked.insert(id)
            return s.waiters.removeValue(forKey: id)
        }
        woken?.resume()
    }

    /// Ends every subscription (at shutdown): their iteration returns nil.
    public func finish() {
        let woken = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.finished = true
            let w = Array(s.waiters.values)
            s.waiters.removeAll()
            return w
        }
        for c in woken { c.resume() }
    }

    /// A subscription from now on: the next event committed after this call is its first.
    public func subscribe(maxBatch: Int = 1024) -> Subscription {
        let start = positions.withLock { $0 }?() ?? [:]
        let id = ids.add(1, ordering: .relaxed).newValue
        let cursor = state.withLock { s -> Int64 in
            s.live.insert(id)
            return s.next
        }
        return Subscription(feed: self, id: id, cursor: cursor, start: start, maxBatch: maxBatch)
    }

    /// Subscribers currently reading, and the offsets the ring holds (for metrics and tests).
    public var stats: (subscribers: Int, first: Int64, next: Int64) { state.withLock { ($0.live.count, $0.first, $0.next) } }

    enum Take {
        /// Events from `start` on; `skipped` when the subscriber had fallen behind the ring (`start` is then its oldest offset).
        case events([LedgerEvent], start: Int64, skipped: Bool)
        case poke
        case finished
        case wait
    }

    /// Events from `cursor` (at most `limit`, the cursor moved past them), or what the subscriber should do instead.
    fileprivate func take(id: Int, cursor: inout Int64, limit: Int) -> Take {
        state.withLock { s in
            if s.finished { return .finished }
            if cursor < s.first { return .events([], start: s.first, skipped: true) }
            if cursor < s.next {
                let start = cursor
                let count = Int(min(Int64(limit), s.next - cursor))
                var out: [LedgerEvent] = []
                out.reserveCapacity(count)
                for i in 0..<count { out.append(s.ring[(s.head + Int(cursor - s.first) + i) % s.ring.count]) }
                cursor += Int64(count)
                return .events(out, start: start, skipped: false)
            }
            if s.poked.remove(id) != nil { return .poke }
            return .wait
        }
    }

    /// Parks the subscriber until something is published, it is poked, or its task is cancelled.
    fileprivate func wait(id: Int, cursor: Int64) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { s -> Bool in
                    if s.finished || cursor < s.next || s.poked.contains(id) || !s.live.contains(id) { return true }
                    s.waiters[id] = c
                    return false
                }
                if ready { c.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }

    fileprivate func cancelled(id: Int) {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.live.remove(id)
            s.poked.remove(id)
            return s.waiters.removeValue(forKey: id)
        }
        waiter?.resume()
    }

    fileprivate func read(seller: String, after: Int64, limit: Int) async throws -> [LedgerEvent] {
        guard let reader = reader.withLock({ $0 }) else { return [] }
        return try await reader(seller, after, limit)
    }

    fileprivate var sellerPositions: [String: Int64] { positions.withLock { $0 }?() ?? [:] }

    /// One reader's position in the feed. Iterate it (`for await batch in subscription`) from one task; an empty batch is a
    /// wake-up (`poke`, `wake()`). Batches hold events in sequence order per seller with no gaps and no repeats.
    public final class Subscription: AsyncSequence, AsyncIteratorProtocol, Sendable {
        public typealias Element = [LedgerEvent]

        struct Position {
            var cursor: Int64
            /// Where each seller stood when the subscription began (catch-up starts there for a seller not yet seen).
            var start: [String: Int64]
            /// Last sequence delivered per seller.
            var delivered: [String: Int64] = [:]
            /// Sellers to read from the ledger before going on with the ring, one page per call.
            var catchingUp: Set<String> = []
            var done = false
        }

        let feed: ChangeFeed
        let id: Int
        let maxBatch: Int
        private let position: Mutex<Position>

        init(feed: ChangeFeed, id: Int, cursor: Int64, start: [String: Int64], maxBatch: Int) {
            self.feed = feed
            self.id = id
            self.maxBatch = Swift.max(1, maxBatch)
            position = Mutex(Position(cursor: cursor, start: start))
        }

        deinit { cancel() }

        public func makeAsyncIterator() -> Subscription { self }

        /// Stops reading: the feed forgets this subscriber and its iteration ends.
        public func cancel() {
            let first = position.withLock { p -> Bool in
                defer { p.done = true }
                return !p.done
            }
            if first { feed.cancelled(id: id) }
        }

        /// Makes the iteration return an empty batch soon (a heartbeat for the subscriber's own timer).
        public func wake() { feed.poke(id: id) }

        /// The next batch, nil once the feed is finished, the subscription cancelled or the task cancelled.
        public func next() async -> [LedgerEvent]? {
            while !Task.isCancelled {
                var p = position.withLock { $0 }
                if p.done { return nil }
                if let seller = p.catchingUp.min() {
                    let page = (try? await feed.read(seller: seller, after: p.delivered[seller] ?? p.start[seller] ?? 0, limit: maxBatch)) ?? []
                    if page.count < maxBatch { p.catchingUp.remove(seller) }
                    if let last = page.last { p.delivered[seller] = last.sequence }
                    position.withLock { $0 = p }
                    if !page.isEmpty { return page }
                    continue
                }
                switch feed.take(id: id, cursor: &p.cursor, limit: maxBatch) {
                case .finished:
                    return nil
                case .poke:
                    position.withLock { $0 = p }
                    return []
                case .wait:
                    await feed.wait(id: id, cursor: p.cursor)
                case .events(_, let start, true):
                    // Fell behind the ring: everything after what was delivered comes from the ledger, seller by seller.
                    p.cursor = start
                    p.catchingUp = Set(feed.sellerPositions.keys).union(p.delivered.keys)
                    position.withLock { $0 = p }
                case .events(let events, let start, false):
                    var out: [LedgerEvent] = []
                    for (i, e) in events.enumerated() {
                        let last = p.delivered[e.seller]
                        if let last, e.sequence <= last { continue }
                        if e.sequence > (last ?? p.start[e.seller] ?? 0) + 1, last != nil || p.start[e.seller] != nil {
                            // A hole for this seller: read it from the ledger, then go on from this event.
                            p.cursor = start + Int64(i)
                            p.catchingUp.insert(e.seller)
                            break
                        }
                        out.append(e)
                        p.delivered[e.seller] = e.sequence
                    }
                    position.withLock { $0 = p }
                    if !out.isEmpty { return out }
                }
            }
            return nil
        }
    }
}
