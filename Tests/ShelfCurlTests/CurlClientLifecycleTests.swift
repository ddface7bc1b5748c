import Logging
import ServiceLifecycle
import ShelfCurl
import Testing

@Suite("CurlClient shutdown and service lifecycle", .timeLimit(.minutes(1)))
struct CurlClientLifecycleTests {
    @Test("Shutdown lets in-flight transfers finish, then refuses new ones with CurlError.shutdown")
    func shutdownDrainsThenRefuses() async throws {
        try await withServerAndClient { server, client in
            let inFlight = Task { try await client.execute(CurlRequest(url: server.url("/delay/300"))) }
            #expect(await eventually { server.receivedRequests.count == 1 })
            let (_, elapsed) = await measure { await client.shutdown() }
            #expect(elapsed < .seconds(10))
            let response = try await inFlight.value
            #expect(response.body == Array("delayed 300".utf8))
            #expect(client.isShutDown)
            #expect(client.inFlightCount == 0)
            await #expect(throws: CurlError.shutdown) { try await client.execute(CurlRequest(url: server.url("/echo"))) }
            #expect(server.receivedRequests.count == 1)
        }
    }

    @Test("A shutdown grace period fails transfers still running with CurlError.shutdown")
    func shutdownGracePeriodAbortsStalledTransfers() async throws {
        try await withServerAndClient { server, client in
            let stalled = Task { try await client.execute(CurlRequest(url: server.url("/stall"), timeout: .seconds(10))) }
            #expect(await eventually { server.receivedRequests.count == 1 })
            let (_, elapsed) = await measure { await client.shutdown(gracePeriod: .milliseconds(200)) }
            #expect(elapsed >= .milliseconds(150) && elapsed < .seconds(8))  // the grace period, not the 10 s stall
            await #expect(throws: CurlError.shutdown) { try await stalled.value }
            #expect(await eventually { server.closedConnectionCount == 1 })
        }
    }

    @Test("Shutdown is idempotent and concurrent callers all return")
    func shutdownIsIdempotent() async throws {
        let client = CurlClient()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<5 { group.addTask { await client.shutdown() } }
        }
        await client.shutdown()
        #expect(client.isShutDown)
        await #expect(throws: CurlError.shutdown) { try await client.execute(CurlRequest(url: "http://127.0.0.1:9/")) }
    }

    @Test("run() returns after the service group's graceful shutdown, and the client is shut down")
    func runsAsAService() async throws {
        try await withServerAndClient { server, client in
            var logger = Logger(label: "shelf.curl.tests.group")
            logger.logLevel = .warning
            let group = ServiceGroup(services: [client], logger: logger)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                let response = try await client.execute(CurlRequest(url: server.url("/echo/while-running")))
                #expect(response.status == 200)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            #expect(client.isShutDown)
            await #expect(throws: CurlError.shutdown) { try await client.execute(CurlRequest(url: server.url("/echo"))) }
        }
    }
}
