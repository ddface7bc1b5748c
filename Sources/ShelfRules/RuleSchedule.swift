/// When a scheduled rule runs: daily at a time, weekly on days at a time, or every interval (≥ PT5M).
public struct RuleSchedule: Sendable, Codable, Hashable {
    public var freq: RuleScheduleFrequency
    public var days: [RuleWeekday]?
    /// Store-local time of day, `HH:MM`.
    public var time: String?
    /// ISO-8601 duration for `interval` schedules.
    public var interval: String?

    public init(freq: RuleScheduleFrequency, days: [RuleWeekday]? = nil, time: String? = nil, interval: String? = nil) {
        self.freq = freq
        self.days = days
        self.time = time
        self.interval = interval
    }
}
