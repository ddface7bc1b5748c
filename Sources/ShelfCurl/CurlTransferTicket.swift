import Synchronization

/// The part of one submitted transfer that the submitting task shares with the curl thread: its id and a cancel flag.
final class CurlTransferTicket: Sendable {
    let id: UInt64
    private let cancelled = Atomic<Bool>(false)

    init(id: UInt64) {
        self.id = id
    }

    /// Set by the task's cancellation handler before it enqueues the cancel command.
    var isCancelled: Bool {
        cancelled.load(ordering: .acquiring)
    }

    func markCancelled() {
        cancelled.store(true, ordering: .releasing)
    }
}
