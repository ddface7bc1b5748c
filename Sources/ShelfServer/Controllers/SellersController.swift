import Foundation
import Hummingbird
import NIOCore
import ShelfCore
import ShelfLedger

/// The platform operator's routes (scope `platform`, which no seller token carries): create and list sellers (tenants) and
/// issue a new seller's first token. Nothing here reads or changes a seller's stock.
struct SellersController: Sendable {
    let env: ShelfEnvironment

    var routes: RouteCollection<ShelfRequestContext> {
        let routes = RouteCollection(context: ShelfRequestContext.self)
        routes.requiring(.platform, env.tokens)
            .post("sellers", use: create)
            .get("sellers", use: list)
            .get("sellers/:id", use: get)
            .post("sellers/:id/tokens", use: createToken)
        return routes
    }

    /// The body of `POST /v1/sellers`: identity, settings, business calendar and the names rules may use.
    struct SellerBody: Decodable {
        var id: String
        var name: String
        var currency: String
        var timeZone: String
        var holidays: [String]?
        var suppliers: [NamedEntity]?
        var notifyTargets: [NamedEntity]?
        var collections: [String]?
    }

    static let entityShape: StrictJSON.Shape = .array(.object(["id": .any, "name": .any, "aliases": .any, "address": .any]))

    @Sendable func create(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let body = try StrictJSON.decode(SellerBody.self, from: try await request.jsonBody(limit: 256 << 10), shape: .object([
            "id": .any, "name": .any, "currency": .any, "timeZone": .any, "holidays": .any, "suppliers": Self.entityShape,
            "notifyTargets": Self.entityShape, "collections": .any,
        ]))
        var holidays: [CivilDate] = []
        for (i, text) in (body.holidays ?? []).enumerated() {
            guard let day = CivilDate(text) else {
                throw Problem(.validation, detail: "holidays[\(i)] must be a date like 2026-12-25", field: "holidays[\(i)]")
            }
            holidays.append(day)
        }
        let seller = SellerFixture(
            id: body.id, name: body.name, currency: body.currency, timeZone: body.timeZone, suppliers: body.suppliers ?? [],
            notifyTargets: body.notifyTargets ?? [], collections: body.collections ?? [], holidays: Array(Set(holidays)).sorted()
        )
        if let (field, reason) = seller.problem { throw Problem(.validation, detail: "\(field) \(reason)", field: field) }
        guard try await env.ledger.createSeller(seller) else {
            throw Problem(.conflict, detail: "a seller with id \(seller.id) exists already", field: "id")
        }
        guard let summary = try await env.ledger.seller(id: seller.id) else {
            throw Problem(.internalError, detail: "the new seller could not be read back")
        }
        return try JSONResponder.respond(summary, to: request, status: .created, etag: false,
                                         headers: [.location: "/v1/sellers/\(seller.id)"])
    }

    @Sendable func list(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        return try JSONResponder.respond(["sellers": try await env.ledger.sellers()], to: request, etag: false)
    }

    @Sendable func get(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        return try JSONResponder.respond(try await seller(context), to: request, etag: false)
    }

    /// A seller's token issued by the platform operator (how a new tenant gets its first admin token).
    @Sendable func createToken(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let seller = try await seller(context)
        return try await AdminController.issueToken(for: seller.id, request: request, tokens: env.tokens)
    }

    func seller(_ context: ShelfRequestContext) async throws -> Ledger.SellerSummary {
        let id = try context.pathParameter("id")
        guard let found = try await env.ledger.seller(id: id) else {
            throw Problem(.notFound, detail: "unknown seller \(id)", field: "id")
        }
        return found
    }
}
