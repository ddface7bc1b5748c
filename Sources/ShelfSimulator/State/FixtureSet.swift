import Foundation
import ShelfConnectors
import ShelfCore

/// Connections and items loaded from `--fixtures DIR` (`connections.json`, optional `items.json`).
public struct FixtureSet: Sendable, Equatable {
    /// One row of `items.json`.
    public struct ItemSeed: Sendable, Codable, Equatable {
        public var connection: String
        public var externalId: String
        public var sku: String
        public var quantity: Int
        public var price: Money?
        public var references: [String: String]?

        public init(connection: String, externalId: String, sku: String, quantity: Int, price: Money? = nil, references: [String: String]? = nil)
        {
            self.connection = connection
            self.externalId = externalId
            self.sku = sku
            self.quantity = quantity
            self.price = price
            self.references = references
        }
    }

    public var connections: [SimConnection]
    public var items: [ItemSeed]

    public init(connections: [SimConnection] = [], items: [ItemSeed] = []) {
        self.connections = connections
        self.items = items
    }

    /// Reads `DIR/connections.json` and, when present, `DIR/items.json`.
    public static func load(directory: String) throws -> FixtureSet {
        let base = URL(fileURLWithPath: directory)
        let decoder = JSONDecoder()
        let connectionsData = try Data(contentsOf: base.appendingPathComponent("connections.json"))
        let connections = try decoder.decode([SimConnection].self, from: connectionsData)
        let itemsURL = base.appendingPathComponent("items.json")
        var items: [ItemSeed] = []
        if FileManager.default.fileExists(atPath: itemsURL.path) {
            items = try decoder.decode([ItemSeed].self, from: Data(contentsOf: itemsURL))
        }
        let ids = Set(connections.map(\.id))
        if let orphan = items.first(where: { !ids.contains($0.connection) }) {
            throw SimulatorError.unknownConnection(orphan.connection)
        }
        return FixtureSet(connections: connections, items: items)
    }
}
