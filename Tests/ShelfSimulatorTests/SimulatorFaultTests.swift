import Foundation
import ShelfConnectors
import ShelfSimulator
import Testing
import ShelfCore

@Suite("Injected faults")
struct SimulatorFaultTests {
    static func pollRequest(_ sim: LiveSimulator) -> ChannelHTTPRequest {
        GenericConnector().pollRequest(settings: KindSetup.settings(.generic, base: sim.base("g")), cursor: nil, etag: nil)
    }

    static func start(_ sim: LiveSimulator) async throws {
        try await sim.addConnection("g", kind: .generic)
        try await sim.addConnection("other", kind: .generic)
        try await sim.seed("g", externalId: "SKU-0001", sku: "SKU-0001", quantity: 5)
    }

    @Test func statusFaultAnswersTheStatusCountTimesWithoutApplying() async throws {
        try await withSimulator { sim in
            try await Self.start(sim)
            let added = try await sim.control(
                "POST",
                "/_sim/faults",
                #"{"connection":"g","mode":"status","status":503,"retryAfterSeconds":7,"count":2}"#
            )
            #expect(added.status == 201)
            #expect(try added.json()["id"]?.intValue == 1)
            let push = try GenericConnector().pushRequests(
                [KindSetup.update(.generic, 1, quantity: 1)],
                settings: KindSetup.settings(.generic, base: sim.base("g"))
            )[0]
            let first = try await sim.send(push)
            #expect(first.status == 503)
            #expect(first.headers["retry-after"] == "7")
            #expect(GenericConnector().pushOutcome(status: first.status, headers: first.headers, body: first.body) == .retryable(reason: "HTTP 503"))
            #expect(try await sim.send(Self.pollRequest(sim)).status == 503)
            #expect(try await sim.item("g", "SKU-0001")["quantity"]?.intValue == 5, "a faulted push is not applied")
            #expect(try await sim.send(push).status == 200, "count exhausted")
            #expect(try await sim.item("g", "SKU-0001")["quantity"]?.intValue == 1)
            #expect(try await sim.control("GET", "/_sim/stats").json()["connections"]?["g"]?["faultsInjected"]?.intValue == 2)
        }
    }

    @Test func faultsTargetOneConnectionAndOperationUntilDeleted() async throws {
        try await withSimulator { sim in
            try await Self.start(sim)
            try await sim.control("POST", "/_sim/faults", #"{"connection":"g","mode":"status","status":500,"operation":"poll"}"#)
            #expect(try await sim.send(Self.pollRequest(sim)).status == 500)
            #expect(try await sim.send(Self.pollRequest(sim)).status == 500, "no count: until deleted")
            let otherPoll = GenericConnector().pollRequest(settings: KindSetup.settings(.generic, base: sim.base("other")), cursor: nil, etag: nil)
            #expect(try await sim.send(otherPoll).status == 200, "other connections are unaffected")
            let push = try GenericConnector().pushRequests(
                [KindSetup.update(.generic, 1, quantity: 2)],
                settings: KindSetup.settings(.generic, base: sim.base("g"))
            )[0]
            #expect(try await sim.send(push).status == 200, "pushes are unaffected by a poll fault")
            #expect(try await sim.control("GET", "/_sim/faults").json()["faults"]?.arrayValue?.count == 1)
            #expect(try await sim.control("DELETE", "/_sim/faults").status == 204)
            #expect(try await sim.send(Self.pollRequest(sim)).status == 200)
            #expect(try await sim.control("POST", "/_sim/faults", #"{"connection":"nope","mode":"reset"}"#).status == 404)
            #expect(try await sim.control("POST", "/_sim/faults", #"{"connection":"g","mode":"explode"}"#).status == 400)
        }
    }

    @Test func rateLimitFaultAnswers429WithRetryAfter() async throws {
        try await withSimulator { sim in
            try await Self.start(sim)
            try await sim.addConnection("t", kind: .tiktok)
            try await sim.control("POST", "/_sim/faults", #"{"connection":"t","mode":"rate_limit","retryAfterSeconds":3,"count":1}"#)
            let connector = TikTokShopConnector()
            let request = connector.pollRequest(settings: KindSetup.settings(.tiktok, base: sim.base("t")), cursor: nil, etag: nil)
            let response = try await sim.send(request)
            #expect(response.status == 429)
            #expect(response.headers["retry-after"] == "3")
            #expect(try response.json()["code"]?.intValue == 36_009_004)
            #expect(throws: ConnectorError.rateLimited(retryAfterSeconds: 3)) {
                try connector.parsePollResponse(status: response.status, headers: response.headers, body: response.body)
            }
            #expect(try await sim.send(request).status == 200)
        }
    }

    @Test func resetFaultDropsTheConnection() async throws {
        try await withSimulator { sim in
            try await Self.start(sim)
            try await sim.control("POST", "/_sim/faults", #"{"connection":"g","mode":"reset","count":1}"#)
            // A fresh client: libcurl silently retries a request once when a *reused* connection dies before any byte.
            let request = Self.pollRequest(sim)
            await #expect(throws: (any Error).self) {
                try await TestHTTPClient().send(request.method, request.url, headers: request.headers, body: request.body)
            }
            #expect(try await sim.send(Self.pollRequest(sim)).status == 200, "the next request is served")
        }
    }

    @Test func timeoutFaultNeverAnswers() async throws {
        try await withSimulator { sim in
            try await Self.start(sim)
            try await sim.control("POST", "/_sim/faults", #"{"connection":"g","mode":"timeout","durationMs":1500,"count":1}"#)
            let started = Date()
            await #expect(throws: (any Error).self) { try await sim.send(Self.pollRequest(sim), timeout: 0.4) }
            #expect(Date().timeIntervalSince(started) < 1.4, "the client gave up on its own timeout")
            #expect(try await sim.send(Self.pollRequest(sim)).status == 200)
        }
    }

    @Test func slowBodyFaultTricklesACompleteBody() async throws {
        try await withSimulator { sim in
            try await Self.start(sim)
            try await sim.control("POST", "/_sim/faults", #"{"connection":"g","mode":"slow_body","durationMs":600,"count":1}"#)
            let started = Date()
            let response = try await sim.send(Self.pollRequest(sim))
            let elapsed = Date().timeIntervalSince(started)
            #expect(response.status == 200)
            #expect(elapsed >= 0.5, "took \(elapsed)s")
            let page = try GenericConnector().parsePollResponse(status: response.status, headers: response.headers, body: response.body)
            #expect(page.levels.map(\.externalId) == ["SKU-0001"])
        }
    }
}
