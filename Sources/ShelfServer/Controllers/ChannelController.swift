import Foundation
import Hummingbird
import ShelfChannels
import ShelfCore
import ShelfLedger

/// Channel-facing routes: webhook ingest (authenticated by the connection's signature, no bearer) and the dead-letter queue.
struct ChannelController: Sendable {
    let env: ShelfEnvironment

    var routes: RouteCollection<ShelfRequestContext> {
        let routes = RouteCollection(context: ShelfRequestContext.self)
        routes.post("webhooks/:connectionId", use: webhook)
        let admin = routes.requiring(.admin, env.tokens)
        admin.get("dlq", use: listDLQ)
        admin.post("dlq/:id/replay", use: replay)
        admin.delete("dlq/:id", use: discard)
        admin.post("dlq:replay-all", use: replayAll)
        admin.get("reconciliation", use: latestReconciliation)
        admin.post("reconciliation:run", use: runReconciliation)
        return routes
    }

    @Sendable func latestReconciliation(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let token = try context.authenticated()
        guard let report = env.reconciler.latest(seller: token.seller) else {
            throw Problem(.notFound, detail: "no reconciliation has run yet; POST /v1/reconciliation:run starts one")
        }
        return try JSONResponder.respond(report, to: request, etag: false)
    }

    @Sendable func runReconciliation(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let token = try context.authenticated()
        let report = await env.reconciler.reconcile(seller: token.seller)
        env.propagator.poke()
        return try JSONResponder.respond(report, to: request, etag: false)
    }

    struct WebhookAnswer: Encodable {
        var status: String
        var accepted: Int
        var duplicates: Int
        var ignored: Int
        var rejected: Int
    }

    @Sendable func webhook(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let id = try context.pathParameter("connectionId")
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: env.configuration.maxBodyBytes)
        } catch {
            throw Problem(.payloadTooLarge, detail: "the body exceeds \(env.configuration.maxBodyBytes) bytes")
        }
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName.lowercased()] = field.value }
        let outcome = await env.webhooks.ingest(
            connectionId: id, method: request.method.rawValue, path: request.uri.description, headers: headers,
            body: Array(buffer.readableBytesView)
        )
        switch outcome {
        case .accepted(let accepted, let duplicates, let ignored, let rejected):
            return try JSONResponder.respond(
                WebhookAnswer(status: "accepted", accepted: accepted, duplicates: duplicates, ignored: ignored, rejected: rejected), to: request,
                etag: false
            )
        case .unauthorized:
            throw Problem(.signatureInvalid, detail: "the webhook signature does not verify for connection \(id)", field: "signature")
        case .invalid(let reason):
            throw Problem(.validation, detail: "unreadable webhook payload: \(reason)")
        case .unavailable(let reason):
            var p = Problem(.notReady, detail: "not recorded, retry later: \(reason)")
            p.statusCode = 503
            throw p
        }
    }

    @Sendable func listDLQ(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let token = try context.authenticated()
        let limit = try request.intParameter("limit", default: 500, range: 1...5000)
        return try JSONResponder.respond(["deadLetters": try await env.deadLetters.list(seller: token.seller, limit: limit)], to: request, etag: false)
    }

    @Sendable func replay(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let token = try context.authenticated()
        guard let id = Int64(try context.pathParameter("id")) else { throw Problem(.notFound, detail: "no dead letter with that id", field: "id") }
        guard try await env.deadLetters.replay(id: id, seller: token.seller) else {
            throw Problem(.notFound, detail: "no dead letter \(id)", field: "id")
        }
        env.propagator.poke()
        return try JSONResponder.respond(["replayed": 1], to: request, etag: false)
    }

    /// `DELETE /v1/dlq/{id}`: drops one dead letter without pushing it (204); 404 when the seller has no such entry.
    @Sendable func discard(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let token = try context.authenticated()
        guard let id = Int64(try context.pathParameter("id")) else { throw Problem(.notFound, detail: "no dead letter with that id", field: "id") }
        guard try await env.deadLetters.discard(id: id, seller: token.seller) else {
            throw Problem(.notFound, detail: "no dead letter \(id)", field: "id")
        }
        return Response(status: .noContent)
    }

    @Sendable func replayAll(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let token = try context.authenticated()
        let count = try await env.deadLetters.replayAll(seller: token.seller)
        env.propagator.poke()
        return try JSONResponder.respond(["replayed": count], to: request, etag: false)
    }
}
