import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ShelfLedger
import ShelfServer
import Testing
import ShelfTestSupport

/// `RequireScope`: every bearer route declares its scope; refusals come before the handler (and before the body is read).
@Suite("AuthMiddleware")
struct AuthMiddlewareTests {
    /// Every route that needs a bearer token, with the scope it declares.
    static let routes: [(HTTPRequest.Method, String, Scope)] = [
        (.get, "/v1/offers/TEE-RED-M", .read), (.post, "/v1/offers:batch", .read), (.get, "/v1/catalog", .read),
        (.get, "/v1/stock/TEE-RED-M", .read), (.get, "/v1/prices/TEE-RED-M", .read), (.get, "/v1/delivery/TEE-RED-M", .read),
        (.post, "/v1/reservations", .read), (.get, "/v1/reservations/r1", .read), (.delete, "/v1/reservations/r1", .read),
        (.post, "/v1/reservations/r1/commit", .read), (.get, "/v1/stream", .read), (.get, "/v1/feed/acp", .read),
        (.get, "/v1/feed/google.tsv", .read), (.post, "/mcp", .read), (.get, "/mcp", .read), (.delete, "/mcp", .read),
        (.post, "/ucp/catalog/search", .read), (.post, "/ucp/catalog/lookup", .read), (.get, "/ucp/catalog/product/P1", .read),
        (.get, "/v1/products/TEE-RED-M", .read), (.get, "/v1/locations", .read), (.get, "/v1/channels", .read),
        (.post, "/v1/events", .ingest),
        (.put, "/v1/skus/X1", .admin), (.delete, "/v1/skus/X1", .admin), (.post, "/v1/skus:import", .admin),
        (.put, "/v1/skus/X1/listings/etsy", .admin), (.put, "/v1/locations/l1", .admin), (.put, "/v1/channels/c1", .admin),
        (.post, "/v1/tokens", .admin), (.get, "/v1/tokens", .admin), (.delete, "/v1/tokens/t1", .admin),
        (.get, "/v1/connections", .admin), (.get, "/v1/connections/c1", .admin), (.put, "/v1/connections/c1", .admin),
        (.delete, "/v1/connections/c1", .admin), (.get, "/v1/audit", .admin), (.get, "/v1/settings/spikes", .admin),
        (.put, "/v1/settings/spikes", .admin), (.get, "/v1/quarantine", .admin), (.get, "/v1/dlq", .admin),
        (.post, "/v1/dlq/d1/replay", .admin), (.delete, "/v1/dlq/d1", .admin), (.post, "/v1/dlq:replay-all", .admin),
        (.get, "/v1/reconciliation", .admin), (.post, "/v1/reconciliation:run", .admin), (.post, "/v1/rules:parse", .admin),
        (.post, "/v1/rules", .admin), (.get, "/v1/rules", .admin), (.get, "/v1/rules/r1", .admin), (.patch, "/v1/rules/r1", .admin),
        (.delete, "/v1/rules/r1", .admin),
        (.post, "/v1/sellers", .platform), (.get, "/v1/sellers", .platform), (.get, "/v1/sellers/demo", .platform),
        (.post, "/v1/sellers/demo/tokens", .platform),
    ]

    // The time limit: if a refused token ever reached the handler of `GET /v1/stream`, its never-ending stream must fail the test, not hang it.
    @Test("every bearer route answers 401 without a token and 403 naming its scope to a token without it", .timeLimit(.minutes(1)))
    func everyRouteDeclaresItsScope() async throws {
        let server = try await TestServer.make()
        let ingestOnly = try await server.env.tokens.create(seller: "demo", scopes: [.ingest], ttl: nil).1
        let platform = try await server.env.tokens.create(seller: TokenInfo.platformSeller, scopes: [.platform], ttl: nil).1
        let lacking: [Scope: String] = [.read: ingestOnly, .ingest: server.read, .admin: server.ingest, .platform: server.admin]
        try await server.run { client in
            for (method, path, scope) in Self.routes {
                let missing = try await client.send(method, path, json: "{}")
                #expect(missing.status == .unauthorized, "\(method) \(path)")
                #expect(missing.headers[.wwwAuthenticate] == #"Bearer realm="shelf""#, "\(method) \(path)")
                #expect(try missing.object()["field"] as? String == "Authorization", "\(method) \(path)")
                let unknown = try await client.send(method, path, token: "shelf_000000000000_nope", json: "{}")
                #expect(unknown.status == .unauthorized, "\(method) \(path)")
                let refused = try await client.send(method, path, token: lacking[scope]!, json: "{}")
                #expect(refused.status == .forbidden, "\(method) \(path)")
                #expect((try refused.object()["detail"] as? String)?.contains("needs the \(scope.rawValue) scope") == true, "\(method) \(path)")
                if scope != .platform {
                    #expect(try await client.send(method, path, token: platform, json: "{}").status == .forbidden, "\(method) \(path)")
                }
            }
            // Admin implies read and ingest for a seller's token.
            #expect(try await client.send(.get, "/v1/catalog?limit=1", token: server.admin).status == .ok)
            let event = #"{"type":"stock.received","sku":"TEE-RED-M","qty":1}"#
            #expect(try await client.send(.post, "/v1/events", token: server.admin, json: event, headers: ["Idempotency-Key": "a1"]).status.code < 300)
            #expect(try await client.send(.get, "/v1/sellers", token: platform).status.code < 300)
        }
    }

    @Test("routes without a bearer token stay open")
    func openRoutes() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            for path in ["/healthz", "/livez", "/readyz", "/openapi.yaml", "/console", "/.well-known/ucp"] {
                let response = try await client.send(.get, path)
                #expect(response.status != .unauthorized && response.status != .forbidden, "\(path)")
            }
            // Webhooks are authenticated by the channel's signature, not a bearer token: no Authorization problem.
            let webhook = try await client.send(.post, "/v1/webhooks/nope", json: "{}")
            #expect(try webhook.object()["field"] as? String != "Authorization", "\(webhook.text)")
        }
    }

    @Test("a refused token is answered before the body is read (403, not 413, on a body over the route's limit)")
    func refusalBeforeBody() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let big = #"{"text":""# + String(repeating: "x", count: 100_000) + #""}"#
            let read = try await client.send(.post, "/v1/rules:parse", token: server.admin, json: big)
            #expect(read.status.code == 413)
            let refused = try await client.send(.post, "/v1/rules:parse", token: server.read, json: big)
            #expect(refused.status == .forbidden)
            let missing = try await client.send(.post, "/v1/rules:parse", json: big)
            #expect(missing.status == .unauthorized)
        }
    }

    @Test("the Authorization header: the scheme in any case, spaces around the secret; anything else is refused")
    func authorizationHeaderForms() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            func status(_ header: String) async throws -> HTTPResponse.Status {
                try await client.send(.get, "/v1/catalog?limit=1", headers: ["Authorization": header]).status
            }
            let secret = server.read
            for accepted in ["Bearer \(secret)", "bearer \(secret)", "BEARER \(secret)", "bEaReR \(secret)", "Bearer   \(secret)",
                             "Bearer \(secret) ", "Bearer \(secret)\t"] {
                let answer = try await status(accepted)
                #expect(answer == .ok, "\(accepted)")
            }
            for refused in ["Bearer", "Bearer ", "Bearer\t\(secret)", "Basic \(secret)", "Bearerx \(secret)", "Bearer \(secret)x",
                            "\(secret)", "Bearer \(secret.dropLast())", "Token \(secret)", "Bear \(secret)"] {
                let answer = try await status(refused)
                #expect(answer == .unauthorized, "\(refused)")
            }
        }
    }

    @Test("a revoked token is refused on the very next request")
    func revocationIsInstant() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let created = try await client.send(.post, "/v1/tokens", token: server.admin, json: #"{"scopes":["read"]}"#).object()
            let token = try #require(created["token"] as? String)
            let id = try #require(value(created, "info.id") as? String)
            #expect(try await client.send(.get, "/v1/catalog?limit=1", token: token).status == .ok)
            #expect(try await client.send(.get, "/v1/catalog?limit=1", token: token).status == .ok)
            #expect(try await client.send(.delete, "/v1/tokens/\(id)", token: server.admin).status == .noContent)
            #expect(try await client.send(.get, "/v1/catalog?limit=1", token: token).status == .unauthorized)
        }
    }

    @Test("an unknown token sent 1,000 times reads the token table at most once")
    func unknownTokenFlood() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let before = server.env.tokens.databaseReads
            for _ in 0..<1000 {
                let response = try await client.send(.get, "/v1/catalog", token: "shelf_deadbeef0000_flood")
                #expect(response.status == .unauthorized)
            }
            #expect(server.env.tokens.databaseReads - before <= 1)
        }
    }
}
