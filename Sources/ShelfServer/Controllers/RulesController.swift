import Foundation
import Hummingbird
import ShelfAutomation
import ShelfCore
import ShelfLedger
import ShelfRules

/// Plain-English automations (scope `admin`): dry-run parse, store, list, enable/disable, delete.
struct RulesController: Sendable {
    let env: ShelfEnvironment

    var routes: RouteCollection<ShelfRequestContext> {
        let routes = RouteCollection(context: ShelfRequestContext.self)
        routes.requiring(.admin, env.tokens)
            .post("rules:parse", use: parse)
            .post("rules", use: create)
            .get("rules", use: list)
            .get("rules/:id", use: show)
            .patch("rules/:id", use: patch)
            .delete("rules/:id", use: delete)
        return routes
    }

    struct TextBody: Decodable {
        var text: String
    }

    static func catalog(seller: SellerSnapshot, fixture: SellerFixture?, currency: String) -> RuleCatalog {
        RulesCatalogBuilder.catalog(seller: seller, fixture: fixture, currency: currency)
    }
}

/// Builds the parser's vocabulary from a seller.
public enum RulesCatalogBuilder {
    /// The seller's vocabulary for the parser: channels, locations, suppliers, notify targets, collections.
    public static func catalog(seller: SellerSnapshot, fixture: SellerFixture?, currency: String) -> RuleCatalog {
        let entries: ([(String, [String])]) -> [RuleCatalogEntry] = { $0.map { RuleCatalogEntry(id: $0.0, aliases: $0.1) } }
        /// A channel or location is called by its name and by each alias (the name first, each spelling once).
        func names(_ name: String, _ aliases: [String]) -> [String] {
            [name] + aliases.filter { $0.caseInsensitiveCompare(name) != .orderedSame }
        }
        return RuleCatalog(
            channels: entries(seller.catalog.channels.map { ($0.id, names($0.name, $0.aliases)) }),
            locations: entries(seller.catalog.locations.map { ($0.id, names($0.name, $0.aliases)) }),
            suppliers: entries((fixture?.suppliers ?? []).map { ($0.id, $0.aliases) }),
            notifyTargets: entries((fixture?.notifyTargets ?? []).map { ($0.id, $0.aliases) }),
            collections: entries((fixture?.collections ?? []).map { ($0, [$0]) }),
            skus: nil, currency: currency
        )
    }
}

extension RulesController {

    func parsed(_ request: Request, _ context: ShelfRequestContext) async throws -> (TokenInfo, String, RuleParseResult) {
        let token = try context.authenticated()
        let body = try StrictJSON.decode(TextBody.self, from: try await request.jsonBody(limit: 16 << 10), shape: .object(["text": .any]))
        guard !body.text.trimmingCharacters(in: .whitespaces).isEmpty, body.text.count <= 2000 else {
            throw Problem(.validation, detail: "text must be 1–2000 characters", field: "text")
        }
        if let reason = TextPolicy.problem(body.text, multiline: true) { throw Problem(.validation, detail: "text \(reason)", field: "text") }
        guard let seller = env.snapshot.seller(token.seller) else { throw Problem(.notFound, detail: "unknown seller") }
        let currency = (try? await env.ledger.sellerSettings(token.seller))??.currency ?? "USD"
        let catalog = Self.catalog(seller: seller, fixture: try await env.ledger.sellerFixture(token.seller), currency: currency)
        return (token, body.text, RuleParser.parse(body.text, catalog: catalog))
    }

    /// 422 problem carrying the parser's error object.
    func problem(_ error: RuleParseError?) throws -> Problem {
        var p = Problem(.validation, detail: error?.message ?? "the sentence could not be read", field: "text")
        p.error = try JSONDecoder().decode(JSONValue.self, from: RuleJSON.makeEncoder().encode(error))
        return p
    }

    /// `?recent=N` (1…1000) also dry-runs the parsed rule over the seller's latest N events (`dryRun` in the answer).
    @Sendable func parse(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let recent = try request.intParameter("recent", default: 0, range: 0...1000)
        let (token, _, result) = try await parsed(request, context)
        guard result.ok else { throw try problem(result.error) }
        guard recent > 0, let rule = result.rule else { return try rawJSON(RuleJSON.makeEncoder().encode(result), request: request) }
        let (engine, seller) = (env.ruleEngine, token.seller)
        // Replays and windowed counts read the ledger (SQLite): blocking work, so off the event loop.
        let run = try await EventLoopExecution.offLoop { try await engine.dryRun(rule, seller: seller, limit: recent) }
        guard case .object(var answer) = try JSONDecoder().decode(JSONValue.self, from: RuleJSON.makeEncoder().encode(result)) else {
            return try rawJSON(RuleJSON.makeEncoder().encode(result), request: request)
        }
        answer["dryRun"] = .object([
            "considered": .int(Int64(run.considered)), "fromSequence": .int(run.fromSequence), "toSequence": .int(run.toSequence),
            "matched": .int(Int64(run.matched)),
            "firings": .array(run.firings.map { f in
                .object(["sequence": .int(f.sequence), "type": .string(f.type), "sku": .string(f.sku),
                         "recordedAt": .string(Timestamp.format(f.recordedAt))])
            }),
        ])
        return try rawJSON(RuleJSON.makeEncoder().encode(JSONValue.object(answer)), request: request)
    }

    func rawJSON(_ data: Data, request: Request, status: HTTPResponse.Status = .ok) throws -> Response {
        JSONResponder.bytes(data, contentType: "application/json", to: request, status: status, etag: false)
    }

    /// A stored rule on the wire (the rule as structured JSON, not a string).
    struct RuleView: Encodable {
        var id: String
        var text: String
        var rule: JSONValue
        var explain: String
        var enabled: Bool
        var createdAt: Date
        /// Why the engine paused the rule (its actions kept failing); absent while it runs.
        var pausedReason: String?

        init(_ r: StoredRule) throws {
            id = r.id
            text = r.text
            rule = try JSONDecoder().decode(JSONValue.self, from: Data(r.rule.utf8))
            explain = r.explain
            enabled = r.enabled
            createdAt = r.createdAt
            pausedReason = r.pausedReason
        }
    }

    @Sendable func create(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let (token, text, result) = try await parsed(request, context)
        guard result.ok, let rule = result.rule else { throw try problem(result.error) }
        let stored = StoredRule(
            id: "rule_" + UUID().uuidString.lowercased().prefix(12), text: text,
            rule: String(decoding: try RuleJSON.makeEncoder().encode(rule), as: UTF8.self), explain: result.explain ?? "", enabled: true,
            createdAt: env.clock.now()
        )
        try await env.rules.insert(stored, seller: token.seller)
        await env.ruleEngine.reload()
        return try JSONResponder.respond(try RuleView(stored), to: request, status: .created, etag: false)
    }

    @Sendable func list(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let token = try context.authenticated()
        return try JSONResponder.respond(["rules": try await env.rules.list(seller: token.seller).map(RuleView.init)], to: request, etag: false)
    }

    func find(_ request: Request, _ context: ShelfRequestContext) async throws -> (TokenInfo, StoredRule) {
        let token = try context.authenticated()
        let id = try context.pathParameter("id")
        guard let rule = try await env.rules.list(seller: token.seller).first(where: { $0.id == id }) else {
            throw Problem(.notFound, detail: "no rule \(id)", field: "id")
        }
        return (token, rule)
    }

    @Sendable func show(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let (_, rule) = try await find(request, context)
        return try JSONResponder.respond(try RuleView(rule), to: request, etag: false)
    }

    struct PatchBody: Decodable {
        var enabled: Bool
    }

    @Sendable func patch(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let (token, rule) = try await find(request, context)
        let body = try StrictJSON.decode(PatchBody.self, from: try await request.jsonBody(limit: 4096), shape: .object(["enabled": .any]))
        _ = try await env.rules.setEnabled(body.enabled, id: rule.id, seller: token.seller)
        await env.ruleEngine.reload()
        var updated = rule
        updated.enabled = body.enabled
        updated.pausedReason = nil
        return try JSONResponder.respond(try RuleView(updated), to: request, etag: false)
    }

    @Sendable func delete(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let (token, rule) = try await find(request, context)
        _ = try await env.rules.delete(id: rule.id, seller: token.seller)
        await env.ruleEngine.reload()
        return Response(status: .noContent)
    }
}
