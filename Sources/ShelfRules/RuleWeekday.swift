/// A day of the week in a weekly schedule, in week order (Monday first).
public enum RuleWeekday: String, Sendable, Codable, Hashable, CaseIterable, Comparable {
    case monday = "MON"
    case tuesday = "TUE"
    case wednesday = "WED"
    case thursday = "THU"
    case friday = "FRI"
    case saturday = "SAT"
    case sunday = "SUN"

    var order: Int { Self.allCases.firstIndex(of: self) ?? 0 }

    public static func < (lhs: RuleWeekday, rhs: RuleWeekday) -> Bool { lhs.order < rhs.order }
}
