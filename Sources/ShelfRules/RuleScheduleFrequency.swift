/// How often a scheduled rule runs (§3.6).
public enum RuleScheduleFrequency: String, Sendable, Codable, Hashable {
    case daily, weekly, interval
}
