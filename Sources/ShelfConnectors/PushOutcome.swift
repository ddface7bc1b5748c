/// How a channel answered one push request: what the propagator should do next.
public enum PushOutcome: Sendable, Equatable {
    /// Applied (for batch endpoints: every item in the request).
    case accepted
    /// Over the channel's budget: retry after the given seconds (nil: use backoff).
    case rateLimited(retryAfterSeconds: Int?)
    /// A transient failure (5xx, throttling error in a 200 body): retry with backoff.
    case retryable(reason: String)
    /// The channel refused the update; retrying the same request will not help (dead-letter it).
    case rejected(reason: String, skus: [String])
}
