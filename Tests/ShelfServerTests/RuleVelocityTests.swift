import Foundation
import HTTPTypes
import HummingbirdTesting
import ShelfAutomation
import ShelfCore
import ShelfLedger
import ShelfServer
import Testing

@Suite("Velocity-ratio conditions on demand spikes")
struct RuleVelocityTests {
    @Test("a spike fires the rule whose ratio threshold the burst exceeds, in the rule's own window, and not the one it does not")
    func velocityRatio() async throws {
        let server = try await TestServer.make()
        try await server.run { client in
            try await server.createSKU(client, "VEL-1", onHand: 500, channels: ["amazon"])
            let hourly = try await server.createRule(
                client, "If orders for VEL-1 run at more than 3x the normal rate over the last hour, set a 5 unit buffer on Amazon.")
            let extreme = try await server.createRule(client, "If orders for VEL-1 run at more than 50x the normal rate, notify ops.")
            var seen = server.lastSequence
            let order = #"{"type":"order.confirmed","sku":"VEL-1","qty":1,"channel":"amazon"}"#
            for _ in 0..<12 {  // an hour at 12 an hour
                try await server.post(client, order)
                server.clock.advance(by: 300)
            }
            var started = false
            for _ in 0..<10 {  // then 10 in a minute
                try await server.post(client, order)
                if await server.env.spikes.check(seller: "demo", sku: "VEL-1") == .demandSpikeStarted { started = true }
                server.clock.advance(by: 6)
            }
            #expect(started)
            #expect(try await server.evaluateRules(after: &seen) == 1)
            #expect(try await server.events(of: hourly).map(\.event.type) == [.listingUpserted])
            #expect(server.env.snapshot.seller("demo")?.sku("VEL-1")?.listing(on: "amazon")?.buffer == 5)
            #expect(try await server.events(of: extreme).isEmpty)
        }
    }
}
