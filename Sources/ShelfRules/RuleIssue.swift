/// An error found while parsing or resolving, ranked so that the one §7.4 and §5.12 put first is reported.
struct RuleIssue: Sendable {
    /// Report order: structural problems first, then references, missing arguments, types, compatibility,
    /// contradictions and ranges (§5.12).
    enum Stage: Int, Sendable, Comparable {
        case structure = 0
        case reference, missing, type, compatibility, contradiction, range

        static func < (lhs: Stage, rhs: Stage) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    var stage: Stage
    var error: RuleParseError

    init(_ stage: Stage, _ error: RuleParseError) {
        self.stage = stage
        self.error = error
    }

    /// The issue to report among several: earliest stage, then earliest position.
    static func first(_ issues: [RuleIssue]) -> RuleIssue? {
        issues.min { lhs, rhs in
            if lhs.stage != rhs.stage { return lhs.stage < rhs.stage }
            return lhs.error.span.start < rhs.error.span.start
        }
    }
}
