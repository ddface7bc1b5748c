import Foundation

/// One connection's pending pushes, coalesced to the latest change per SKU: however many changes a SKU gets while it waits
/// or while its push is in flight, it is pushed once more, with its value at that moment. A SKU is in flight at most once.
public struct PushCoalescer: Sendable {
    /// A SKU waiting to be pushed.
    public struct Entry: Sendable, Hashable {
        /// The latest change (ledger sequence) the push must carry at least.
        public var sequence: Int64
        /// Failed attempts so far (0 for a fresh change).
        public var attempts: Int
        /// Not before this instant (a retry's backoff, a 429's Retry-After).
        public var notBefore: Date
        /// A retry row for it is stored in the ledger (a delivery must clear it).
        public var stored: Bool
        /// When it started waiting (the connection's lag is the age of its oldest waiting change).
        public var since: Date

        public init(sequence: Int64, attempts: Int = 0, notBefore: Date = .distantPast, stored: Bool = false, since: Date) {
            self.sequence = sequence
            self.attempts = attempts
            self.notBefore = notBefore
            self.stored = stored
            self.since = since
        }
    }

    /// A SKU taken for a push.
    public struct Taken: Sendable, Hashable {
        public var sku: String
        public var entry: Entry
    }

    /// A waiting SKU's change: 16 bytes. What only a retry needs sits in `retries` (a channel failing for all of a large backlog
    /// is the rare case; a million fresh changes waiting per connection is not — they took 56 bytes each as whole entries).
    private struct Change {
        var sequence: Int64
        var since: Date
    }

    /// A waiting SKU's retry state, kept only when it differs from a fresh change's (no failures, no backoff, no stored row).
    private struct Retry {
        var attempts: Int
        var notBefore: Date
        var stored: Bool
    }

    private var waiting: [String: Change] = [:]
    /// Retry state of waiting SKUs (a subset of `waiting`'s keys).
    private var retries: [String: Retry] = [:]
    /// SKUs being pushed, with the instant each started waiting.
    private var inFlight: [String: Date] = [:]

    public init() {}

    private func entry(_ sku: String, _ change: Change) -> Entry {
        let retry = retries.isEmpty ? nil : retries[sku]
        return Entry(sequence: change.sequence, attempts: retry?.attempts ?? 0, notBefore: retry?.notBefore ?? .distantPast,
                     stored: retry?.stored ?? false, since: change.since)
    }

    private mutating func set(_ sku: String, _ entry: Entry) {
        waiting[sku] = Change(sequence: entry.sequence, since: entry.since)
        if entry.attempts != 0 || entry.notBefore != .distantPast || entry.stored {
            retries[sku] = Retry(attempts: entry.attempts, notBefore: entry.notBefore, stored: entry.stored)
        } else if !retries.isEmpty {
            retries.removeValue(forKey: sku)
        }
    }

    private mutating func remove(_ sku: String) {
        waiting.removeValue(forKey: sku)
        if !retries.isEmpty { retries.removeValue(forKey: sku) }
    }

    private func notBefore(_ sku: String) -> Date { retries.isEmpty ? .distantPast : retries[sku]?.notBefore ?? .distantPast }

    /// SKUs waiting (in flight not counted).
    public var depth: Int { waiting.count }
    /// SKUs being pushed now.
    public var inFlightCount: Int { inFlight.count }
    /// Waiting SKUs that failed at least once.
    public var retrying: Int { retries.values.reduce(0) { $0 + ($1.attempts > 0 || $1.stored ? 1 : 0) } }

    /// The SKU changed at `sequence`: it is pushed (again) with its latest value. A backoff it is in keeps running: a new change
    /// rides on the pending retry rather than hammering a failing channel.
    public mutating func mark(sku: String, sequence: Int64, now: Date) {
        if let change = waiting[sku] {
            if sequence > change.sequence { waiting[sku]!.sequence = sequence }
        } else {
            waiting[sku] = Change(sequence: sequence, since: now)
        }
    }

    /// A retry read back from the ledger (at start, or after a replay): merged with what is waiting.
    public mutating func restore(sku: String, sequence: Int64, attempts: Int, notBefore: Date, now: Date) {
        var entry = entry(sku) ?? Entry(sequence: sequence, since: now)
        entry.sequence = max(entry.sequence, sequence)
        entry.attempts = attempts
        entry.notBefore = notBefore
        entry.stored = true
        set(sku, entry)
    }

    /// Whether the SKU is waiting or in flight.
    public func isPending(_ sku: String) -> Bool { waiting[sku] != nil || inFlight[sku] != nil }

    /// When the oldest change waiting or in flight started waiting (nil when there is none).
    public var oldestSince: Date? {
        let waitingOldest = waiting.values.lazy.map(\.since).min()
        let flyingOldest = inFlight.values.min()
        switch (waitingOldest, flyingOldest) {
        case let (a?, b?): return min(a, b)
        case let (a, b): return a ?? b
        }
    }

    /// The entry waiting for `sku`, if any.
    public func entry(_ sku: String) -> Entry? { waiting[sku].map { entry(sku, $0) } }

    /// Takes up to `limit` SKUs that are due at `now`, not in flight, and `ready` (the snapshot has their change), in `order`
    /// when more are due than fit; they are in flight until `finish`.
    public mutating func take(now: Date, limit: Int, ready: (String, Entry) -> Bool,
                              order: (_ due: [Taken]) -> [Taken] = { $0 }) -> [Taken] {
        guard limit > 0 else { return [] }
        var due: [Taken] = []
        for (sku, change) in waiting where inFlight[sku] == nil {
            let entry = entry(sku, change)
            if entry.notBefore <= now && ready(sku, entry) { due.append(Taken(sku: sku, entry: entry)) }
        }
        if due.count > limit { due = Array(order(due).prefix(limit)) }
        for t in due {
            remove(t.sku)
            inFlight[t.sku] = t.entry.since
        }
        return due
    }

    /// The earliest instant a waiting SKU (not in flight) becomes due, if any waits for a later instant than `now`.
    public func nextDue(after now: Date) -> Date? {
        var next: Date?
        // Only a retry waits for a later instant (a fresh change is due at once).
        for (sku, retry) in retries where retry.notBefore > now && inFlight[sku] == nil {
            next = min(next ?? retry.notBefore, retry.notBefore)
        }
        return next
    }

    /// Whether a waiting SKU is due now (and not in flight).
    public func hasDue(now: Date) -> Bool {
        waiting.keys.contains { notBefore($0) <= now && inFlight[$0] == nil }
    }

    /// The push of a taken SKU was delivered: a change that arrived meanwhile stays waiting.
    public mutating func delivered(_ taken: Taken) {
        inFlight.removeValue(forKey: taken.sku)
    }

    /// The push of a taken SKU failed and will be retried at `at` with `attempts` failures behind it; a change that arrived
    /// meanwhile is merged in (its sequence), the backoff holds.
    public mutating func retry(_ taken: Taken, attempts: Int, at: Date) {
        inFlight.removeValue(forKey: taken.sku)
        var entry = taken.entry
        if let newer = waiting[taken.sku] { entry.sequence = max(entry.sequence, newer.sequence) }
        entry.attempts = attempts
        entry.notBefore = at
        entry.stored = true
        set(taken.sku, entry)
    }

    /// The push of a taken SKU was dead-lettered (or abandoned): a change that arrived meanwhile is pushed as a fresh one.
    public mutating func dropped(_ taken: Taken) {
        inFlight.removeValue(forKey: taken.sku)
    }

    /// A taken SKU goes back unsent (its push could not be built now, e.g. the snapshot changed under it).
    public mutating func putBack(_ taken: Taken) {
        inFlight.removeValue(forKey: taken.sku)
        var entry = taken.entry
        if let newer = waiting[taken.sku] { entry.sequence = max(entry.sequence, newer.sequence) }
        set(taken.sku, entry)
    }

    /// Forgets a waiting SKU (its push is not needed: not listed on this channel any more).
    public mutating func forget(_ sku: String) {
        remove(sku)
    }
}
