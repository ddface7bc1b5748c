import Foundation
import Hummingbird
import ShelfAutomation
import ShelfLedger

/// The seller's rule notifications in the durable outbox (scope `admin`): pending ones (waiting for their first or next
/// attempt) and dead ones (out of attempts), and replaying them.
struct NotificationsController: Sendable {
    let env: ShelfEnvironment

    var routes: RouteCollection<ShelfRequestContext> {
        let routes = RouteCollection(context: ShelfRequestContext.self)
        let admin = routes.requiring(.admin, env.tokens)
        admin.get("notifications", use: list)
        admin.post("notifications/:id/replay", use: replay)
        admin.post("notifications:replay-dead", use: replayDead)
        return routes
    }

    var outbox: any NotificationOutbox { env.ruleEngine.notifications.outbox }

    /// `GET /v1/notifications?state=pending|dead&limit=`: oldest first.
    @Sendable func list(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let token = try context.authenticated()
        let limit = try request.intParameter("limit", default: 500, range: 1...5000)
        var state: RuleNotification.State?
        if let text = request.uri.queryParameters.get("state") {
            guard let parsed = RuleNotification.State(rawValue: text) else {
                throw Problem(.validation, detail: "state must be one of: pending, dead", field: "state")
            }
            state = parsed
        }
        return try JSONResponder.respond(["notifications": try await outbox.list(seller: token.seller, state: state, limit: limit)], to: request,
                                         etag: false)
    }

    /// `POST /v1/notifications/{id}/replay`: back in line with a fresh set of attempts; 404 when the seller has no such one.
    @Sendable func replay(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let token = try context.authenticated()
        guard let id = Int64(try context.pathParameter("id")) else { throw Problem(.notFound, detail: "no notification with that id", field: "id") }
        guard try await outbox.replay(id: id, seller: token.seller) else { throw Problem(.notFound, detail: "no notification \(id)", field: "id") }
        env.ruleEngine.notifications.wake()
        return try JSONResponder.respond(["replayed": 1], to: request, etag: false)
    }

    /// `POST /v1/notifications:replay-dead`: every dead notification of the seller back in line.
    @Sendable func replayDead(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let token = try context.authenticated()
        let count = try await outbox.replayDead(seller: token.seller)
        env.ruleEngine.notifications.wake()
        return try JSONResponder.respond(["replayed": count], to: request, etag: false)
    }
}
