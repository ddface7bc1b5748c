import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import ShelfCore
import ShelfLedger

/// Builds Shelf's HTTP application: routes over the snapshot, ingest into the ledger, admin and operations.
public enum ShelfApplication {
    /// The router with every route.
    public static func buildRouter(_ env: ShelfEnvironment) -> Router<ShelfRequestContext> {
        let router = Router(context: ShelfRequestContext.self)
        if env.configuration.readsOnEventLoop { router.add(middleware: EventLoopRoutingMiddleware()) }
        router.add(middleware: RequestIDMiddleware(metrics: env.metrics))
        router.add(middleware: ProblemMiddleware())
        router.add(middleware: ReadinessMiddleware(snapshot: env.snapshot))
        // One route collection per resource; the API's under /v1, the protocols' and operations' at their own paths.
        let v1: [RouteCollection<ShelfRequestContext>] = [
            ReadController(env: env).routes, IngestController(env: env).routes, ReservationController(env: env).routes,
            ChannelController(env: env).routes, NotificationsController(env: env).routes, RulesController(env: env).routes,
            StreamController(env: env).routes, FeedController(env: env).routes, ProductController(env: env).routes,
            AdminController(env: env).routes, SellersController(env: env).routes, WatchController(env: env).routes,
        ]
        for routes in v1 { router.addRoutes(routes, atPath: "/v1") }
        for routes in [OpsController(env: env).routes, MCPController(env: env).routes, UCPController(env: env).routes, ConsoleController().routes] {
            router.addRoutes(routes)
        }
        return router
    }

    /// The application, ready for `runService()`; `services` run beside it in one service group. Throws
    /// `TLSFileError` when the configuration's TLS files cannot serve.
    public static func buildApplication(
        _ env: ShelfEnvironment, services: [any Service] = [], logger: Logger = Logger(label: "shelf"),
        onServerRunning: (@Sendable (any NIOCore.Channel) async -> Void)? = nil
    ) throws -> some ApplicationProtocol {
        let config = env.configuration
        return Application(
            router: buildRouter(env),
            server: try .shelf(tls: config.tls, onEventLoop: config.readsOnEventLoop),
            configuration: .init(address: .hostname(config.host, port: config.port), serverName: "shelf"),
            services: services,
            onServerRunning: onServerRunning ?? { _ in },
            logger: logger
        )
    }
}

/// Until start-up has built the snapshot, answers every route but the operations ones (`/healthz`, `/livez`, `/readyz`,
/// `/metrics`, `/openapi.yaml`) and the console's static assets with a 503 `not-ready` problem carrying the progress and
/// `Retry-After`, instead of answering from an empty snapshot.
struct ReadinessMiddleware<Context: RequestContext>: RouterMiddleware {
    let snapshot: Snapshot
    static var alwaysOpen: Set<String> { ["/healthz", "/livez", "/readyz", "/metrics", "/openapi.yaml"] }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if snapshot.isReady || Self.alwaysOpen.contains(path) || path == "/console" || path.hasPrefix("/console/") {
            return try await next(request, context)
        }
        throw Problem.notReady(snapshot.progress)
    }
}

/// Gives every request an id (from `X-Request-Id` or new), logs method, path, status and duration, and echoes the id.
struct RequestIDMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ShelfMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let id = request.headers[.requestId].flatMap { $0.utf8.count <= 128 ? $0 : nil } ?? context.id
        var context = context
        context.logger[metadataKey: "request_id"] = .string(id)
        let start = ContinuousClock.now
        var response = try await next(request, context)
        response.headers[.requestId] = id
        let elapsed = ContinuousClock.now - start
        metrics.request(route: context.endpointPath ?? "unmatched", method: request.method.rawValue, status: Int(response.status.code),
                        seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        context.logger.debug(
            "request", metadata: ["method": "\(request.method)", "path": "\(request.uri.path)", "status": "\(response.status.code)",
                                  "duration_us": "\((ContinuousClock.now - start).components.attoseconds / 1_000_000_000_000)"]
        )
        return response
    }
}

extension HTTPField.Name {
    /// `X-Request-Id`: the caller's request id (at most 128 bytes), else the one Hummingbird gave the request; on every answer.
    static let requestId = HTTPField.Name("X-Request-Id")!
}
