import CCurl
import Synchronization

/// The lock-protected hand-off between submitting tasks and the curl thread, and the client's shutdown state.
final class CurlSubmissionQueue: Sendable {
    /// What the curl thread takes from the queue at the top of each loop iteration.
    struct Drained {
        var commands: [CurlCommand]
        var shutdownRequested: Bool
        /// After this instant the loop fails whatever is still in flight with `CurlError.shutdown`; nil lets it finish.
        var shutdownDeadline: ContinuousClock.Instant?
    }

    private struct State {
        var commands: [CurlCommand] = []
        var shutdownRequested = false
        var shutdownDeadline: ContinuousClock.Instant?
        /// False once the loop is about to call `curl_multi_cleanup`: the handle must not be woken any more.
        var wakeupsAllowed = true
        /// True once the loop has cleaned up and the thread is about to exit.
        var finished = false
        var finishWaiters: [CheckedContinuation<Void, Never>] = []
        var inFlight = 0
    }

    private let state = Mutex(State())
    private let nextTicketID = Atomic<UInt64>(1)
    private let multi: CurlMultiHandleReference

    init(multi: CurlMultiHandleReference) {
        self.multi = multi
    }

    // MARK: Submitting side (any task)

    func makeTicket() -> CurlTransferTicket {
        CurlTransferTicket(id: nextTicketID.wrappingAdd(1, ordering: .relaxed).oldValue)
    }

    /// Enqueues a transfer; returns false (and keeps the continuation unresumed) once shutdown was requested.
    func submit(_ request: CurlRequest, ticket: CurlTransferTicket, continuation: CheckedContinuation<CurlResponse, any Error>) -> Bool {
        state.withLock { state in
            guard !state.shutdownRequested else { return false }
            state.commands.append(.start(request, ticket, continuation))
            state.inFlight += 1
            wakeUp(state)
            return true
        }
    }

    /// Marks the ticket cancelled and asks the curl thread to drop the transfer.
    func cancel(_ ticket: CurlTransferTicket) {
        ticket.markCancelled()
        state.withLock { state in
            guard state.wakeupsAllowed else { return }
            state.commands.append(.cancel(ticket))
            wakeUp(state)
        }
    }

    /// Stops accepting transfers; a grace period bounds how long in-flight transfers may still run (the shortest wins).
    func requestShutdown(gracePeriod: Duration?) {
        state.withLock { state in
            state.shutdownRequested = true
            if let gracePeriod {
                let deadline = ContinuousClock.now.advanced(by: max(gracePeriod, .zero))
                state.shutdownDeadline = min(state.shutdownDeadline ?? deadline, deadline)
            }
            wakeUp(state)
        }
    }

    /// Returns once the curl thread has cleaned up the multi handle and is exiting.
    func waitUntilFinished() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let alreadyFinished = state.withLock { state in
                if state.finished { return true }
                state.finishWaiters.append(continuation)
                return false
            }
            if alreadyFinished { continuation.resume() }
        }
    }

    /// Transfers accepted and not yet completed (queued, running in libcurl, or waiting for a connection).
    var inFlightCount: Int {
        state.withLock { $0.inFlight }
    }

    var isShutdownRequested: Bool {
        state.withLock { $0.shutdownRequested }
    }

    // MARK: Curl thread side

    func drain() -> Drained {
        state.withLock { state in
            let commands = state.commands
            state.commands.removeAll(keepingCapacity: true)
            return Drained(commands: commands, shutdownRequested: state.shutdownRequested, shutdownDeadline: state.shutdownDeadline)
        }
    }

    /// Called by the curl thread after it resumed the continuation of a `.start` command.
    func transferFinished() {
        state.withLock { $0.inFlight -= 1 }
    }

    /// Forbids further wake-ups and returns the commands that arrived since the last drain.
    func loopWillCleanUp() -> [CurlCommand] {
        state.withLock { state in
            state.wakeupsAllowed = false
            let commands = state.commands
            state.commands.removeAll()
            return commands
        }
    }

    /// Marks the loop finished and releases everyone waiting in `waitUntilFinished`.
    func loopDidFinish() {
        let waiters = state.withLock { state in
            state.finished = true
            let waiters = state.finishWaiters
            state.finishWaiters.removeAll()
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Must be called with the lock held, so that `loopWillCleanUp` cannot run concurrently.
    private func wakeUp(_ state: borrowing State) {
        guard state.wakeupsAllowed else { return }
        _ = curl_multi_wakeup(multi.pointer)
    }
}
