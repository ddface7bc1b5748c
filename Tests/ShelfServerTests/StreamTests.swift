import Foundation
import HTTPTypes
import HummingbirdTesting
import ShelfCore
import ShelfCurl
import ShelfLedger
import ShelfServer
import Testing

@Suite("Live stream (SSE) over live HTTP and libcurl")
struct StreamTests {
    /// Reads `max` events from the stream with real libcurl; returns the (id, type) pairs.
    static func read(port: Int, token: String, lastEventID: Int64?, max: Int, query: String = "") async throws -> [(Int64, String)] {
        let curl = CurlClient()
        var headers = [(name: "Authorization", value: "Bearer \(token)")]
        if let lastEventID { headers.append((name: "Last-Event-ID", value: String(lastEventID))) }
        let result = await Result(catching: { try await curl.execute(CurlRequest(url: "http://127.0.0.1:\(port)/v1/stream?max=\(max)\(query)",
                                                                       headers: headers, timeout: .seconds(20))) })
        await curl.shutdown()
        let response = try result.get()
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == "text/event-stream")
        var out: [(Int64, String)] = []
        var id: Int64?
        for line in String(decoding: response.body, as: UTF8.self).split(separator: "\n") {
            if line.hasPrefix("id: ") { id = Int64(line.dropFirst(4)) }
            if line.hasPrefix("event: "), let id { out.append((id, String(line.dropFirst(7)))) }
        }
        return out
    }

    @Test("a client that reconnects with Last-Event-ID receives every missed event exactly once, in order, then live ones")
    func resume() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            let port = try #require(client.port)
            let start = server.env.snapshot.seller("demo")!.lastSequence
            for i in 0..<5 {
                let r = try await client.send(.post, "/v1/events", token: server.ingest,
                                              json: #"{"type":"order.confirmed","sku":"TEE-RED-M","qty":1}"#, headers: ["Idempotency-Key": "s\(i)"])
                #expect(r.status == .accepted)
            }
            let first = try await Self.read(port: port, token: server.read, lastEventID: start, max: 2)
            #expect(first.map(\.0) == [start + 1, start + 2])
            #expect(first.allSatisfy { $0.1 == "order.confirmed" })
            // Reconnect after the second: the rest, exactly once and in order; then a live event arrives on the same stream.
            async let rest = Self.read(port: port, token: server.read, lastEventID: start + 2, max: 4)
            try await Task.sleep(for: .milliseconds(300))
            _ = try await client.send(.post, "/v1/events", token: server.ingest,
                                      json: #"{"type":"stock.received","sku":"TEE-RED-M","qty":3}"#, headers: ["Idempotency-Key": "live"])
            let got = try await rest
            #expect(got.map(\.0) == [start + 3, start + 4, start + 5, start + 6])
            #expect(got.last?.1 == "stock.received")
            let filtered = try await Self.read(port: port, token: server.read, lastEventID: start, max: 1, query: "&types=stock.received")
            #expect(filtered.map(\.0) == [start + 6])
            // Another seller's stream sees none of these.
            let other = try await client.send(.post, "/v1/events", token: server.otherAdmin,
                                              json: #"{"type":"stock.received","sku":"OTHER-ONLY","qty":1}"#, headers: ["Idempotency-Key": "o"])
            #expect(other.status == .accepted)
            let theirs = try await Self.read(port: port, token: server.otherAdmin, lastEventID: 0, max: 2, query: "&sku=OTHER-ONLY")
            #expect(theirs.map(\.1) == ["sku.upserted", "stock.received"])
        }
    }
}

extension Result where Failure == any Error {
    /// Captures an async throwing call.
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
