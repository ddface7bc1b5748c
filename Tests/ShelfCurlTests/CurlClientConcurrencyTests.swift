import ShelfCurl
import Testing

@Suite("CurlClient concurrency and connection reuse", .timeLimit(.minutes(1)))
struct CurlClientConcurrencyTests {
    @Test("300 concurrent requests all succeed on one client (default limits), within the host connection limit")
    func threeHundredConcurrentRequests() async throws {
        try await withServerAndClient { server, client in
            let bodies = try await withThrowingTaskGroup(of: (Int, CurlResponse).self) { group in
                for index in 0..<300 {
                    group.addTask {
                        let request = CurlRequest(
                            method: "POST",
                            url: server.url("/echo/\(index)"),
                            body: Array("request \(index)".utf8),
                            timeout: .seconds(40)
                        )
                        return (index, try await client.execute(request))
                    }
                }
                var bodies: [Int: String] = [:]
                for try await (index, response) in group {
                    #expect(response.status == 200)
                    bodies[index] = String(decoding: response.body, as: UTF8.self)
                }
                return bodies
            }
            #expect(bodies.count == 300)
            #expect(bodies.allSatisfy { $0.value == "request \($0.key)" })
            #expect(server.acceptedConnectionCount <= 64)
            #expect(client.inFlightCount == 0)
        }
    }

    @Test("300 slow requests overlap: 200 ms each, far faster than one after another")
    func slowRequestsOverlap() async throws {
        try await withServerAndClient(maxTotalConnections: 150, maxHostConnections: 150) { server, client in
            let (statuses, elapsed) = try await measure {
                try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<300 {
                        group.addTask { try await client.execute(CurlRequest(url: server.url("/delay/200"), timeout: .seconds(40))).status }
                    }
                    return try await group.reduce(into: [Int]()) { $0.append($1) }
                }
            }
            #expect(statuses.count == 300 && statuses.allSatisfy { $0 == 200 })
            // Sequentially this is 60 s; with 150 connections it is two rounds of 200 ms plus overhead.
            #expect(elapsed < .seconds(30))  // one after another would take 60 s
            #expect(server.acceptedConnectionCount <= 150)
        }
    }

    @Test("Sequential requests reuse one kept-alive TCP connection")
    func keepAliveReuse() async throws {
        try await withServerAndClient { server, client in
            for index in 0..<50 {
                let request = index.isMultiple(of: 2)
                    ? CurlRequest(url: server.url("/echo/get"))
                    : CurlRequest(method: "POST", url: server.url("/echo/post"), body: Array("n=\(index)".utf8))
                let response = try await client.execute(request)
                #expect(response.status == 200)
            }
            #expect(server.receivedRequests.count == 50)
            #expect(server.acceptedConnectionCount == 1)
        }
    }

    @Test("A kept-alive connection the server closed is replaced transparently, even for a request with a body")
    func staleConnectionIsReplaced() async throws {
        try await withServerAndClient { server, client in
            let first = try await client.execute(CurlRequest(url: server.url("/close-after")))
            #expect(first.body == Array("closing".utf8))
            #expect(await eventually { server.closedConnectionCount == 1 })
            let body = Array("after the server closed".utf8)
            let second = try await client.execute(CurlRequest(method: "POST", url: server.url("/echo/again"), body: body))
            #expect(second.body == body)
            #expect(server.acceptedConnectionCount == 2)
        }
    }
}
