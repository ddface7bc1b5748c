import Foundation
import Hummingbird
import ShelfCore
import ShelfLedger

/// `GET /v1/products/{sku}` (scope `read`): the SKU as schema.org JSON-LD (`Product` + `Offer` with availability, price,
/// inventory level and shipping details to `country`/`postalCode`), for pages and crawlers that read structured data.
struct ProductController: Sendable {
    let env: ShelfEnvironment
    var desk: AgentDesk { AgentDesk(env: env) }

    var routes: RouteCollection<ShelfRequestContext> {
        let routes = RouteCollection(context: ShelfRequestContext.self)
        routes.requiring(.read, env.tokens).get("products/:sku", use: product)
        return routes
    }

    /// Media types this route can answer: JSON-LD, or plain JSON for clients that ask for that.
    static func acceptable(_ accept: String?) -> Bool {
        guard let accept, !accept.isEmpty else { return true }
        return accept.split(separator: ",").contains { part in
            let fields = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            let refused = fields.dropFirst().contains { $0.replacingOccurrences(of: " ", with: "") == "q=0" || $0 == "q=0.0" || $0 == "q=0.00" }
            return !refused && ["application/ld+json", "application/json", "application/*", "*/*"].contains(fields.first ?? "")
        }
    }

    @Sendable func product(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let token = try context.authenticated()
        guard Self.acceptable(request.headers[.accept]) else {
            throw Problem(.notAcceptable, detail: "this resource is served as application/ld+json", field: "Accept")
        }
        let seller = try desk.seller(token)
        let state = try desk.activeSKU(try context.pathParameter("sku"), in: seller)
        let destination = try request.destination()
        let builder = env.offerBuilder(seller)
        let facts = ProductFacts(state, builder: builder, velocity: env.velocity, seller: seller.id)
        let document = SchemaOrgProduct(facts, catalog: seller.catalog, destination: destination, now: builder.now)
        return JSONResponder.bytes(try ShelfJSON.encode(document), contentType: "application/ld+json", to: request)
    }
}
