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
    /// Thresholds; each seller may set its own (`PUT /v1/settings/spikes`), the server's default applies otherwise.
    public struct Policy: Sendable, Codable, Hashable {
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

        enum CodingKeys: String, CodingKey {
            case window, baseline, factor, multiplier, minimumUnits, baselineFloorPerHour
        }

        /// Fields left out keep their defaults.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Policy()
            window = try c.decodeIfPresent(TimeInterval.self, forKey: .window) ?? d.window
            baseline = try c.decodeIfPresent(TimeInterval.self, forKey: .baseline) ?? d.baseline
            factor = try c.decodeIfPresent(Double.self, forKey: .factor) ?? d.factor
            multiplier = try c.decodeIfPresent(Int.self, forKey: .multiplier) ?? d.multiplier
            minimumUnits = try c.decodeIfPresent(Int.self, forKey: .minimumUnits) ?? d.minimumUnits
            baselineFloorPerHour = try c.decodeIfPresent(Double.self, forKey: .baselineFloorPerHour) ?? d.baselineFloorPerHour
        }
    }

    let ledger: Ledger
    let velocity: SalesVelocity
    let policy: Policy
    let logger: Logger
    private let sellerPolicies = Mutex<[String: Policy]>([:])
    /// Subscribed at construction, so no order committed before `run()` is missed.
    private let events: ChangeFeed.Subscription

    public init(ledger: Ledger, velocity: SalesVelocity, policy: Policy = Policy(), logger: Logger = Logger(label: "shelf.spikes")) {
        self.ledger = ledger
        self.velocity = velocity
        self.policy = policy
        self.logger = logger
        events = ledger.snapshot.feed.subscribe()
    }

    public func run() async throws {
        // Nothing to do until start-up has built the snapshot; a shutdown during start-up ends the service at once.
        guard await ledger.snapshot.readyOrShutdown() else { return }
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
                // `try?`: a cancelled sleep must end this child quietly, never as an error that would fail the service group
                // (whichever child finishes first after the shutdown's cancellation is the one `group.next()` reports).
                while !Task.isCancelled && !Task.isShuttingDownGracefully {
                    try? await Task.sleep(for: .seconds(5))
                    if Task.isCancelled { break }
                    await self.checkActive()
                }
            }
            try await group.next()
            group.cancelAll()
        }
        }
    }

    /// The policy in force for a seller.
    public func policy(for seller: String) async -> Policy {
        if let cached = sellerPolicies.withLock({ $0[seller] }) { return cached }
        let stored = (try? await ledger.sellerSetting("spike-policy", seller: seller)).flatMap { $0 }
            .flatMap { try? ShelfJSON.decode(Policy.self, from: Data($0.utf8)) } ?? policy
        sellerPolicies.withLock { $0[seller] = stored }
        return stored
    }

    /// Forgets the seller's cached thresholds (another node stored new ones): the next use reads them again.
    public func policyChanged(seller: String) {
        sellerPolicies.withLock { $0[seller] = nil }
    }

    /// Stores a seller's own thresholds.
    public func setPolicy(_ p: Policy, for seller: String) async throws {
        let body = try ShelfJSON.string(p)
        try await ledger.saveSellerSetting("spike-policy", seller: seller, body: body)
        sellerPolicies.withLock { $0[seller] = p }
    }

    /// Recent and baseline rates (units per second) of a SKU at `now`.
    public func rates(seller: String, sku: String, now: Date) async -> (recent: Double, baseline: Double, recentUnits: Int) {
        let policy = await policy(for: seller)
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
        let policy = await policy(for: seller)
        let r = await rates(seller: seller, sku: sku, now: now)
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
            for sku in snapshot.spikingSKUs { await check(seller: seller, sku: sku) }
        }
    }
}
