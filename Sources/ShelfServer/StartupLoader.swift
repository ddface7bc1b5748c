import Foundation
import Logging
import ServiceLifecycle
import ShelfLedger

/// The first service of `shelf serve`: builds the snapshot from the ledger (and loads the demo fixtures into an empty
/// database) while the HTTP server already answers `/livez` (200) and `/readyz` (503 with progress). Reports progress as a bar
/// on a terminal, as a log line every few seconds otherwise. A shutdown during the rebuild stops it within a few thousand rows.
public struct StartupLoader: Service {
    let env: ShelfEnvironment
    let logger: Logger
    /// Draw a progress bar on standard error (a terminal) instead of periodic log lines.
    let terminal: Bool

    public init(env: ShelfEnvironment, logger: Logger, terminal: Bool) {
        self.env = env
        self.logger = logger
        self.terminal = terminal
    }

    public func run() async throws {
        let started = ContinuousClock.now
        let progress = env.snapshot.progress
        let loaded: Bool = try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await report(progress) }
                defer { group.cancelAll() }
                do {
                    try await env.loadSnapshot()
                    return true
                } catch is RebuildStopped {
                    logger.notice("start-up stopped before the snapshot was ready", metadata: ["loaded": "\(progress.loaded)", "total": "\(progress.total)"])
                    return false
                }
            }
        } onGracefulShutdown: {
            progress.stop()
        }
        guard loaded else { return }
        if terminal { TerminalProgress.finish() }
        let skus = env.snapshot.sellerIDs.reduce(0) { $0 + (env.snapshot.seller($1)?.count ?? 0) }
        logger.info("snapshot ready", metadata: ["skus": "\(skus)", "ms": "\(Int((ContinuousClock.now - started) / .milliseconds(1)))"])
        // The work is done; stay in the group until shutdown (a service that returns would end the server).
        try? await gracefulShutdown()
    }

    /// Progress until the snapshot is ready (or the task is cancelled).
    func report(_ progress: RebuildProgress) async {
        var tick = 0
        while !Task.isCancelled, !env.snapshot.isReady {
            try? await Task.sleep(for: .milliseconds(200))
            tick += 1
            if terminal {
                TerminalProgress.draw("loading snapshot ", done: progress.loaded, total: progress.total, suffix: " SKUs")
            } else if tick % 25 == 0 {
                logger.info("loading snapshot", metadata: ["loaded": "\(progress.loaded)", "total": "\(progress.total)", "percent": "\(progress.percent)"])
            }
        }
    }
}
