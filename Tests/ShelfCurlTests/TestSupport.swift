import Logging
import ShelfCurl

/// Runs `body` with a fresh loopback server and client, then shuts both down (bounded, even if `body` throws).
func withServerAndClient(
    maxTotalConnections: Int = 256,
    maxHostConnections: Int = 64,
    _ body: (LoopbackHTTPServer, CurlClient) async throws -> Void
) async throws {
    let server = try LoopbackHTTPServer()
    var logger = Logger(label: "shelf.curl.tests")
    logger.logLevel = .warning
    let client = CurlClient(logger: logger, maxTotalConnections: maxTotalConnections, maxHostConnections: maxHostConnections)
    do {
        try await body(server, client)
    } catch {
        await client.shutdown(gracePeriod: .seconds(1))
        server.stop()
        throw error
    }
    await client.shutdown(gracePeriod: .seconds(1))
    server.stop()
}

/// Polls `condition` every 10 ms until it holds or `limit` passes; returns its last value.
func eventually(within limit: Duration = .seconds(10), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now.advanced(by: limit)
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

/// Wall-clock time taken by `operation`, along with its result.
func measure<T>(_ operation: () async throws -> T) async rethrows -> (T, Duration) {
    let start = ContinuousClock.now
    let result = try await operation()
    return (result, ContinuousClock.now - start)
}
