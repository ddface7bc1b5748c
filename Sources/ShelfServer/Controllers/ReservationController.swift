import Foundation
import Hummingbird
import ShelfCore
import ShelfLedger

/// Holds for carts and agents (scope `read` or above): create (idempotent), read, release, commit into an order.
struct ReservationController: Sendable {
    let env: ShelfEnvironment
    var desk: AgentDesk { AgentDesk(env: env) }

    var routes: RouteCollection<ShelfRequestContext> {
        let routes = RouteCollection(context: ShelfRequestContext.self)
        routes.requiring(.read, env.tokens)
            .post("reservations", use: create)
            .get("reservations/:id", use: show)
            .delete("reservations/:id", use: release)
            .post("reservations/:id/commit", use: commit)
        return routes
    }

    struct CreateBody: Decodable {
        var sku: String
        var qty: Int
        var ttlSeconds: Int
        var location: String?
        var channel: String?
    }

    @Sendable func create(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let token = try context.authenticated()
        guard let key = request.headers[.init("Idempotency-Key")!], !key.isEmpty, key.count <= 200 else {
            throw Problem(.validation, detail: "the Idempotency-Key header is required (1–200 characters)", field: "Idempotency-Key")
        }
        let buffer = try await request.jsonBody(limit: 64 << 10)
        let body = try StrictJSON.decode(CreateBody.self, from: buffer, shape: .object([
            "sku": .any, "qty": .any, "ttlSeconds": .any, "location": .any, "channel": .any,
        ]))
        let (view, created) = try await desk.hold(
            token, AgentDesk.HoldRequest(sku: body.sku, qty: body.qty, ttlSeconds: body.ttlSeconds, location: body.location, channel: body.channel),
            key: key, requestHash: Data(buffer.readableBytesView).sha256Hex
        )
        return try JSONResponder.respond(view, to: request, status: created ? .created : .ok, etag: false)
    }

    @Sendable func show(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let token = try context.authenticated()
        let hold = try desk.activeHold(try desk.seller(token), id: try context.pathParameter("id"))
        let status = hold.isActive(at: env.clock.now()) ? "active" : "expired"
        return try JSONResponder.respond(ReservationView(hold, status: status), to: request, etag: false)
    }

    @Sendable func release(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let token = try context.authenticated()
        return try JSONResponder.respond(try await desk.end(token, id: try context.pathParameter("id"), committing: false), to: request, etag: false)
    }

    @Sendable func commit(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let token = try context.authenticated()
        return try JSONResponder.respond(try await desk.end(token, id: try context.pathParameter("id"), committing: true), to: request, etag: false)
    }
}
