/// A comparison operator of a condition (§4.1).
public enum RuleOperator: String, Sendable, Codable, Hashable, CaseIterable {
    case lt, lte, gt, gte, eq, neq, between

    /// The operator seen from the other side of a sign flip (x < -v  ⇔  -x > v).
    var mirrored: RuleOperator {
        switch self {
        case .lt: .gt
        case .lte: .gte
        case .gt: .lt
        case .gte: .lte
        default: self
        }
    }
}
