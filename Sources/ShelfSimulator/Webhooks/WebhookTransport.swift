/// How the simulator POSTs webhooks (`CurlWebhookTransport` by default; tests may swap in their own).
public protocol WebhookTransport: Sendable {
    /// POSTs `body` to `url` and reports the HTTP status or the transport error.
    func post(url: String, headers: [String: String], body: [UInt8]) async -> WebhookAttempt
}

/// The result of one webhook POST.
public struct WebhookAttempt: Sendable, Equatable {
    /// HTTP status, nil when no response arrived.
    public var status: Int?
    /// Transport error text when no response arrived.
    public var error: String?
    public var durationMs: Double

    public init(status: Int?, error: String?, durationMs: Double) {
        self.status = status
        self.error = error
        self.durationMs = durationMs
    }
}
