import Foundation

/// A Gamma–Poisson posterior of one channel's sales rate for one SKU: `λ ~ Gamma(shape, rate)` with
/// `shape = α₀ + n(t)`, `rate = β₀ + T(t)`, where n is the units sold with each weighted by `e^{−age/τ}` and T the
/// exposure weighted the same way. With no history the prior (α₀, β₀) answers; as sales accumulate the observed rate wins.
public struct DemandRate: Codable, Hashable, Sendable {
    /// Posterior shape α₀ + n.
    public var shape: Double
    /// Posterior rate β₀ + T, in seconds.
    public var exposure: Double

    public init(shape: Double, exposure: Double) {
        self.shape = shape
        self.exposure = exposure
    }

    /// Posterior mean rate in units per second.
    public var mean: Double { exposure > 0 ? shape / exposure : 0 }

    /// The unseen units over `window` seconds: mean and variance of the Gamma–Poisson (negative binomial) predictive.
    public func unseen(over window: TimeInterval) -> (mean: Double, variance: Double) {
        guard window > 0, exposure > 0 else { return (0, 0) }
        let m = shape * window / exposure
        return (m, m + shape * (window / exposure) * (window / exposure))
    }
}

/// The prior and time constant of every `DemandRate`.
public struct DemandPrior: Codable, Hashable, Sendable {
    /// Prior pseudo-units α₀.
    public var units: Double
    /// Prior pseudo-exposure β₀ in seconds (prior mean rate = units / seconds).
    public var seconds: Double
    /// Time constant τ of the exponential decay, in seconds.
    public var decay: TimeInterval

    public init(units: Double = 0.5, seconds: Double = 2, decay: TimeInterval = 300) {
        self.units = units
        self.seconds = seconds
        self.decay = max(1, decay)
    }
}
