import Synchronization

/// A catalog prepared for parsing: aliases split into lower-cased words, indexed by first word, longest first.
struct RuleCatalogIndex: Sendable {
    /// One alias of one catalog entry (an entry without aliases is named by its id).
    struct Alias: Sendable {
        let words: [String]
        let id: String
        let display: String
    }

    let catalog: RuleCatalog
    private let byFirstWord: [[String: [Alias]]]
    /// Every alias by kind, for suggestions.
    let aliases: [[Alias]]
    /// Display names (first alias of each entry) by kind, sorted case-insensitively, for hints.
    let displayNames: [[String]]
    /// Every word that occurs in some alias of a kind (used to delimit unknown entity names).
    let aliasWords: [Set<String>]

    init(_ catalog: RuleCatalog) {
        self.catalog = catalog
        var byFirst: [[String: [Alias]]] = []
        var all: [[Alias]] = []
        var names: [[String]] = []
        var words: [Set<String>] = []
        for kind in RuleEntityKind.allCases {
            let entries = Self.entries(of: kind, in: catalog)
            var list: [Alias] = []
            for entry in entries {
                var seen: Set<[String]> = []
                for alias in entry.aliases.isEmpty ? [entry.id] : entry.aliases {
                    let split = RuleLexer.aliasWords(alias)
                    guard !split.isEmpty, seen.insert(split).inserted else { continue }
                    list.append(Alias(words: split, id: entry.id, display: alias))
                }
            }
            list.sort { $0.words.count > $1.words.count }
            var index: [String: [Alias]] = [:]
            for alias in list { index[alias.words[0], default: []].append(alias) }
            byFirst.append(index)
            all.append(list)
            names.append(entries.map(\.displayName).sorted { $0.lowercased() < $1.lowercased() })
            words.append(Set(list.flatMap(\.words)))
        }
        byFirstWord = byFirst
        aliases = all
        displayNames = names
        aliasWords = words
    }

    static func entries(of kind: RuleEntityKind, in catalog: RuleCatalog) -> [RuleCatalogEntry] {
        switch kind {
        case .channel: catalog.channels
        case .location: catalog.locations
        case .supplier: catalog.suppliers
        case .target: catalog.notifyTargets
        case .collection: catalog.collections
        }
    }

    /// The longest alias of `kind` starting at `position`: the entry id and the number of tokens it covers.
    func match(_ kind: RuleEntityKind, in tokens: [RuleToken], at position: Int) -> (id: String, length: Int)? {
        let first = tokens[position]
        guard first.isWordLike || first.number != nil, let candidates = byFirstWord[kind.rawValue][first.lower] else { return nil }
        for alias in candidates {
            guard position + alias.words.count < tokens.count else { continue }
            var matches = true
            for offset in 1..<max(1, alias.words.count) where tokens[position + offset].lower != alias.words[offset] {
                matches = false
                break
            }
            if matches { return (alias.id, alias.words.count) }
        }
        return nil
    }

    /// Whether some alias of `kind` starts with this token.
    func startsAlias(_ kind: RuleEntityKind, _ token: RuleToken) -> Bool {
        byFirstWord[kind.rawValue][token.lower] != nil
    }

    /// The hint listing the known entries of a kind.
    func hint(for kind: RuleEntityKind) -> String {
        let names = displayNames[kind.rawValue]
        var text = "\(kind.hintLead): " + (names.isEmpty ? "none" : names.joined(separator: ", ")) + "."
        if kind == .target { text += " Literal emails, #slack-channels and https:// URLs are accepted as-is." }
        return text
    }

    private static let cache = Mutex<RuleCatalogIndex?>(nil)

    /// The index for a catalog, reusing the last one built when the catalog is unchanged.
    static func shared(for catalog: RuleCatalog) -> RuleCatalogIndex {
        if let cached = cache.withLock({ $0 }), cached.catalog == catalog { return cached }
        let built = RuleCatalogIndex(catalog)
        cache.withLock { $0 = built }
        return built
    }
}
