/// A named catalog entry (channel, location, supplier, notify target, collection) with its aliases.
public struct RuleCatalogEntry: Sendable, Hashable, Codable {
    /// The canonical id written into rules (e.g. `amazon`, `dallas-3pl`, `Summer Sale`).
    public var id: String
    /// Names a seller may use for this entry; matched case-insensitively, longest first.
    public var aliases: [String]

    public init(id: String, aliases: [String]) {
        self.id = id
        self.aliases = aliases
    }

    /// The name shown to sellers in hints: the first alias, or the id when there is none.
    var displayName: String { aliases.first ?? id }
}
