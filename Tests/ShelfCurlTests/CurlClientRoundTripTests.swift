import ShelfCurl
import Testing

@Suite("CurlClient round trips", .timeLimit(.minutes(1)))
struct CurlClientRoundTripTests {
    @Test("GET returns status, every response header in order, and the body")
    func getRoundTripsResponseExactly() async throws {
        try await withServerAndClient { server, client in
            let response = try await client.execute(CurlRequest(url: server.url("/headers")))
            #expect(response.status == 200)
            #expect(response.body == Array("ok".utf8))
            let headers = response.headers.map { "\($0.name)=\($0.value)" }
            #expect(headers == ["Content-Length=2", "X-Multi=one", "X-Multi=two", "X-Spaces=padded value", "X-Empty="])
            #expect(response.header("x-multi") == "one")
            #expect(response.headers(named: "X-MULTI") == ["one", "two"])
            #expect(response.header("x-missing") == nil)
            #expect(response.totalTime > .zero && response.totalTime < .seconds(20))

            let received = try #require(server.receivedRequests.first)
            #expect(received.method == "GET")
            #expect(received.path == "/headers")
            #expect(received.body.isEmpty)
            #expect(Set(received.headers.map { $0.name.lowercased() }) == ["host", "accept"])
        }
    }

    @Test("POST sends the exact body bytes and headers, and gets the exact bytes back")
    func postRoundTripsBodyAndHeaders() async throws {
        try await withServerAndClient { server, client in
            let body = (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31) }  // every byte value, past the 1 KiB Expect threshold
            let request = CurlRequest(
                method: "POST",
                url: server.url("/echo/items?sku=A-1"),
                headers: [("X-Trace", "abc 123"), ("Content-Type", "application/json"), ("X-Empty", "")],
                body: body
            )
            let response = try await client.execute(request)
            #expect(response.status == 200)
            #expect(response.body == body)
            #expect(response.header("X-Echo-Method") == "POST")
            #expect(response.header("x-echo-path") == "/echo/items?sku=A-1")

            let received = try #require(server.receivedRequests.first)
            #expect(received.method == "POST")
            #expect(received.body == body)
            let sent = received.headers.filter { !["host", "accept"].contains($0.name.lowercased()) }.map { "\($0.name)=\($0.value)" }
            #expect(sent == ["X-Trace=abc 123", "Content-Type=application/json", "X-Empty=", "Content-Length=4096"])
        }
    }

    @Test("PUT with a body, DELETE without one, and HEAD use the right method and framing")
    func otherMethods() async throws {
        try await withServerAndClient { server, client in
            let put = try await client.execute(CurlRequest(method: "PUT", url: server.url("/echo/put"), body: Array("stock=7".utf8)))
            #expect(put.body == Array("stock=7".utf8))
            let delete = try await client.execute(CurlRequest(method: "DELETE", url: server.url("/echo/delete")))
            #expect(delete.status == 200)
            let emptyPost = try await client.execute(CurlRequest(method: "POST", url: server.url("/echo/empty")))
            #expect(emptyPost.body.isEmpty)
            let head = try await client.execute(CurlRequest(method: "HEAD", url: server.url("/large/50")))
            #expect(head.status == 200)
            #expect(head.header("Content-Length") == "50")
            #expect(head.body.isEmpty)

            let received = server.receivedRequests
            #expect(received.map(\.method) == ["PUT", "DELETE", "POST", "HEAD"])
            #expect(received[0].body == Array("stock=7".utf8))
            #expect(received[0].header("Content-Type") == nil)
            #expect(received[1].header("Content-Length") == nil)
            #expect(received[2].header("Content-Length") == "0")
        }
    }

    @Test("A 1 MiB upload and a 1 MiB download arrive intact")
    func largeBodies() async throws {
        try await withServerAndClient { server, client in
            let body = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 % 251) }
            let echoed = try await client.execute(CurlRequest(method: "POST", url: server.url("/echo/big"), body: body))
            #expect(echoed.body == body)
            let download = try await client.execute(CurlRequest(url: server.url("/large/1048576")))
            #expect(download.body.count == 1 << 20)
        }
    }

    @Test("429 with Retry-After is a response carrying the header, not an error")
    func tooManyRequestsIsSurfaced() async throws {
        try await withServerAndClient { server, client in
            let response = try await client.execute(CurlRequest(url: server.url("/status/429?retry-after=3")))
            #expect(response.status == 429)
            #expect(response.header("retry-after") == "3")
            #expect(response.retryAfter == .seconds(3))
            #expect(response.body == Array("status 429".utf8))
            let unavailable = try await client.execute(CurlRequest(url: server.url("/status/503")))
            #expect(unavailable.status == 503)
            #expect(unavailable.retryAfter == nil)
        }
    }
}
