import Foundation
import Synchronization

/// Recent sales per (seller, SKU, channel) in a rolling window: the λc of the confidence model and the input of spike detection.
public final class SalesVelocity: Sendable {
    /// Length of the rolling window.
    public let window: TimeInterval
    /// How long sales are kept (baselines look further back than the window).
    public let retention: TimeInterval
    private let sales = Mutex<[Key: [Sale]]>([:])

    struct Key: Hashable {
        var seller: String
        var sku: String
        var channel: String
    }

    struct Sale {
        var at: Date
        var qty: Int
    }

    public init(window: TimeInterval = 900, retention: TimeInterval = 3600) {
        self.window = window
        self.retention = max(window, retention)
    }

    /// Records `qty` units sold on `channel` at `at`.
    public func record(seller: String, sku: String, channel: String, qty: Int, at: Date) {
        let key = Key(seller: seller, sku: sku, channel: channel)
        sales.withLock { map in
            var list = map[key, default: []]
            list.append(Sale(at: at, qty: qty))
            if list.count > 64, let first = list.first, at.timeIntervalSince(first.at) > retention {
                list.removeAll { at.timeIntervalSince($0.at) > retention }
            }
            map[key] = list
        }
    }

    /// Units per second per channel for the SKU over the window ending at `now`.
    public func rates(seller: String, sku: String, now: Date) -> [String: Double] {
        sales.withLock { map in
            var out: [String: Double] = [:]
            for (key, list) in map where key.seller == seller && key.sku == sku {
                let units = list.reduce(0) { now.timeIntervalSince($1.at) <= window && $1.at <= now ? $0 + $1.qty : $0 }
                if units > 0 { out[key.channel] = Double(units) / window }
            }
            return out
        }
    }

    /// Units sold on any channel in the last `seconds` before `now`.
    public func units(seller: String, sku: String, within seconds: TimeInterval, now: Date) -> Int {
        sales.withLock { map in
            map.reduce(0) { total, entry in
                guard entry.key.seller == seller && entry.key.sku == sku else { return total }
                return total + entry.value.reduce(0) { now.timeIntervalSince($1.at) <= seconds && $1.at <= now ? $0 + $1.qty : $0 }
            }
        }
    }
}

/// What Shelf last heard from each channel connection of each seller; feeds freshness on every answer.
public final class ChannelPulseBoard: Sendable {
    private let pulses = Mutex<[String: [String: ChannelPulse]]>([:])

    public init() {}

    /// Registers a connection (keeping what was heard if it exists).
    public func register(seller: String, connection: String, channel: String) {
        pulses.withLock { map in
            if map[seller]?[connection] == nil {
                map[seller, default: [:]][connection] = ChannelPulse(connection: connection, channel: channel)
            } else {
                map[seller]![connection]!.channel = channel
            }
        }
    }

    /// Forgets a deleted connection.
    public func remove(seller: String, connection: String) { pulses.withLock { _ = $0[seller]?.removeValue(forKey: connection) } }

    /// Notes that `connection` was heard from at `at` via `source`.
    public func heard(seller: String, connection: String, source: String, at: Date) {
        pulses.withLock { map in
            guard var p = map[seller]?[connection] else { return }
            if p.lastHeardAt.map({ $0 < at }) ?? true {
                p.lastHeardAt = at
                p.source = source
            }
            map[seller]![connection] = p
        }
    }

    /// Notes that every connection of `channel` was heard from (a direct event naming the channel).
    public func heard(seller: String, channel: String, source: String, at: Date) {
        let ids = pulses.withLock { $0[seller]?.values.filter { $0.channel == channel }.map(\.connection) ?? [] }
        for id in ids { heard(seller: seller, connection: id, source: source, at: at) }
    }

    /// Notes a successful push.
    public func pushed(seller: String, connection: String, at: Date) {
        pulses.withLock { map in map[seller]?[connection]?.lastPushedAt = at }
    }

    /// The seller's connections, by id.
    public func pulses(seller: String) -> [ChannelPulse] {
        pulses.withLock { ($0[seller] ?? [:]).values.sorted { $0.connection < $1.connection } }
    }
}
