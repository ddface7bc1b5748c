/// A token bucket: `rate` tokens per second, at most `capacity` banked.
struct TokenBucket: Sendable {
    let rate: Double
    let capacity: Double
    private var tokens: Double
    private var lastNanos: UInt64

    init(rate: Double, capacity: Double, nowNanos: UInt64) {
        self.rate = max(rate, 0.001)
        self.capacity = max(capacity, 1)
        self.tokens = max(capacity, 1)
        self.lastNanos = nowNanos
    }

    /// Takes one token; on refusal returns the whole seconds until one is available (at least 1).
    mutating func take(nowNanos: UInt64) -> Int? {
        if nowNanos > lastNanos {
            tokens = min(capacity, tokens + Double(nowNanos - lastNanos) / 1_000_000_000 * rate)
            lastNanos = nowNanos
        }
        if tokens >= 1 {
            tokens -= 1
            return nil
        }
        return max(1, Int(((1 - tokens) / rate).rounded(.up)))
    }
}
