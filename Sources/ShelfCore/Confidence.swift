import Foundation

/// How fresh an answer is and how likely the asked quantity is really purchasable (DESIGN §3).
public enum Confidence {
    /// Seconds after which the linear freshness score reaches 0.
    public static let freshnessHorizon: TimeInterval = 30

    /// `max(0, 1 − age / 30 s)`, rounded to 3 decimals.
    public static func freshnessScore(ageSeconds: TimeInterval) -> Double {
        rounded(max(0, min(1, 1 - max(0, ageSeconds) / freshnessHorizon)))
    }

    /// `P(Poisson(μ) ≤ available − qty)` with `μ = Σ λc·gc`: the chance that sales Shelf has not yet heard of leave `qty` units.
    public static func probability(available: Int, qty: Int, expectedUnseenSales mu: Double) -> Double {
        let slack = available - qty
        guard slack >= 0 else { return 0 }
        guard mu > 0 else { return 1 }
        // Beyond μ + 12σ the tail is negligible.
        if Double(slack) > mu + 12 * mu.squareRoot() + 12 { return 1 }
        var term = exp(-mu)
        var sum = term
        if term == 0 {
            // Very large μ: fall back to a normal approximation with continuity correction.
            let z = (Double(slack) + 0.5 - mu) / mu.squareRoot()
            return rounded(0.5 * erfc(-z / 2.0.squareRoot()))
        }
        if slack > 0 {
            for k in 1...slack {
                term *= mu / Double(k)
                sum += term
            }
        }
        return rounded(min(1, sum))
    }

    static func rounded(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }
}

/// What Shelf last heard from one channel connection.
public struct ChannelPulse: Codable, Hashable, Sendable {
    public var connection: String
    public var channel: String
    public var lastHeardAt: Date?
    /// `webhook`, `poll` or `direct`.
    public var source: String?
    public var lastPushedAt: Date?

    public init(connection: String, channel: String, lastHeardAt: Date? = nil, source: String? = nil, lastPushedAt: Date? = nil) {
        self.connection = connection
        self.channel = channel
        self.lastHeardAt = lastHeardAt
        self.source = source
        self.lastPushedAt = lastPushedAt
    }
}
