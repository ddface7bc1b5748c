import CCurl
import Foundation
import Logging
import ServiceLifecycle

/// An HTTP client driving many transfers from one dedicated thread over libcurl's multi interface; a lifecycle `Service`.
///
/// Place it early in the `ServiceGroup` (services shut down in reverse order) so the services using it stop first.
/// `run()` only waits: the curl thread starts in `init` so requests work even outside a `ServiceGroup`.
public final class CurlClient: Service, Sendable {
    private let queue: CurlSubmissionQueue
    private let logger: Logger

    /// Starts the curl thread.
    /// - Parameters:
    ///   - maxTotalConnections: open connections across all hosts (`CURLMOPT_MAX_TOTAL_CONNECTIONS`), also the size of the
    ///     keep-alive connection cache (`CURLMOPT_MAXCONNECTS`). Transfers beyond it wait inside libcurl for a free connection.
    ///   - maxHostConnections: open connections to one host (`CURLMOPT_MAX_HOST_CONNECTIONS`).
    public init(logger: Logger = Logger(label: "shelf.curl"), maxTotalConnections: Int = 256, maxHostConnections: Int = 64) {
        let initCode = CurlGlobalInitialization.ensure()
        precondition(initCode == CURLE_OK, "curl_global_init failed: \(String(cString: curl_easy_strerror(initCode)))")
        guard let multiPointer = curl_multi_init() else {
            preconditionFailure("curl_multi_init failed")
        }
        let multi = CurlMultiHandleReference(pointer: multiPointer)
        let queue = CurlSubmissionQueue(multi: multi)
        self.queue = queue
        self.logger = logger
        let totalConnections = max(1, maxTotalConnections)
        let hostConnections = max(1, min(maxHostConnections, totalConnections))
        let thread = Thread {
            let loop = CurlMultiLoop(
                multi: multi.pointer,
                queue: queue,
                logger: logger,
                maxTotalConnections: totalConnections,
                maxHostConnections: hostConnections
            )
            loop.run()
        }
        thread.name = "shelf.curl"
        thread.start()
    }

    deinit {
        // Without an explicit shutdown the thread would poll forever; in-flight transfers still complete.
        queue.requestShutdown(gracePeriod: nil)
    }

    /// Performs the request on the curl thread. Any HTTP status is a response; transport failures throw `CurlError`.
    /// Cancelling the calling task removes the transfer (closing its connection) and throws `CancellationError`.
    public func execute(_ request: CurlRequest) async throws -> CurlResponse {
        try Task.checkCancellation()
        try request.validate()
        let queue = self.queue
        let ticket = queue.makeTicket()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<CurlResponse, any Error>) in
                if !queue.submit(request, ticket: ticket, continuation: continuation) {
                    continuation.resume(throwing: CurlError.shutdown)
                }
            }
        } onCancel: {
            queue.cancel(ticket)
        }
    }

    /// Transfers submitted and not yet completed.
    public var inFlightCount: Int {
        queue.inFlightCount
    }

    /// Whether `shutdown` has begun: new requests fail with `CurlError.shutdown`.
    public var isShutDown: Bool {
        queue.isShutdownRequested
    }

    /// Waits for graceful shutdown of the service group, then lets in-flight transfers finish and stops the thread.
    /// If the task is cancelled instead, in-flight transfers are failed with `CurlError.shutdown` at once.
    public func run() async throws {
        do {
            try await gracefulShutdown()
            logger.info("curl client shutting down gracefully", metadata: ["in_flight": "\(inFlightCount)"])
            await shutdown()
        } catch {
            logger.info("curl client cancelled; aborting in-flight transfers", metadata: ["in_flight": "\(inFlightCount)"])
            await shutdown(gracePeriod: .zero)
        }
    }

    /// Refuses new requests, lets in-flight ones finish (each is bounded by its own timeout), stops the curl thread and
    /// cleans up libcurl's handles. Idempotent; every caller returns once the thread is done.
    public func shutdown() async {
        queue.requestShutdown(gracePeriod: nil)
        await queue.waitUntilFinished()
    }

    /// Like `shutdown()`, but transfers still running after `gracePeriod` fail with `CurlError.shutdown`.
    public func shutdown(gracePeriod: Duration) async {
        queue.requestShutdown(gracePeriod: gracePeriod)
        await queue.waitUntilFinished()
    }
}
