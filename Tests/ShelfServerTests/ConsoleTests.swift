import Foundation
import GRDB
import HTTPTypes
import HummingbirdTesting
import NIOCore
import ShelfChannels
import ShelfLedger
import ShelfServer
import Testing
import ShelfTestSupport

@Suite("Seller console assets and the DLQ discard it uses")
struct ConsoleTests {
    @Test("GET /console serves the page with no token and a strict CSP, nosniff and no-referrer")
    func consolePage() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let page = try await client.send(.get, "/console")
            #expect(page.status == .ok)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            let csp = try #require(page.headers[.contentSecurityPolicy])
            #expect(csp.contains("default-src 'self'"))
            #expect(csp.contains("script-src 'self'"))
            #expect(!csp.contains("unsafe-inline"))
            #expect(page.headers[.xContentTypeOptions] == "nosniff")
            #expect(page.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
            // No inline script and nothing from another origin.
            #expect(page.text.contains(#"<script type="module" src="/console/app.js"></script>"#))
            #expect(!page.text.contains("<script>"))
            #expect(!page.text.contains("http://") && !page.text.contains("https://"))

            let script = try await client.send(.get, "/console/app.js")
            #expect(script.status == .ok)
            #expect(script.headers[.contentType] == "text/javascript; charset=utf-8")
            #expect(script.headers[.contentSecurityPolicy] == csp)
            let style = try await client.send(.get, "/console/console.css")
            #expect(style.status == .ok)
            #expect(style.headers[.contentType] == "text/css; charset=utf-8")

            for missing in ["/console/nope.js", "/console/..%2FPackage.swift", "/console/shelf.yaml"] {
                let r = try await client.send(.get, missing)
                #expect(r.status == .notFound, "\(missing)")
                #expect(r.headers[.contentType] == "application/problem+json")
            }
        }
    }

    static func insertDeadLetter(_ server: TestServer, seller: String, sku: String) throws -> Int64 {
        try server.env.ledger.database.pool.write { db in
            try db.execute(
                sql: "INSERT INTO dlq (seller, connection, sku, sequence, attempts, lastError, failedAt) VALUES (?, 'walmart-us', ?, 1, 6, 'HTTP 503', ?)",
                arguments: [seller, sku, Date().timeIntervalSince1970])
            return db.lastInsertedRowID
        }
    }

    @Test("GET /v1/connections counts dead letters; DELETE /v1/dlq/{id} discards one of the seller's (204), 404 otherwise, admin only")
    func discardDeadLetter() async throws {
        let server = try await TestServer.make()
        let mine = try Self.insertDeadLetter(server, seller: "demo", sku: "TEE-RED-M")
        let kept = try Self.insertDeadLetter(server, seller: "demo", sku: "TEE-RED-S")
        let theirs = try Self.insertDeadLetter(server, seller: "other", sku: "TEE-RED-M")
        try await server.run { client in
            // The connection list counts the seller's dead letters and shows the newest error (the other seller's are not counted).
            let connections = try await client.send(.get, "/v1/connections", token: server.admin).object()["connections"] as? [[String: Any]] ?? []
            let walmart = try #require(connections.first { $0["id"] as? String == "walmart-us" })
            #expect(walmart["deadLetters"] as? Int == 2)
            #expect(walmart["queueDepth"] as? Int == 0)
            #expect(walmart["lastError"] as? String == "HTTP 503")
            #expect(walmart["lastErrorAt"] is String)
            let amazon = try #require(connections.first { $0["id"] as? String == "amazon-us" })
            #expect(amazon["deadLetters"] as? Int == 0 && amazon["lastError"] == nil)

            #expect(try await client.send(.delete, "/v1/dlq/\(mine)").status == .unauthorized)
            #expect(try await client.send(.delete, "/v1/dlq/\(mine)", token: server.read).status == .forbidden)
            // Another seller's entry is not found, and stays.
            let foreign = try await client.send(.delete, "/v1/dlq/\(theirs)", token: server.admin)
            #expect(foreign.status == .notFound)
            #expect(value(try foreign.object(), "field") as? String == "id")

            let gone = try await client.send(.delete, "/v1/dlq/\(mine)", token: server.admin)
            #expect(gone.status == .noContent)
            #expect(gone.body.readableBytes == 0)
            let again = try await client.send(.delete, "/v1/dlq/\(mine)", token: server.admin)
            #expect(again.status == .notFound)
            #expect(again.headers[.contentType] == "application/problem+json")
            #expect(try await client.send(.delete, "/v1/dlq/abc", token: server.admin).status == .notFound)

            let listed = try await client.send(.get, "/v1/dlq", token: server.admin).object()["deadLetters"] as? [[String: Any]] ?? []
            #expect(listed.compactMap { ($0["id"] as? NSNumber)?.int64Value } == [kept])
        }
        let other = try await DeadLetterQueue(database: server.env.ledger.database).list(seller: "other")
        #expect(other.map(\.id) == [theirs])
    }
}
