import Dispatch
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Webhook POSTs through Foundation's `URLSession` (libcurl underneath on Linux).
public struct URLSessionWebhookTransport: WebhookTransport {
    private let session: URLSession

    /// - Parameter timeout: per-request timeout in seconds.
    public init(timeout: TimeInterval = 10) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        configuration.httpMaximumConnectionsPerHost = 16
        self.session = URLSession(configuration: configuration)
    }

    public func post(url: String, headers: [String: String], body: [UInt8]) async -> WebhookAttempt {
        let started = DispatchTime.now().uptimeNanoseconds
        func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - started) / 1_000_000 }
        guard let target = URL(string: url) else { return WebhookAttempt(status: nil, error: "invalid URL \(url)", durationMs: 0) }
        var request = URLRequest(url: target)
        request.httpMethod = "POST"
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.httpBody = Data(body)
        do {
            let (_, response) = try await session.data(for: request)
            return WebhookAttempt(status: (response as? HTTPURLResponse)?.statusCode, error: nil, durationMs: elapsed())
        } catch let error as URLError {
            return WebhookAttempt(status: nil, error: "URLError \(error.code.rawValue): \(error.localizedDescription)", durationMs: elapsed())
        } catch {
            return WebhookAttempt(status: nil, error: String(describing: error), durationMs: elapsed())
        }
    }
}
