/// Closest-phrase suggestions (§7.6): Damerau–Levenshtein distance on case-folded text with a length-dependent limit.
enum RuleSuggester {
    /// The largest distance kept for a text of `length` characters: 1 up to 4, 2 up to 8, 3 beyond.
    static func limit(forLength length: Int) -> Int {
        length <= 4 ? 1 : (length <= 8 ? 2 : 3)
    }

    /// Optimal-string-alignment Damerau–Levenshtein distance (adjacent transpositions count 1).
    static func distance(_ lhs: String, _ rhs: String) -> Int {
        let a = Array(lhs.unicodeScalars)
        let b = Array(rhs.unicodeScalars)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previousPrevious = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    value = min(value, previousPrevious[j - 2] + 1)
                }
                current[j] = value
            }
            (previousPrevious, previous, current) = (previous, current, previousPrevious)
        }
        return previous[b.count]
    }

    /// A scored candidate: lower `distance` first, then `rank` (lexicon / catalog order), then alphabetical.
    struct Candidate {
        var text: String
        var distance: Int
        var rank: Int
    }

    /// The candidate's distance to `found` if within the limit.
    static func score(_ found: String, _ candidate: String) -> Int? {
        scoreLowercased(found.lowercased(), candidate.lowercased())
    }

    /// `score` for texts that are already lower-cased.
    static func scoreLowercased(_ lhs: String, _ rhs: String) -> Int? {
        let limit = limit(forLength: lhs.count)
        guard abs(lhs.unicodeScalars.count - rhs.unicodeScalars.count) <= limit else { return nil }
        let distance = distance(lhs, rhs)
        return distance <= limit ? distance : nil
    }

    /// At most three suggestion texts in (distance, rank, alphabetical) order, de-duplicated.
    static func best(_ candidates: [Candidate], limit count: Int = 3) -> [String] {
        let sorted = candidates.sorted { lhs, rhs in
            if lhs.distance != rhs.distance { return lhs.distance < rhs.distance }
            if lhs.rank != rhs.rank { return lhs.rank < rhs.rank }
            return lhs.text.lowercased() < rhs.text.lowercased()
        }
        var seen: Set<String> = []
        var out: [String] = []
        for candidate in sorted where seen.insert(candidate.text.lowercased()).inserted {
            out.append(candidate.text)
            if out.count == count { break }
        }
        return out
    }
}
