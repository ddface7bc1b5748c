import Foundation
import Logging
import ServiceLifecycle
import ShelfCore
import ShelfLedger
import Synchronization

/// Watches order velocity per SKU against its baseline. When the recent rate reaches `factor` × baseline the SKU's safety
/// stock is multiplied (a `demand.spike_started` event, so every channel gets the tighter quantity and the reconciler polls
/// twice as often); when it falls back below half that, `demand.spike_ended` lifts it.
public final class DemandSpikeMonitor: Service, Sendable {
    /// Thresholds (one policy for every seller in this version).
    public struct Policy: Sendable {
        /// Recent window.
        public var window: TimeInterval = 300
        /// Baseline window (ending where the recent one starts).
        public var baseline: TimeInterval = 3600
        /// Spike when recent rate ≥ factor × baseline rate.
        public var factor: Double = 5
        /// Safety-stock multiplier during a spike.
        public var multiplier: Int = 2
        /// Fewest units in the recent window to call it a spike (a single sale of a slow mover is not one).
        public var minimumUnits: Int = 5
        /// Baseline floor in units per hour, so a SKU with no history needs a real burst.
        public var baselineFloorPerHour: Double = 1

        public init() {}
    }

    let ledger: Ledger
    let velocity: SalesVelocity
    let policy: Policy
    let logger: Logger
    /// Subscribed at construction, so no order committed before `run()` is missed.
    private let events: AsyncStream<[LedgerEvent]>

    public init(ledger: Ledger, velocity: SalesVelocity, policy: Policy = Policy(), logger: Logger = Logger(label: "shelf.spikes")) {
        self.ledger = ledger
        self.velocity = velocity
        self.policy = policy
        self.logger = logger
        events = ledger.snapshot.bus.subscribe(buffer: 1024)
    }

    public func run() async throws {
        let events = self.events
        try await cancelWhenGracefulShutdown {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await batch in events {
                    let touched = Set(batch.filter { $0.event.type == .orderConfirmed }.compactMap { e in e.event.sku.map { "\(e.seller)\u{0}\($0)" } })
                    for key in touched {
                        let parts = key.split(separator: "\u{0}").map(String.init)
                        await self.check(seller: parts[0], sku: parts[1])
                    }
                }
            }
            group.addTask {
                while !Task.isCancelled && !Task.isShuttingDownGracefully {
                    try await Task.sleep(for: .seconds(5))
                    await self.checkActive()
                }
            }
            try await group.next()
            group.cancelAll()
        }
        }
    }

    /// Recent and baseline rates (units per second) of a SKU at `now`.
    public func rates(seller: String, sku: String, now: Date) -> (recent: Double, baseline: Double, recentUnits: Int) {
        let recentUnits = velocity.units(seller: seller, sku: sku, within: policy.window, now: now)
        let olderUnits = velocity.units(seller: seller, sku: sku, within: policy.baseline + policy.window, now: now) - recentUnits
        let baseline = max(Double(olderUnits) / policy.baseline, policy.baselineFloorPerHour / 3600)
        return (Double(recentUnits) / policy.window, baseline, recentUnits)
    }

    /// Starts or ends the SKU's spike as its rates say; returns the event type recorded, if any.
    @discardableResult
    public func check(seller: String, sku: String) async -> EventType? {
        guard let state = ledger.snapshot.seller(seller)?.sku(sku) else { return nil }
        let now = ledger.clock.now()
        let r = rates(seller: seller, sku: sku, now: now)
        let spiking = state.spikeMultiplier > 1
        let type: EventType
        if !spiking, r.recentUnits >= policy.minimumUnits, r.recent >= policy.factor * r.baseline {
            type = .demandSpikeStarted
        } else if spiking, r.recent < policy.factor / 2 * r.baseline {
            type = .demandSpikeEnded
        } else {
            return nil
        }
        let note = String(format: "recent %.2f/h vs baseline %.2f/h", r.recent * 3600, r.baseline * 3600)
        let result = await ledger.submit(Command(seller: seller, source: "system", draft: ShelfEvent(
            type: type, sku: sku, spikeMultiplier: type == .demandSpikeStarted ? policy.multiplier : 1, note: note, occurredAt: now)))
        if case .failure(let error) = result { logger.warning("spike event refused", metadata: ["sku": "\(sku)", "error": "\(error)"]) }
        return type
    }

    /// Re-checks every SKU in a spike (so a spike ends even when no more orders come).
    public func checkActive() async {
        for seller in ledger.snapshot.sellerIDs {
            guard let snapshot = ledger.snapshot.seller(seller) else { continue }
            for state in snapshot.allStates() where state.spikeMultiplier > 1 { await check(seller: seller, sku: state.sku) }
        }
    }
}
