import ShelfCurl
import Synchronization
import Testing

@Suite("CurlClient failures and cancellation", .timeLimit(.minutes(1)))
struct CurlClientFailureTests {
    @Test("A stalled response times out near the configured timeout with CurlError.timeout")
    func timeout() async throws {
        try await withServerAndClient { server, client in
            let request = CurlRequest(url: server.url("/stall"), timeout: .milliseconds(500))
            let (error, elapsed) = await measure {
                await #expect(throws: CurlError.timeout) { try await client.execute(request) }
            }
            #expect(error != nil)
            #expect(elapsed >= .milliseconds(450) && elapsed < .seconds(15))  // the stall never ends on its own
            #expect(client.inFlightCount == 0)
        }
    }

    @Test("allowsPeer sees the connected address before anything is sent: refused, the server gets no request; allowed, it does")
    func peerCheck() async throws {
        try await withServerAndClient { server, client in
            var refused = CurlRequest(method: "POST", url: server.url("/echo"), body: Array("secret".utf8))
            refused.allowsPeer = { _ in false }
            await #expect(throws: CurlError.peerRefused("127.0.0.1")) { try await client.execute(refused) }
            #expect(server.receivedRequests.isEmpty)
            var allowed = CurlRequest(url: server.url("/echo"))
            let seen = Mutex<[String]>([])
            allowed.allowsPeer = { address in
                seen.withLock { $0.append(address) }
                return address == "127.0.0.1"
            }
            let status = await (try? client.execute(allowed))?.status
            #expect(status == 200)
            #expect(seen.withLock { $0 } == ["127.0.0.1"])
            #expect(server.receivedRequests.count == 1)
        }
    }

    @Test("A connect that never completes fails after connectTimeout, well before the total timeout")
    func connectTimeout() async throws {
        let listener = try UnacceptingLoopbackListener()
        defer { listener.release() }
        try await withServerAndClient { _, client in
            let request = CurlRequest(url: "http://127.0.0.1:\(listener.port)/", timeout: .seconds(40), connectTimeout: .milliseconds(300))
            let (error, elapsed) = await measure {
                await #expect(throws: CurlError.timeout) { try await client.execute(request) }
            }
            #expect(error != nil)
            #expect(elapsed >= .milliseconds(250) && elapsed < .seconds(20))  // connectTimeout, not the 40 s total
        }
    }

    @Test("A refused connection fails fast with CurlError.couldNotConnect")
    func connectionRefused() async throws {
        let closedPort = try ClosedLoopbackPort()
        defer { closedPort.release() }
        try await withServerAndClient { _, client in
            let request = CurlRequest(url: "http://127.0.0.1:\(closedPort.port)/", timeout: .seconds(40), connectTimeout: .seconds(30))
            let (error, elapsed) = await measure {
                await #expect(throws: CurlError.couldNotConnect) { try await client.execute(request) }
            }
            #expect(error?.isTransient == true)
            #expect(elapsed < .seconds(15))  // refused at once, not after the 30 s connect timeout
        }
    }

    @Test("A connection reset by the server fails with CurlError.connectionLost")
    func connectionReset() async throws {
        try await withServerAndClient { server, client in
            await #expect(throws: CurlError.connectionLost) {
                try await client.execute(CurlRequest(url: server.url("/reset")))
            }
            let healthy = try await client.execute(CurlRequest(url: server.url("/echo/after-reset")))
            #expect(healthy.status == 200)
        }
    }

    @Test("A body over maxResponseBodyBytes fails with CurlError.responseTooLarge")
    func responseTooLarge() async throws {
        try await withServerAndClient { server, client in
            await #expect(throws: CurlError.responseTooLarge) {
                try await client.execute(CurlRequest(url: server.url("/large/100000"), maxResponseBodyBytes: 1000))
            }
        }
    }

    @Test("Header injection is rejected before anything is sent")
    func invalidRequest() async throws {
        try await withServerAndClient { server, client in
            let request = CurlRequest(url: server.url("/echo"), headers: [("X-Evil", "a\r\nX-Injected: b")])
            let error = await #expect(throws: CurlError.self) { try await client.execute(request) }
            guard case .invalidRequest(let reason) = error else {
                Issue.record("expected CurlError.invalidRequest, got \(String(describing: error))")
                return
            }
            #expect(reason.contains("X-Evil"))
            #expect(server.receivedRequests.isEmpty)
        }
    }

    @Test("Cancelling the awaiting task removes the transfer, closes its connection and throws CancellationError")
    func cancellationFreesTheTransfer() async throws {
        try await withServerAndClient { server, client in
            let task = Task {
                try await client.execute(CurlRequest(url: server.url("/stall"), timeout: .seconds(10)))
            }
            #expect(await eventually { server.receivedRequests.count == 1 })
            #expect(client.inFlightCount == 1)
            let (result, elapsed) = await measure {
                task.cancel()
                return await task.result
            }
            #expect(throws: CancellationError.self) { try result.get() }
            #expect(elapsed < .seconds(8))  // far below the 10 s request timeout
            #expect(client.inFlightCount == 0)
            #expect(await eventually { server.closedConnectionCount == 1 })
        }
    }

    @Test("A task cancelled before it submits gets CancellationError and sends nothing")
    func cancellationBeforeSubmission() async throws {
        try await withServerAndClient { server, client in
            let task = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                return try await client.execute(CurlRequest(url: server.url("/echo")))
            }
            await #expect(throws: CancellationError.self) { try await task.value }
            #expect(client.inFlightCount == 0)
            #expect(server.receivedRequests.isEmpty)
        }
    }

    @Test("Many cancellations racing submissions leave nothing in flight")
    func cancellationRaces() async throws {
        try await withServerAndClient { server, client in
            let tasks = (0..<100).map { index in
                Task { try await client.execute(CurlRequest(url: server.url(index.isMultiple(of: 2) ? "/stall" : "/delay/50"))) }
            }
            try await Task.sleep(for: .milliseconds(20))
            for task in tasks { task.cancel() }
            for task in tasks {
                let result = await task.result
                if case .failure(let error) = result {
                    #expect(error is CancellationError)
                }
            }
            #expect(await eventually { client.inFlightCount == 0 })
        }
    }
}
