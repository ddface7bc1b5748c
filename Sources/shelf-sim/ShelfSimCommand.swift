import ArgumentParser
import Foundation
import Hummingbird
import ShelfSimulator

/// `shelf-sim`: the channel simulator executable.
@main
struct ShelfSimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shelf-sim",
        abstract: "Simulates Shopify, Amazon, eBay, Walmart, Etsy, TikTok Shop, WooCommerce and generic channels on loopback."
    )

    @Option(help: "Loopback address to bind (127.0.0.1, ::1 or localhost).")
    var host: String = ProcessInfo.processInfo.environment["SHELF_SIM_HOST"] ?? "127.0.0.1"

    @Option(help: "Port to listen on (0: any free port).")
    var port: Int = Int(ProcessInfo.processInfo.environment["SHELF_SIM_PORT"] ?? "") ?? 9090

    @Option(help: "Directory with connections.json and optional items.json.")
    var fixtures: String?

    func validate() throws {
        guard ShelfSimulator.loopbackHosts.contains(host) else {
            throw ValidationError("shelf-sim binds loopback only; '\(host)' is not a loopback address")
        }
        guard (0...65_535).contains(port) else { throw ValidationError("port must be 0…65535") }
    }

    func run() async throws {
        let fixtureSet = try fixtures.map { try FixtureSet.load(directory: $0) } ?? FixtureSet()
        let host = self.host
        let configuration = SimulatorConfiguration(host: host, port: port, fixtures: fixtureSet) { boundPort in
            let shown = host.contains(":") ? "[\(host)]" : host
            // Unbuffered, so scripts waiting for this line see it at once.
            FileHandle.standardOutput.write(Data("shelf-sim listening on http://\(shown):\(boundPort)\n".utf8))
        }
        let app = try ShelfSimulator.buildApplication(configuration)
        try await app.runService()
    }
}
