import Foundation
import ShelfConnectors
import ShelfSimulator
import Testing
import ShelfCore

@Suite("Polls over HTTP: pagination, ETag, rate limits")
struct SimulatorPollTests {
    static func fixtures(_ kind: ChannelKind, items count: Int) -> FixtureSet {
        FixtureSet(
            connections: [SimConnection(id: "conn", kind: kind, webhookSecret: "s", rateLimitPerSecond: 1000, burst: 1000)],
            items: (1...count).map { number in
                FixtureSet.ItemSeed(
                    connection: "conn",
                    externalId: KindSetup.externalId(kind, number),
                    sku: KindSetup.sku(number),
                    quantity: number,
                    price: Money(amount: 1000 + Int64(number), currency: "USD"),
                    references: KindSetup.references(kind, number)
                )
            }
        )
    }

    @Test(arguments: ChannelKind.allCases)
    func pollWalksEveryPage(kind: ChannelKind) async throws {
        let total = 130
        try await withSimulator(fixtures: Self.fixtures(kind, items: total)) { sim in
            let connector = Connectors.connector(for: kind)
            let settings = KindSetup.settings(kind, base: sim.base("conn"))
            var cursor: String?
            var seen: [String: Int] = [:]
            var pages = 0
            repeat {
                let request = connector.pollRequest(settings: settings, cursor: cursor, etag: nil)
                let response = try await sim.send(request)
                let page = try connector.parsePollResponse(status: response.status, headers: response.headers, body: response.body, request: request)
                pages += 1
                for level in page.levels {
                    #expect(seen[level.externalId] == nil, "\(kind): \(level.externalId) seen twice")
                    seen[level.externalId] = level.quantity
                }
                cursor = page.nextCursor
            } while cursor != nil && pages < 20
            #expect(pages >= 2, "\(kind) paginates")
            #expect(seen.count == total, "\(kind) returns every item once")
            #expect(seen[KindSetup.externalId(kind, 7)] == 7)
            #expect(seen[KindSetup.externalId(kind, total)] == total)
            let stats = try await sim.control("GET", "/_sim/stats").json()
            #expect(stats["connections"]?["conn"]?["polls"]?.intValue == pages)
        }
    }

    @Test(arguments: [ChannelKind.amazon, .ebay, .walmart, .etsy, .woocommerce, .generic])
    func getPollsHonourETag(kind: ChannelKind) async throws {
        try await withSimulator(fixtures: Self.fixtures(kind, items: 3)) { sim in
            let connector = Connectors.connector(for: kind)
            let settings = KindSetup.settings(kind, base: sim.base("conn"))
            let first = connector.pollRequest(settings: settings, cursor: nil, etag: nil)
            let firstResponse = try await sim.send(first)
            let page = try connector.parsePollResponse(
                status: firstResponse.status,
                headers: firstResponse.headers,
                body: firstResponse.body,
                request: first
            )
            let etag = try #require(page.etag, "\(kind) sends an ETag")
            #expect(!page.notModified)

            let again = connector.pollRequest(settings: settings, cursor: nil, etag: etag)
            let againResponse = try await sim.send(again)
            #expect(againResponse.status == 304, "\(kind)")
            #expect(againResponse.body.isEmpty)
            let unchanged = try connector.parsePollResponse(
                status: againResponse.status,
                headers: againResponse.headers,
                body: againResponse.body,
                request: again
            )
            #expect(unchanged.notModified)
            #expect(unchanged.levels.isEmpty)

            try await sim.seed("conn", externalId: KindSetup.externalId(kind, 2), sku: KindSetup.sku(2), quantity: 99)
            let changedResponse = try await sim.send(again)
            #expect(changedResponse.status == 200)
            let changed = try connector.parsePollResponse(
                status: changedResponse.status,
                headers: changedResponse.headers,
                body: changedResponse.body,
                request: again
            )
            #expect(changed.etag != etag)
            #expect(changed.levels.first { $0.externalId == KindSetup.externalId(kind, 2) }?.quantity == 99)
        }
    }

    @Test func amazonInventorySummariesAllowTwoPerSecond() async throws {
        try await withSimulator(clock: SteppingClock()) { sim in
            try await sim.addConnection("a", kind: .amazon)
            try await sim.seed("a", externalId: "SKU-0001", sku: "SKU-0001", quantity: 1)
            let connector = AmazonConnector()
            let request = connector.pollRequest(settings: KindSetup.settings(.amazon, base: sim.base("a")), cursor: nil, etag: nil)
            #expect(try await sim.send(request).status == 200)
            #expect(try await sim.send(request).status == 200)
            let throttled = try await sim.send(request)
            #expect(throttled.status == 429)
            let retryAfter = try #require(throttled.headers["retry-after"].flatMap { Int($0) })
            #expect(retryAfter >= 1)
            #expect(throttled.headers["x-amzn-ratelimit-limit"] == "2.0")
            #expect(throws: ConnectorError.rateLimited(retryAfterSeconds: retryAfter)) {
                try connector.parsePollResponse(status: throttled.status, headers: throttled.headers, body: throttled.body)
            }
            // Pushes have their own Listings Items budget (5/s), so a spent poll budget does not block them.
            let push = try connector.pushRequests(
                [KindSetup.update(.amazon, 1, quantity: 2)],
                settings: KindSetup.settings(.amazon, base: sim.base("a"))
            )[0]
            #expect(try await sim.send(push).status == 200)
            let stats = try await sim.control("GET", "/_sim/stats").json()
            #expect(stats["connections"]?["a"]?["rateLimited"]?.intValue == 1)
        }
    }

    @Test func connectionBudgetOverridesTheDefault() async throws {
        let clock = SteppingClock()
        try await withSimulator(clock: clock) { sim in
            try await sim.addConnection("s", kind: .shopify, rate: 1, burst: 2)
            let connector = ShopifyConnector()
            let request = connector.pollRequest(settings: KindSetup.settings(.shopify, base: sim.base("s")), cursor: nil, etag: nil)
            #expect(try await sim.send(request).status == 200)
            #expect(try await sim.send(request).status == 200)
            let throttled = try await sim.send(request)
            #expect(throttled.status == 429)
            #expect(throttled.headers["retry-after"] == "1.0")
            #expect(
                connector.pushOutcome(status: throttled.status, headers: throttled.headers, body: throttled.body)
                    == .rateLimited(retryAfterSeconds: 1)
            )
            clock.advance(milliseconds: 999)
            #expect(try await sim.send(request).status == 429, "not yet")
            clock.advance(milliseconds: 1)
            #expect(try await sim.send(request).status == 200, "the bucket refills at the configured rate")
        }
    }
}
