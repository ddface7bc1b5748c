import Foundation

/// A channel's learned reporting delay (occurredAt → recordedAt): a robust exponentially weighted mean and mean absolute
/// deviation. Each observation's residual is clipped to ±`clip` deviations, so one replayed hour-old order cannot move it far.
public struct ReportingDelay: Codable, Hashable, Sendable {
    /// Weight of each new observation.
    public static let weight = 0.05
    /// Residuals beyond this many deviations are clipped (Huber-style).
    public static let clip = 4.0
    /// Deviation floor in seconds, so a channel that always reports at once can still learn a change.
    public static let deviationFloor = 0.05

    /// Mean delay in seconds.
    public private(set) var mean: Double
    /// Mean absolute deviation in seconds.
    public private(set) var deviation: Double
    /// Observations seen.
    public private(set) var count: Int

    public init(mean: Double = 0, deviation: Double = 0, count: Int = 0) {
        self.mean = mean
        self.deviation = deviation
        self.count = count
    }

    /// Learns one delay (negative delays, from clock skew, count as 0).
    public mutating func observe(_ seconds: Double) {
        let x = max(0, seconds.isFinite ? seconds : 0)
        count += 1
        if count == 1 {
            mean = x
            deviation = 0
            return
        }
        // Warm-up: the first observations weigh like a plain average, then the weight settles at `weight`.
        let w = max(Self.weight, 1 / Double(count))
        let limit = Self.clip * max(deviation, Self.deviationFloor, 0.25 * mean)
        let residual = min(max(x - mean, -limit), limit)
        mean = max(0, mean + w * residual)
        deviation += w * (abs(residual) - deviation)
    }
}
