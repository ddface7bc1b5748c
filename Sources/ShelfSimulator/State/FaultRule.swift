/// An injected failure for one connection's channel endpoints.
public struct FaultRule: Sendable, Codable, Equatable {
    /// How the endpoint misbehaves.
    public enum Mode: String, Sendable, Codable {
        /// Answer `status` (default 503), with `Retry-After` when `retryAfterSeconds` is set. Not applied.
        case status
        /// Hold the request `durationMs` (default 30000), then reset the connection without answering. Not applied.
        case timeout
        /// Apply the request, then trickle the response body over `durationMs` (default 2000).
        case slowBody = "slow_body"
        /// Reset the TCP connection (RST) at once. Not applied.
        case reset
        /// Answer 429 with `Retry-After: retryAfterSeconds` (default 1) and the channel's throttling body. Not applied.
        case rateLimit = "rate_limit"
    }

    public var id: Int
    public var connection: String
    public var mode: Mode
    public var status: Int?
    public var retryAfterSeconds: Int?
    /// How many more requests this fault hits (nil: until deleted).
    public var count: Int?
    public var durationMs: Int?
    /// Restrict to one endpoint class: `push`, `poll` or `order` (nil: all).
    public var operation: String?
}
