import Foundation
import ShelfConnectors

/// How the push workers retry, time out, overlap and pace their requests.
public struct PushPolicy: Sendable {
    /// How a worker paces its requests to a channel.
    public enum Pacing: String, Sendable, CaseIterable {
        /// The channel's published budget (`ChannelRateLimit.published`): what real channels allow.
        case published
        /// No pacing but the channel's own 429 + Retry-After: for channels that take anything (benchmarks, a seller's own system).
        case unpaced
    }

    /// Attempts before a push is dead-lettered.
    public var maxAttempts: Int
    /// Full-jitter backoff: the n-th retry waits a uniform random time in [0, min(maxDelay, baseDelay · 2ⁿ)] (seconds).
    public var baseDelay: TimeInterval
    public var maxDelay: TimeInterval
    public var requestTimeout: Duration
    /// Requests one connection keeps in flight at once (over libcurl's reused connections).
    public var maxInFlight: Int
    /// Most SKUs one dispatch hands the connector (it splits them into as many requests as the channel's batch limits need).
    public var maxSKUsPerDispatch: Int
    public var pacing: Pacing
    /// On channels that take a price in a request of its own, how long a price the channel acknowledged is left out of the
    /// pushes that follow (seconds): after that the next push sends it again, which also repairs a price edited on the channel.
    public var priceRefresh: TimeInterval

    public init(maxAttempts: Int = 6, baseDelay: TimeInterval = 0.2, maxDelay: TimeInterval = 30, requestTimeout: Duration = .seconds(5),
                maxInFlight: Int = 4, maxSKUsPerDispatch: Int = 250, pacing: Pacing = .published, priceRefresh: TimeInterval = 600) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = max(0, baseDelay)
        self.maxDelay = max(0, maxDelay)
        self.requestTimeout = requestTimeout
        self.maxInFlight = max(1, maxInFlight)
        self.maxSKUsPerDispatch = max(1, maxSKUsPerDispatch)
        self.pacing = pacing
        self.priceRefresh = max(0, priceRefresh)
    }

    /// The retry backoff this policy describes.
    public var backoff: FullJitterBackoff { FullJitterBackoff(base: baseDelay, cap: maxDelay) }
}

/// Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter"): the wait before retry n
/// (n = 0 for the first retry) is uniform in [0, min(cap, base · 2ⁿ)], so clients that failed together do not retry together.
public struct FullJitterBackoff: Sendable, Hashable {
    public var base: TimeInterval
    public var cap: TimeInterval

    public init(base: TimeInterval, cap: TimeInterval) {
        self.base = max(0, base)
        self.cap = max(0, cap)
    }

    /// The upper bound of the wait before retry `attempt` (0-based).
    public func ceiling(attempt: Int) -> TimeInterval {
        // 2^62 overflows nothing and is far beyond any cap.
        min(cap, base * pow(2, Double(min(max(0, attempt), 62))))
    }

    /// A wait before retry `attempt`, drawn from `generator`.
    public func delay(attempt: Int, using generator: inout some RandomNumberGenerator) -> TimeInterval {
        let ceiling = ceiling(attempt: attempt)
        return ceiling > 0 ? Double.random(in: 0...ceiling, using: &generator) : 0
    }
}

/// A token bucket on the injected clock: refills `rate` tokens per second up to `capacity`. A request may be sent while at least
/// one token is left; it takes as many as the requests it stands for, so the balance may go negative and the debt is paid
/// back before the next send (a batch never waits for a whole bucket it could never fill). A channel's 429 empties it and
/// holds it closed until the Retry-After instant.
public struct TokenBucket: Sendable, Hashable {
    public let rate: Double
    public let capacity: Double
    public private(set) var tokens: Double
    private var updatedAt: Date
    /// No send before this instant (a channel's Retry-After).
    public private(set) var closedUntil: Date

    public init(rate: Double, capacity: Double, now: Date) {
        self.rate = max(0.001, rate)
        self.capacity = max(1, capacity)
        tokens = self.capacity
        updatedAt = now
        closedUntil = .distantPast
    }

    /// A bucket for a channel's published limit.
    public init(_ limit: ChannelRateLimit, now: Date) {
        self.init(rate: limit.perSecond, capacity: limit.burst, now: now)
    }

    private mutating func refill(now: Date) {
        let elapsed = now.timeIntervalSince(updatedAt)
        guard elapsed > 0 else { return }
        tokens = min(capacity, tokens + elapsed * rate)
        updatedAt = now
    }

    /// When a send may go: `now` if a token is left, else the instant one will be.
    public mutating func nextSend(now: Date) -> Date {
        refill(now: now)
        let open = max(now, closedUntil)
        if tokens >= 1 { return open }
        return max(open, now.addingTimeInterval((1 - tokens) / rate))
    }

    /// Takes `count` tokens for a send at `now` if one may go; false (and nothing taken) when it must wait.
    public mutating func take(_ count: Int, now: Date) -> Bool {
        guard nextSend(now: now) <= now else { return false }
        tokens -= Double(max(1, count))
        return true
    }

    /// The channel said 429: nothing is sent before `until`, and the bucket starts empty then.
    public mutating func close(until: Date, now: Date) {
        refill(now: now)
        closedUntil = max(closedUntil, until)
        tokens = min(tokens, 0)
        // Tokens accrue only from the moment the channel opens again.
        updatedAt = max(updatedAt, closedUntil)
    }
}
