import Foundation
import Hummingbird
import ShelfCore
import ShelfLedger

/// Holds for carts and agents (scope `read` or above): create (idempotent), read, release, commit into an order.
struct ReservationController: Sendable {
    let env: ShelfEnvironment
    /// Shortest and longest hold.
    static let ttlRange = 30...86_400

    func register(on router: Router<ShelfRequestContext>) {
        router.post("/v1/reservations", use: create)
        router.get("/v1/reservations/:id", use: show)
        router.delete("/v1/reservations/:id", use: release)
        router.post("/v1/reservations/:id/commit", use: commit)
    }

    struct CreateBody: Decodable {
        var sku: String
        var qty: Int
        var ttlSeconds: Int
        var location: String?
        var channel: String?
    }

    /// A hold on the wire.
    struct ReservationView: Encodable {
        var id: String
        var sku: String
        var qty: Int
        var location: String
        var expiresAt: Date
        var status: String
        var sequence: Int64?
        var available: Int?
    }

    @Sendable func create(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let token = try request.authenticate(env.tokens, scope: .read)
        guard let key = request.headers[.init("Idempotency-Key")!], !key.isEmpty, key.count <= 200 else {
            throw Problem(.validation, detail: "the Idempotency-Key header is required (1–200 characters)", field: "Idempotency-Key")
        }
        let buffer = try await request.jsonBody(limit: 64 << 10)
        let body = try StrictJSON.decode(CreateBody.self, from: buffer, shape: .object([
            "sku": .any, "qty": .any, "ttlSeconds": .any, "location": .any, "channel": .any,
        ]))
        guard (1...1_000_000).contains(body.qty) else { throw Problem(.validation, detail: "qty must be from 1 to 1000000", field: "qty") }
        guard Self.ttlRange.contains(body.ttlSeconds) else {
            throw Problem(.validation, detail: "ttlSeconds must be from \(Self.ttlRange.lowerBound) to \(Self.ttlRange.upperBound)",
                          field: "ttlSeconds")
        }
        guard Validation.isIdentifier(body.sku) else { throw Problem(.validation, detail: "sku is not a valid SKU", field: "sku") }
        let seller = env.snapshot.seller(token.seller)
        if let location = body.location, seller?.catalog.location(location) == nil {
            throw Problem(.validation, detail: "unknown location \(location)", field: "location")
        }
        let now = env.clock.now()
        let draft = ShelfEvent(
            type: .reservationCreated, sku: body.sku, location: body.location, channel: body.channel, qty: body.qty,
            reservation: Reservation(id: "", sku: body.sku, location: body.location ?? "", qty: body.qty,
                                     expiresAt: now.addingTimeInterval(TimeInterval(body.ttlSeconds))),
            occurredAt: now
        )
        let command = Command(seller: token.seller, source: "reservation", key: key,
                              requestHash: Data(buffer.readableBytesView).sha256Hex, draft: draft)
        switch await env.ledger.submit(command) {
        case .success(let outcome):
            guard let hold = outcome.reservation else { throw Problem(.internalError, detail: "the hold was not recorded") }
            let current = env.snapshot.seller(token.seller)?.sku(hold.sku)
            let active = current?.holds.contains { $0.id == hold.id } == true && hold.isActive(at: env.clock.now())
            let view = ReservationView(
                id: hold.id, sku: hold.sku, qty: hold.qty, location: hold.location, expiresAt: hold.expiresAt,
                status: active ? "active" : "ended", sequence: outcome.sequence, available: current?.available(now: env.clock.now())
            )
            return try JSONResponder.respond(view, to: request, status: outcome.status == .accepted ? .created : .ok, etag: false)
        case .failure(let error):
            throw Problem.from(error)
        }
    }

    func find(_ request: Request, _ context: ShelfRequestContext) throws -> (TokenInfo, SellerSnapshot, Reservation) {
        let token = try request.authenticate(env.tokens, scope: .read)
        let id = try context.pathParameter("id")
        guard let seller = env.snapshot.seller(token.seller), let sku = seller.skuForReservation(id),
              let hold = seller.sku(sku)?.holds.first(where: { $0.id == id })
        else { throw Problem(.notFound, detail: "no active reservation \(id)", field: "id") }
        return (token, seller, hold)
    }

    @Sendable func show(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let (_, _, hold) = try find(request, context)
        let status = hold.isActive(at: env.clock.now()) ? "active" : "expired"
        return try JSONResponder.respond(
            ReservationView(id: hold.id, sku: hold.sku, qty: hold.qty, location: hold.location, expiresAt: hold.expiresAt, status: status),
            to: request, etag: false
        )
    }

    @Sendable func release(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        try await end(request, context, type: .reservationReleased, status: "released")
    }

    @Sendable func commit(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        try await end(request, context, type: .reservationCommitted, status: "committed")
    }

    func end(_ request: Request, _ context: ShelfRequestContext, type: EventType, status: String) async throws -> Response {
        let (token, _, hold) = try find(request, context)
        let draft = ShelfEvent(
            type: type, sku: hold.sku, reservation: hold, occurredAt: env.clock.now()
        )
        switch await env.ledger.submit(Command(seller: token.seller, source: "reservation", draft: draft)) {
        case .success(let outcome):
            return try JSONResponder.respond(
                ReservationView(id: hold.id, sku: hold.sku, qty: hold.qty, location: hold.location, expiresAt: hold.expiresAt, status: status,
                                sequence: outcome.sequence, available: outcome.available),
                to: request, etag: false
            )
        case .failure(let error):
            throw Problem.from(error)
        }
    }
}
