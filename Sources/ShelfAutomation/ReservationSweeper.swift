import Foundation
import Logging
import ServiceLifecycle
import ShelfCore
import ShelfLedger

/// Records `reservation.expired` for holds whose time is up (they already stopped counting; this makes it an audit fact and
/// tidies the stock rows). Runs every `interval` until graceful shutdown.
public struct ReservationSweeper: Service {
    let ledger: Ledger
    let interval: Duration
    let logger: Logger

    public init(ledger: Ledger, interval: Duration = .seconds(1), logger: Logger = Logger(label: "shelf.sweeper")) {
        self.ledger = ledger
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        // Nothing to do until start-up has built the snapshot; a shutdown during start-up ends the service at once.
        guard await ledger.snapshot.readyOrShutdown() else { return }
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                _ = await self.sweepOnce()
                try? await Task.sleep(for: self.interval)
            }
        }
    }

    /// Expires every due hold now; returns how many were recorded.
    @discardableResult
    public func sweepOnce() async -> Int {
        let now = ledger.clock.now()
        let due: [Ledger.DueHold]
        do {
            due = try await ledger.dueHolds(at: now)
        } catch {
            logger.error("sweep failed", metadata: ["error": "\(error)"])
            return 0
        }
        let commands = due.map { hold in
            Command(seller: hold.seller, source: "system", key: "expire:\(hold.id)", draft: ShelfEvent(
                type: .reservationExpired, sku: hold.sku, reservation: Reservation(id: hold.id, sku: hold.sku, location: "", qty: 0, expiresAt: now),
                occurredAt: now))
        }
        let results = await ledger.submit(commands)
        return results.filter { if case .success(let o) = $0 { o.status == .accepted } else { false } }.count
    }
}
