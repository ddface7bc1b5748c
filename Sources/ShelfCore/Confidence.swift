import Foundation

/// How fresh an answer is and how likely the asked quantity is really purchasable (DESIGN §3).
public enum Confidence {
    /// Seconds after which the linear freshness score reaches 0.
    public static let freshnessHorizon: TimeInterval = 30

    /// `max(0, 1 − age / 30 s)`, rounded to 3 decimals.
    public static func freshnessScore(ageSeconds: TimeInterval) -> Double {
        rounded(max(0, min(1, 1 - max(0, ageSeconds) / freshnessHorizon)))
    }

    /// `P(Poisson(μ) ≤ available − qty)`: the chance that sales Shelf has not yet heard of leave `qty` units.
    public static func probability(available: Int, qty: Int, expectedUnseenSales mu: Double) -> Double {
        probability(available: available, qty: qty, unseenMean: mu, unseenVariance: mu)
    }

    /// `P(U ≤ available − qty)` where U, the units sold but not yet heard of, has mean `m` and variance `v`: a negative
    /// binomial with those two moments when `v > m` (rate uncertainty widens the tail), a Poisson otherwise.
    public static func probability(available: Int, qty: Int, unseenMean m: Double, unseenVariance v: Double) -> Double {
        let slack = available - qty
        guard slack >= 0 else { return 0 }
        guard m > 0, m.isFinite else { return 1 }
        let variance = max(v, m)
        let sd = variance.squareRoot()
        // Beyond m + 12σ the tail is negligible.
        if Double(slack) > m + 12 * sd + 12 { return 1 }
        let overdispersed = variance > m * (1 + 1e-9)
        // Poisson: p0 = e^−m, ratio m/k. Negative binomial (r, p = m/v): p0 = p^r, ratio (k − 1 + r)/k · (1 − p).
        let r = overdispersed ? m * m / (variance - m) : 0
        let p = m / variance
        var term = overdispersed ? exp(r * log(p)) : exp(-m)
        if term == 0 || !term.isFinite {
            // A far-out centre: normal approximation with continuity correction.
            let z = (Double(slack) + 0.5 - m) / sd
            return rounded(0.5 * erfc(-z / 2.0.squareRoot()))
        }
        var sum = term
        if slack > 0 {
            for k in 1...slack {
                term *= overdispersed ? (Double(k) - 1 + r) / Double(k) * (1 - p) : m / Double(k)
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
