import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// A Swift concurrency task executor that runs jobs on one NIO event loop. A connection's task prefers the executor of its
/// channel's loop (`ShelfHTTP1Channel`), so a request that does no blocking work is read, answered and written on that loop
/// with no hop to the cooperative pool and back.
final class EventLoopTaskExecutor: TaskExecutor {
    let loop: any EventLoop

    init(_ loop: any EventLoop) {
        self.loop = loop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

/// Where request work runs: on the connection's event loop for the hot reads, which only read memory, and on the global
/// concurrent executor (the cooperative pool) for everything that may block — SQLite reads and writes, outbound HTTP, long
/// streams — so a slow route never stalls the other connections of its loop.
enum EventLoopExecution {
    /// Runs `body` on the global concurrent executor (it may block), then returns to the caller's executor.
    static func offLoop<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await withTaskExecutorPreference(globalConcurrentExecutor) { try await body() }
    }

    /// The routes answered on the event loop: the agent reads over the snapshot (`GET` offers, stock, prices, delivery of
    /// one SKU) and the liveness probes. Their handlers do no blocking work (the one that may — stock `at` an instant, which
    /// replays the ledger — moves that part off the loop itself), and so do the middlewares in front of them: a token not
    /// in memory is looked up off the loop (`RequireScope`).
    static func staysOnLoop(_ request: Request) -> Bool {
        guard request.method == .get else { return false }
        let path = request.uri.path
        for prefix in ["/v1/offers/", "/v1/stock/", "/v1/prices/", "/v1/delivery/"] where path.hasPrefix(prefix) {
            // One path segment after the prefix: the SKU.
            return path.utf8.count > prefix.utf8.count && !path.utf8.dropFirst(prefix.utf8.count).contains(UInt8(ascii: "/"))
        }
        return path == "/livez" || path == "/healthz"
    }
}

/// First in the chain: moves every request but the hot reads (`EventLoopExecution.staysOnLoop`) off the event loop, with the
/// writing of its response body (streams write from the ledger and the change feed).
struct EventLoopRoutingMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if EventLoopExecution.staysOnLoop(request) { return try await next(request, context) }
        var response = try await withTaskExecutorPreference(globalConcurrentExecutor) { try await next(request, context) }
        // The body is written after this returns; a streaming one may read the ledger, so it is written off the loop too.
        let body = response.body
        response.body = ResponseBody(contentLength: body.contentLength) { writer in
            try await withTaskExecutorPreference(globalConcurrentExecutor) { try await body.write(writer) }
        }
        return response
    }
}
