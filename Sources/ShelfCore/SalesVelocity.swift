import Foundation
import Synchronization

/// What the sales estimator knows about one SKU at an instant: each channel's decayed units sold, how long the SKU has
/// been watched, and the seller's learned reporting delay per channel. `rate(_:)` turns them into a Gamma posterior.
public struct DemandReading: Sendable {
    /// Units sold per channel, each weighted by `e^{−age/τ}` (channels that sold the SKU only).
    public var observed: [String: Double]
    /// Seconds the SKU has been watched (exposure origin to now).
    public var elapsed: TimeInterval
    /// Learned reporting delay per channel of the seller.
    public var delays: [String: ReportingDelay]
    /// The prior and decay of the posteriors.
    public var prior: DemandPrior

    public init(observed: [String: Double] = [:], elapsed: TimeInterval = 0, delays: [String: ReportingDelay] = [:],
                prior: DemandPrior = DemandPrior()) {
        self.observed = observed
        self.elapsed = elapsed
        self.delays = delays
        self.prior = prior
    }

    /// No demand at all (rate 0 everywhere).
    public static let none = DemandReading(prior: DemandPrior(units: 0))

    /// The channel's rate posterior as it stood `seconds` ago (0: now). Exposure ends the channel's mean reporting delay
    /// before that instant, because sales after it are mostly not reported yet: counting that time would bias the rate low.
    public func rate(_ channel: String, before seconds: TimeInterval = 0) -> DemandRate {
        let tau = prior.decay
        let back = max(0, seconds)
        let n = (observed[channel] ?? 0) * exp(min(50, back / tau))
        let delay = delays[channel]?.mean ?? 0
        let watched = max(0, elapsed - back)
        let exposure = prior.seconds + tau * max(0, exp(-min(delay, watched) / tau) - exp(-watched / tau))
        return DemandRate(shape: prior.units + n, exposure: exposure)
    }

    /// Sum of the posterior mean rates of the channels that sold the SKU, in units per second.
    public var totalRate: Double { observed.keys.reduce(0) { $0 + rate($1).mean } }
}

/// The one sales-velocity estimator (DESIGN §3, issue 14): per (seller, SKU, channel) a Gamma–Poisson rate posterior over
/// exponentially decayed counts, per (seller, channel) the learned reporting delay, and per (seller, SKU) the recent sales
/// for windowed counts. Confidence, the demand-spike monitor and the propagator's hot-first order all read it.
/// Reads and writes of one SKU take one of 16 shard locks, so a read is O(1) in the number of SKUs.
public final class SalesVelocity: Sendable {
    /// Prior and decay of every rate posterior.
    public let prior: DemandPrior
    /// How long individual sales are kept for windowed counts (spike baselines look further back than τ).
    public let retention: TimeInterval
    /// From when exposure is counted for a SKU first heard of without an origin of its own.
    private let origin: Mutex<[String: Date]>
    private let defaultOrigin: Date
    private let shards: [Shard]
    private let channelDelays = Mutex<[String: [String: ReportingDelay]]>([:])

    /// One lock over a slice of the SKUs (a class, because a `Mutex` cannot live in an array).
    final class Shard: Sendable {
        let map = Mutex<[SKUKey: SKUDemand]>([:])
    }

    struct SKUKey: Hashable {
        var seller: String
        var sku: String
    }

    struct Counts {
        /// Units weighted by e^{−(at − occurred)/τ}.
        var decayed: Double
        /// The instant `decayed` refers to.
        var at: Date
    }

    struct Sale {
        var at: Date
        var qty: Int
    }

    struct SKUDemand {
        /// When exposure starts for this SKU.
        var origin: Date
        var channels: [String: Counts] = [:]
        var recent: [Sale] = []
    }

    /// `origin` is when the estimator starts watching (exposure before it is not counted).
    public init(prior: DemandPrior = DemandPrior(), retention: TimeInterval = 3900, origin: Date) {
        self.prior = prior
        self.retention = max(prior.decay, retention)
        defaultOrigin = origin
        self.origin = Mutex([:])
        shards = (0..<16).map { _ in Shard() }
    }

    private func shard(_ key: SKUKey) -> Shard {
        shards[Int(UInt(bitPattern: key.hashValue) % UInt(shards.count))]
    }

    private func sellerOrigin(_ seller: String) -> Date { origin.withLock { $0[seller] } ?? defaultOrigin }

    /// Sets when the seller's history starts (at start-up: the start of the ledger read back, or the seller's first event).
    public func start(seller: String, at instant: Date) { origin.withLock { $0[seller] = instant } }

    /// Notes that a SKU exists since `at` (its exposure starts there if it was not known yet).
    public func known(seller: String, sku: String, since at: Date) {
        let key = SKUKey(seller: seller, sku: sku)
        let floor = sellerOrigin(seller)
        shard(key).map.withLock { map in
            if map[key] == nil { map[key] = SKUDemand(origin: max(floor, at)) }
        }
    }

    /// Records `qty` units sold on `channel` at `occurredAt`, reported at `recordedAt`: updates the rate of the SKU on the
    /// channel and the channel's reporting delay.
    public func record(seller: String, sku: String, channel: String, qty: Int, occurredAt: Date, recordedAt: Date) {
        let at = min(occurredAt, recordedAt)
        let tau = prior.decay
        let key = SKUKey(seller: seller, sku: sku)
        let floor = sellerOrigin(seller)
        shard(key).map.withLock { map in
            var entry = map[key] ?? SKUDemand(origin: floor)
            var counts = entry.channels[channel] ?? Counts(decayed: 0, at: at)
            let units = Double(max(0, qty))
            if at >= counts.at {
                counts.decayed = counts.decayed * exp(-at.timeIntervalSince(counts.at) / tau) + units
                counts.at = at
            } else {
                counts.decayed += units * exp(-counts.at.timeIntervalSince(at) / tau)
            }
            entry.channels[channel] = counts
            entry.recent.append(Sale(at: at, qty: qty))
            if entry.recent.count > 64, let first = entry.recent.first, recordedAt.timeIntervalSince(first.at) > retention {
                entry.recent.removeAll { recordedAt.timeIntervalSince($0.at) > retention }
            }
            map[key] = entry
        }
        channelDelays.withLock { $0[seller, default: [:]][channel, default: ReportingDelay()].observe(recordedAt.timeIntervalSince(occurredAt)) }
    }

    /// What is known of the SKU's demand at `now`, and the seller's reporting delays.
    public func rates(seller: String, sku: String, now: Date) -> DemandReading {
        let key = SKUKey(seller: seller, sku: sku)
        let floor = sellerOrigin(seller)
        let tau = prior.decay
        let entry = shard(key).map.withLock { $0[key] }
        var observed: [String: Double] = [:]
        for (channel, counts) in entry?.channels ?? [:] {
            observed[channel] = now >= counts.at ? counts.decayed * exp(-now.timeIntervalSince(counts.at) / tau) : counts.decayed
        }
        return DemandReading(observed: observed, elapsed: max(0, now.timeIntervalSince(entry?.origin ?? floor)),
                             delays: channelDelays.withLock { $0[seller] ?? [:] }, prior: prior)
    }

    /// The seller's learned reporting delay per channel.
    public func delays(seller: String) -> [String: ReportingDelay] { channelDelays.withLock { $0[seller] ?? [:] } }

    /// Posterior mean units per second of the SKU over the channels that sold it (the propagator's hot-first key).
    public func totalRate(seller: String, sku: String, now: Date) -> Double { rates(seller: seller, sku: sku, now: now).totalRate }

    /// Units sold on any channel in the last `seconds` before `now` (the spike monitor's windows).
    public func units(seller: String, sku: String, within seconds: TimeInterval, now: Date) -> Int {
        let key = SKUKey(seller: seller, sku: sku)
        return shard(key).map.withLock { map in
            (map[key]?.recent ?? []).reduce(0) { now.timeIntervalSince($1.at) <= seconds && $1.at <= now ? $0 + $1.qty : $0 }
        }
    }
}

/// What Shelf last heard from each channel connection of each seller; feeds freshness on every answer.
public final class ChannelPulseBoard: Sendable {
    /// Per seller: the connections by id, and the same pulses sorted by connection id (what every read asks for, kept
    /// sorted on each change so a read copies one array instead of sorting).
    private struct SellerPulses {
        var byConnection: [String: ChannelPulse] = [:]
        var sorted: [ChannelPulse] = []

        mutating func update(_ body: (inout [String: ChannelPulse]) -> Void) {
            body(&byConnection)
            sorted = byConnection.values.sorted { $0.connection < $1.connection }
        }
    }

    private let pulses = Mutex<[String: SellerPulses]>([:])

    public init() {}

    /// Registers a connection (keeping what was heard if it exists).
    public func register(seller: String, connection: String, channel: String) {
        pulses.withLock { map in
            map[seller, default: SellerPulses()].update { board in
                if board[connection] == nil {
                    board[connection] = ChannelPulse(connection: connection, channel: channel)
                } else {
                    board[connection]!.channel = channel
                }
            }
        }
    }

    /// Forgets a deleted connection.
    public func remove(seller: String, connection: String) {
        pulses.withLock { map in map[seller]?.update { _ = $0.removeValue(forKey: connection) } }
    }

    /// Notes that `connection` was heard from at `at` via `source`.
    public func heard(seller: String, connection: String, source: String, at: Date) {
        pulses.withLock { map in
            guard let p = map[seller]?.byConnection[connection], p.lastHeardAt.map({ $0 < at }) ?? true else { return }
            map[seller]!.update { board in
                board[connection]!.lastHeardAt = at
                board[connection]!.source = source
            }
        }
    }

    /// Notes that every connection of `channel` was heard from (a direct event naming the channel).
    public func heard(seller: String, channel: String, source: String, at: Date) {
        let ids = pulses.withLock { $0[seller]?.sorted.filter { $0.channel == channel }.map(\.connection) ?? [] }
        for id in ids { heard(seller: seller, connection: id, source: source, at: at) }
    }

    /// Notes a successful push.
    public func pushed(seller: String, connection: String, at: Date) {
        pulses.withLock { map in
            guard map[seller]?.byConnection[connection] != nil else { return }
            map[seller]!.update { $0[connection]!.lastPushedAt = at }
        }
    }

    /// The seller's connections, by id.
    public func pulses(seller: String) -> [ChannelPulse] {
        pulses.withLock { $0[seller]?.sorted ?? [] }
    }
}
