import Foundation
import ShelfCore

/// Loads a fixtures directory into the ledger (as events, so the audit trail starts with the import).
public struct FixtureLoader: Sendable {
    public let ledger: Ledger

    public init(ledger: Ledger) { self.ledger = ledger }

    /// Problems with a fixtures directory.
    public struct FixtureError: Error, CustomStringConvertible {
        public var description: String
    }

    /// True when the database holds no events yet (fixtures load only into an empty database).
    public func databaseIsEmpty() async throws -> Bool {
        try await ledger.stores.history.isEmpty()
    }

    /// Loads `directory`; `progress` is called with the number of SKUs loaded so far.
    @discardableResult
    public func load(directory: URL, chunk: Int = 2000, progress: (@Sendable (Int) -> Void)? = nil) async throws -> Int {
        let decoder = ShelfJSON.decoder()
        func read<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
            let url = directory.appendingPathComponent(name)
            do {
                return try decoder.decode(type, from: Data(contentsOf: url))
            } catch {
                throw FixtureError(description: "\(url.path): \(error)")
            }
        }
        let seller = try read(FixtureFiles.seller, as: SellerFixture.self)
        let locations = try read(FixtureFiles.locations, as: [Location].self)
        let channels = try read(FixtureFiles.channels, as: [Channel].self)
        try await ledger.ensureSeller(id: seller.id, name: seller.name, currency: seller.currency, timeZone: seller.timeZone)
        try await ledger.saveSellerFixture(seller)
        if FileManager.default.fileExists(atPath: directory.appendingPathComponent(FixtureFiles.connections).path) {
            for connection in try read(FixtureFiles.connections, as: [ConnectionFixture].self) {
                try await ledger.upsertConnection(connection, seller: seller.id)
            }
        }
        let now = ledger.clock.now()
        var setup: [Command] = locations.map {
            Command(seller: seller.id, source: "import", draft: ShelfEvent(type: .locationUpserted, locationInfo: $0, occurredAt: now))
        }
        setup += channels.map {
            Command(seller: seller.id, source: "import", draft: ShelfEvent(type: .channelUpserted, channelInfo: $0, occurredAt: now))
        }
        try check(await ledger.submit(setup), context: "locations and channels")
        return try await importCatalog(seller: seller.id, url: directory.appendingPathComponent(FixtureFiles.catalog), chunk: chunk,
                                       progress: progress)
    }

    /// Imports a JSON Lines catalog (`CatalogLine` per line) in chunks; returns the number of SKUs.
    public func importCatalog(seller: String, url: URL, chunk: Int = 2000, progress: (@Sendable (Int) -> Void)? = nil) async throws -> Int {
        let decoder = ShelfJSON.decoder()
        var total = 0
        var batch: [Command] = []
        var lineNumber = 0
        guard FileManager.default.fileExists(atPath: url.path) else { throw FixtureError(description: "\(url.path): no such file") }
        for line in LineReader(url: url) {
            lineNumber += 1
            guard !line.isEmpty else { continue }
            let entry: CatalogLine
            do {
                entry = try decoder.decode(CatalogLine.self, from: Data(line.utf8))
            } catch {
                throw FixtureError(description: "\(url.lastPathComponent):\(lineNumber): \(error)")
            }
            // The demo channels (shelf-sim) are seeded from the same fixtures, so the import itself needs no push.
            batch.append(Command(seller: seller, source: "import", draft: Self.upsert(entry, at: ledger.clock.now()), propagate: false))
            if batch.count >= chunk {
                try check(await ledger.submit(batch), context: "\(url.lastPathComponent) before line \(lineNumber)")
                total += batch.count
                batch.removeAll(keepingCapacity: true)
                progress?(total)
            }
        }
        try check(await ledger.submit(batch), context: url.lastPathComponent)
        total += batch.count
        progress?(total)
        return total
    }

    /// The event that upserts one catalog line.
    public static func upsert(_ entry: CatalogLine, at instant: Date) -> ShelfEvent {
        ShelfEvent(type: .skuUpserted, sku: entry.item.sku, item: entry.item, levels: entry.levels, listings: entry.listings, occurredAt: instant)
    }

    private func check(_ results: [Result<CommandOutcome, LedgerError>], context: String) throws {
        for result in results {
            if case .failure(let error) = result { throw FixtureError(description: "\(context): \(error)") }
        }
    }
}
