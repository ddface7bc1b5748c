import Dispatch
import ShelfCurl

/// Webhook POSTs through ShelfCurl's libcurl multi client (one thread, keep-alive connections to each receiver).
///
/// Foundation's `URLSession` on Linux drove the same libcurl underneath with a dispatch source and a timer per transfer and
/// cost the simulator about a fifth of its CPU in the propagation benchmark, where it shares two cores with Shelf.
public struct CurlWebhookTransport: WebhookTransport {
    private let client: CurlClient
    private let timeout: Duration

    /// - Parameter timeout: per-request timeout in seconds.
    public init(timeout: Double = 10) {
        client = CurlClient(maxTotalConnections: 64, maxHostConnections: 32)
        self.timeout = .milliseconds(Int(max(0.001, timeout) * 1000))
    }

    public func post(url: String, headers: [String: String], body: [UInt8]) async -> WebhookAttempt {
        let started = DispatchTime.now().uptimeNanoseconds
        func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - started) / 1_000_000 }
        let request = CurlRequest(
            method: "POST", url: url, headers: headers.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) }, body: body,
            timeout: timeout, connectTimeout: min(timeout, .seconds(2)), maxResponseBodyBytes: 1 << 20
        )
        do {
            let response = try await client.execute(request)
            return WebhookAttempt(status: response.status, error: nil, durationMs: elapsed())
        } catch {
            return WebhookAttempt(status: nil, error: String(describing: error), durationMs: elapsed())
        }
    }
}
