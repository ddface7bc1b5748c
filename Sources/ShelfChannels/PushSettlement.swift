import Foundation
import Logging
import ShelfCore
import ShelfLedger
import Synchronization

/// Where the push workers hand what their pushes came to. Outcomes are written to the ledger's push queues in batches, one
/// transaction at a time and in the order they were handed in, by one drain task at a time (the store's async write: a
/// commit's fsync never blocks the cooperative pool or a worker). An outbox row goes once every push-enabled connection of its seller has settled the
/// SKU up to the row's sequence — delivered, scheduled for a retry, dead-lettered, or not listed on that channel — so a
/// crash at any point leaves every unsettled change in the outbox or the retry queue.
final class PushSettlement: Sendable {
    /// A push that was just dead-lettered, to record as a `sync.failed` fact.
    struct DeadLetterNotice: Sendable {
        var seller: String
        var connection: String
        var channel: String
        var sku: String
        var attempts: Int
        var error: String
    }

    private struct Batch {
        var settled: [PushQueue.Settled] = []
        var outbox: [OutboxRow] = []
        var failures: [DeadLetterNotice] = []
        var flushes: [CheckedContinuation<[DeadLetterNotice], Never>] = []
        var isEmpty: Bool { settled.isEmpty && outbox.isEmpty && failures.isEmpty && flushes.isEmpty }
    }

    private struct State {
        var batch = Batch()
        var scheduled = false
        /// Per `seller\0sku`: the sequence each connection has settled the SKU up to.
        var settledThrough: [String: [String: Int64]] = [:]
        /// The latest recording of dead letters (each waits for the one before).
        var recording: Task<Void, Never>?
    }

    let ledger: Ledger
    let logger: Logger
    /// The push-enabled connections of a seller now (the registry's live workers).
    let liveConnections: @Sendable (_ seller: String) -> Set<String>
    /// Records the dead letters as `sync.failed` facts (in the background unless a flush waits for them).
    let recordFailures: @Sendable ([DeadLetterNotice]) async -> Void
    private let state = Mutex(State())

    init(ledger: Ledger, logger: Logger, liveConnections: @escaping @Sendable (_ seller: String) -> Set<String>,
         recordFailures: @escaping @Sendable ([DeadLetterNotice]) async -> Void) {
        self.ledger = ledger
        self.logger = logger
        self.liveConnections = liveConnections
        self.recordFailures = recordFailures
    }

    /// One connection settled these SKUs (`outcomes` are what the push queues store: nothing for a plain first delivery or an
    /// SKU not listed on the channel). `skus` are every SKU it settled, with the sequence it settled up to.
    func settle(seller: String, connection: String, skus: [(sku: String, sequence: Int64)], outcomes: [PushQueue.Settled],
                failures: [DeadLetterNotice] = []) {
        let live = liveConnections(seller)
        let schedule = state.withLock { s -> Bool in
            for (sku, sequence) in skus {
                let key = "\(seller)\u{0}\(sku)"
                var marks = s.settledThrough[key] ?? [:]
                marks[connection] = max(marks[connection] ?? 0, sequence)
                // The row can go up to the lowest sequence every live connection has settled.
                var through = Int64.max
                for id in live {
                    guard let mark = marks[id] else { through = -1; break }
                    through = min(through, mark)
                }
                if through >= 0, through != Int64.max {
                    s.batch.outbox.append(OutboxRow(seller: seller, sku: sku, sequence: through))
                }
                // Marks ahead of the others are kept (they count for the later row); when all are level nothing is left to wait for.
                if through >= 0, through != Int64.max, live.allSatisfy({ marks[$0] == through }) {
                    s.settledThrough.removeValue(forKey: key)
                } else {
                    s.settledThrough[key] = marks
                }
            }
            s.batch.settled += outcomes
            s.batch.failures += failures
            return scheduleIfNeeded(&s)
        }
        if schedule { Task { await self.drain() } }
    }

    /// Writes everything handed in so far and waits for it; returns (and has recorded) the dead letters among it.
    @discardableResult
    func flush() async -> [DeadLetterNotice] {
        let failures = await withCheckedContinuation { (c: CheckedContinuation<[DeadLetterNotice], Never>) in
            let schedule = state.withLock { s -> Bool in
                s.batch.flushes.append(c)
                return scheduleIfNeeded(&s)
            }
            if schedule { Task { await self.drain() } }
        }
        return failures
    }

    /// Up to which sequence the connection has settled each of these SKUs whose outbox rows are still held for another
    /// connection (absent: not settled, or no row held).
    func settled(seller: String, connection: String, skus: [String]) -> [String: Int64] {
        state.withLock { s in
            var out: [String: Int64] = [:]
            for sku in skus {
                if let mark = s.settledThrough["\(seller)\u{0}\(sku)"]?[connection] { out[sku] = mark }
            }
            return out
        }
    }

    /// Forgets what a connection settled (it was removed or disabled): the rows wait for the remaining connections only, and
    /// rows it alone held up are re-examined on the next settlement of their SKU.
    func forget(seller: String, connection: String) {
        state.withLock { s in
            for key in s.settledThrough.keys where key.hasPrefix("\(seller)\u{0}") { s.settledThrough[key]?.removeValue(forKey: connection) }
        }
    }

    private func scheduleIfNeeded(_ s: inout State) -> Bool {
        guard !s.scheduled, !s.batch.isEmpty else { return false }
        s.scheduled = true
        return true
    }

    /// The one drain task: writes the batch, then the next one if more came meanwhile.
    private func drain() async {
        while true {
            let batch = state.withLock { s -> Batch? in
                if s.batch.isEmpty {
                    s.scheduled = false
                    return nil
                }
                defer { s.batch = Batch() }
                return s.batch
            }
            guard let batch else { return }
            if !batch.settled.isEmpty || !batch.outbox.isEmpty {
                do {
                    try await ledger.pushQueue.settle(batch.settled, outbox: batch.outbox, now: ledger.clock.now())
                    // A moment for the next batch to gather: fewer, larger transactions beside the ledger's own commits.
                    if batch.flushes.isEmpty { try? await Task.sleep(for: .milliseconds(5)) }
                } catch {
                    logger.error("push outcomes not recorded; the outbox keeps the changes for the next start",
                                 metadata: ["error": "\(error)", "outcomes": "\(batch.settled.count)"])
                }
            }
            guard !batch.failures.isEmpty || !batch.flushes.isEmpty else { continue }
            // Dead letters are recorded in the order their batches were written; a flush resumes after every earlier one.
            let (failures, flushes, record) = (batch.failures, batch.flushes, recordFailures)
            state.withLock { s in
                let previous = s.recording
                s.recording = Task {
                    await previous?.value
                    if !failures.isEmpty { await record(failures) }
                    for (i, c) in flushes.enumerated() { c.resume(returning: i == 0 ? failures : []) }
                }
            }
        }
    }
}
