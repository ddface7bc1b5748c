import Synchronization

/// Runs rule actions off the evaluation path: one serial lane per seller (a seller's firings act in the order they fired),
/// lanes side by side, so a seller whose actions are slow (a reconciliation polling a sluggish channel) delays only itself.
final class ActionExecutor: Sendable {
    private struct Lanes {
        /// The last job queued per seller, and how many of that seller's jobs are queued or running.
        var tails: [String: (task: Task<Void, Never>, pending: Int)] = [:]
    }

    private let lanes = Mutex(Lanes())

    /// Jobs queued or running over every seller.
    var pending: Int { lanes.withLock { $0.tails.values.reduce(0) { $0 + $1.pending } } }

    /// Queues `job` behind the seller's earlier jobs; the returned task completes when it has run.
    @discardableResult
    func submit(seller: String, _ job: @escaping @Sendable () async -> Void) -> Task<Void, Never> {
        lanes.withLock { l in
            let previous = l.tails[seller]?.task
            let task = Task {
                await previous?.value
                await job()
                self.finished(seller: seller)
            }
            l.tails[seller] = (task, (l.tails[seller]?.pending ?? 0) + 1)
            return task
        }
    }

    private func finished(seller: String) {
        lanes.withLock { l in
            guard let tail = l.tails[seller] else { return }
            if tail.pending <= 1 { l.tails.removeValue(forKey: seller) } else { l.tails[seller] = (tail.task, tail.pending - 1) }
        }
    }

    /// Waits until every job queued so far has run.
    func drain() async {
        let tasks = lanes.withLock { $0.tails.values.map(\.task) }
        for task in tasks { await task.value }
    }
}
