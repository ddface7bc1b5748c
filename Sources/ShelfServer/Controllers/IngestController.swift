import Foundation
import Hummingbird
import ShelfCore
import ShelfLedger

/// `POST /v1/events` (scope `ingest`): normalized events with an `Idempotency-Key`, acknowledged only after commit.
struct IngestController: Sendable {
    let env: ShelfEnvironment

    var routes: RouteCollection<ShelfRequestContext> {
        let routes = RouteCollection(context: ShelfRequestContext.self)
        routes.requiring(.ingest, env.tokens).post("events", use: ingest)
        return routes
    }

    /// A normalized event as integrations post it.
    struct EventBody: Decodable {
        var type: String
        var sku: String
        var qty: Int?
        var channel: String?
        var location: String?
        var externalId: String?
        var orderId: String?
        var occurredAt: Date?
        var price: Money?
    }

    static let shape: StrictJSON.Shape = .object([
        "type": .any, "sku": .any, "qty": .any, "channel": .any, "location": .any, "externalId": .any, "orderId": .any,
        "occurredAt": .any, "price": StrictJSON.money,
    ])

    /// The answer of `POST /v1/events`.
    struct Accepted: Encodable {
        var status: String
        var sequence: Int64
        var oversold: Int
        var available: Int?
    }

    @Sendable func ingest(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let token = try context.authenticated()
        guard let key = request.headers[.init("Idempotency-Key")!], !key.isEmpty else {
            throw Problem(.validation, detail: "the Idempotency-Key header is required", field: "Idempotency-Key")
        }
        guard key.count <= 200 else { throw Problem(.validation, detail: "Idempotency-Key is at most 200 characters", field: "Idempotency-Key") }
        let buffer = try await request.jsonBody(limit: env.configuration.maxBodyBytes)
        let body = try StrictJSON.decode(EventBody.self, from: buffer, shape: Self.shape)
        let draft = try Self.draft(body, seller: env.snapshot.seller(token.seller), now: env.clock.now())
        let command = Command(
            seller: token.seller, source: "direct", key: key, requestHash: Data(buffer.readableBytesView).sha256Hex, draft: draft
        )
        switch await env.ledger.submit(command) {
        case .success(let outcome):
            return try JSONResponder.respond(
                Accepted(status: outcome.status.rawValue, sequence: outcome.sequence, oversold: outcome.oversold, available: outcome.available),
                to: request, status: .accepted, etag: false
            )
        case .failure(let error):
            throw Problem.from(error)
        }
    }

    /// Validates a posted event and turns it into a draft; every problem names its field.
    static func draft(_ body: EventBody, seller: SellerSnapshot?, now: Date) throws -> ShelfEvent {
        guard let type = EventType(rawValue: body.type), EventType.ingestible.contains(type) else {
            throw Problem(.validation, detail: "type must be one of \(EventType.ingestible.map(\.rawValue).joined(separator: ", "))", field: "type")
        }
        guard Validation.isIdentifier(body.sku) else {
            throw Problem(.validation, detail: "sku must be 1–128 printable characters without spaces or slashes", field: "sku")
        }
        if let channel = body.channel, seller?.catalog.channels.contains(where: { $0.id == channel }) != true {
            throw Problem(.validation, detail: "unknown channel \(channel)", field: "channel")
        }
        if let location = body.location, seller?.catalog.location(location) == nil {
            throw Problem(.validation, detail: "unknown location \(location)", field: "location")
        }
        switch type {
        case .priceChanged:
            guard let price = body.price else { throw Problem(.validation, detail: "price is required for price.changed", field: "price") }
            guard price.amount >= 0 else { throw Problem(.validation, detail: "price.amount must not be negative", field: "price.amount") }
            guard price.currency == seller?.sku(body.sku)?.item.price.currency || seller?.sku(body.sku) == nil else {
                throw Problem(.validation, detail: "price.currency must be the SKU's currency", field: "price.currency")
            }
            guard body.qty == nil else { throw Problem(.validation, detail: "qty does not apply to price.changed", field: "qty") }
        case .stockAdjusted:
            guard let qty = body.qty, qty != 0, (-1_000_000_000...1_000_000_000).contains(qty) else {
                throw Problem(.validation, detail: "qty must be a non-zero integer (negative lowers stock)", field: "qty")
            }
        case .stockSet:
            guard let qty = body.qty, (0...1_000_000_000).contains(qty) else {
                throw Problem(.validation, detail: "qty must be from 0 to 1000000000", field: "qty")
            }
        default:
            guard let qty = body.qty, (1...1_000_000_000).contains(qty) else {
                throw Problem(.validation, detail: "qty must be from 1 to 1000000000", field: "qty")
            }
        }
        if type != .priceChanged, body.price != nil {
            throw Problem(.validation, detail: "price only applies to price.changed", field: "price")
        }
        if let at = body.occurredAt, !Timestamp.isSupported(at) {
            throw Problem(.validation, detail: "occurredAt must be between 1970 and 9000", field: "occurredAt")
        }
        return ShelfEvent(
            type: type, sku: body.sku, location: body.location, channel: body.channel, qty: body.qty, price: body.price,
            orderId: body.orderId ?? body.externalId, occurredAt: body.occurredAt ?? now
        )
    }
}

/// Shared input checks.
enum Validation {
    /// SKU, location, channel and connection ids: 1–128 visible characters, no whitespace, no `/`, `?` or `#`.
    static func isIdentifier(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 128
            && s.unicodeScalars.allSatisfy { !$0.properties.isWhitespace && $0.value >= 0x21 && $0 != "/" && $0 != "?" && $0 != "#" }
            && TextPolicy.problem(s) == nil
    }
}
