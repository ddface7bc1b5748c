import Foundation
import HTTPTypes
import HummingbirdTesting
import ShelfAutomation
import ShelfCore
import ShelfLedger
import ShelfServer
import Testing

@Suite("Scheduled rules on the manual clock, in the store's time zone")
struct RuleScheduleTests {
    /// 2026-11-23 is a Monday; the demo store is in America/New_York (UTC−5 in November), so 9 am local is 14:00 UTC.
    static func utc(_ day: Int, _ hour: Int, _ minute: Int, _ second: Int = 0) -> Date {
        var c = DateComponents(year: 2026, month: 11, day: day, hour: hour, minute: minute, second: second)
        c.timeZone = TimeZone(identifier: "UTC")
        return Calendar(identifier: .gregorian).date(from: c)!
    }

    @Test("every weekday at 9am fires once per occurrence at 9:00 New York time, skips weekends, and not again after a restart")
    func weekdayAtNine() async throws {
        let database = FileManager.default.temporaryDirectory.appendingPathComponent("shelf-sched-\(UUID().uuidString).sqlite").path
        let clock = ManualWallClock(TestServer.monday)
        let server = try await TestServer.make(clock: clock, database: database)
        let locations = try #require(server.env.snapshot.seller("demo")?.sku("TEE-RED-M")).stock.count
        try await server.run { client in
            let id = try await server.createRule(client, "Every weekday at 9am, set safety stock for TEE-RED-M to 7.")
            let engine = server.env.ruleEngine
            #expect(await engine.tick() == 0)
            clock.set(Self.utc(23, 13, 59, 59))  // 08:59:59 in New York (09:00 UTC has long passed)
            #expect(await engine.tick() == 0)
            clock.set(Self.utc(23, 14, 0, 1))
            #expect(await engine.tick() == 1)
            #expect(await engine.tick() == 0)
            let firstRun = try await server.events(of: id)
            #expect(firstRun.count == locations)
            #expect(firstRun.allSatisfy { $0.event.type == .safetyStockSet && $0.event.qty == 7 && $0.source == "rule:\(id)" })
            #expect(server.env.snapshot.seller("demo")?.sku("TEE-RED-M")?.stock.allSatisfy { $0.level.safetyStock == 7 } == true)
            clock.set(Self.utc(24, 14, 0, 30))  // Tuesday
            #expect(await engine.tick() == 1)
            clock.set(Self.utc(28, 14, 0, 30))  // Saturday: no occurrence today; Friday's is too old to fire late
            #expect(await engine.tick() == 0)
            #expect(try await server.events(of: id).count == 2 * locations)
        }
        // A second server on the same database has fired nothing for Saturday, and fires Monday's occurrence once.
        clock.set(Self.utc(30, 14, 0, 5))
        let restarted = try await TestServer.make(clock: clock, database: database)
        await restarted.env.ruleEngine.reload()
        #expect(await restarted.env.ruleEngine.tick() == 1)
        #expect(await server.env.ruleEngine.tick() == 0)  // the first engine saw the occurrence claimed in the store
        #expect(await restarted.env.ruleEngine.tick() == 0)
    }

    @Test("an interval schedule fires on a local grid once per occurrence and collapses missed ones into one firing")
    func everyFifteenMinutes() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            server.clock.advance(by: 1)
            let id = try await server.createRule(client, "Every 15 minutes, notify ops if TEE-RED-M has more than 0 units.")
            let engine = server.env.ruleEngine
            #expect(await engine.tick() == 0)
            server.clock.set(Self.utc(23, 6, 14, 59))
            #expect(await engine.tick() == 0)
            server.clock.set(Self.utc(23, 6, 15, 0))
            #expect(await engine.tick() == 1)
            #expect(await engine.tick() == 0)
            server.clock.set(Self.utc(23, 6, 30, 2))
            #expect(await engine.tick() == 1)
            server.clock.set(Self.utc(23, 8, 31, 0))  // eight occurrences passed: one firing, for 08:30
            #expect(await engine.tick() == 1)
            let notes = try await server.events(of: id).compactMap(\.event.note)
            #expect(notes.count == 3)
            #expect(notes.allSatisfy { $0.hasPrefix("notify default ops:") && $0.contains("TEE-RED-M") })
            #expect(notes.last?.contains(Timestamp.format(Self.utc(23, 8, 30))) == true)
        }
    }

    @Test("a daily sweep over tagged SKUs acts once, naming only the SKUs whose guard holds")
    func dailySweep() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            try await server.createSKU(client, "SWEEP-1", onHand: 5, tags: ["sweep-test"])
            try await server.createSKU(client, "SWEEP-2", onHand: 8, tags: ["sweep-test"])
            try await server.createSKU(client, "SWEEP-3", onHand: 50, tags: ["sweep-test"])
            let id = try await server.createRule(client, "Daily at 18:00, email purchasing if anything tagged sweep-test is below 15 units.")
            server.clock.set(Self.utc(23, 22, 59))
            #expect(await server.env.ruleEngine.tick() == 0)
            server.clock.set(Self.utc(23, 23, 0, 10))  // 18:00:10 in New York
            #expect(await server.env.ruleEngine.tick() == 1)
            let events = try await server.events(of: id)
            #expect(events.count == 1)
            let note = try #require(events.first?.event.note)
            #expect(note.hasPrefix("notify email purchasing:"))
            #expect(note.contains("SWEEP-1") && note.contains("SWEEP-2") && !note.contains("SWEEP-3"))
            #expect(events.first?.event.sku == nil)
        }
    }
}
