import Foundation
import ShelfRules

/// When a rule's schedule comes due, in the store's time zone (rules-grammar §3.6): daily and weekly schedules at a local
/// `HH:MM` (a time a DST change skips fires at the next valid instant, a repeated one fires once), intervals on a grid aligned
/// to local midnight (`every 15 minutes` → :00, :15, :30, :45 local).
struct RuleScheduleCalendar: Sendable {
    let schedule: RuleSchedule
    let timeZone: TimeZone

    /// The latest occurrence at or before `instant`, or nil when the schedule is malformed.
    func latest(atOrBefore instant: Date) -> Date? {
        switch schedule.freq {
        case .interval:
            guard let iso = schedule.interval, let seconds = RuleDurationFormat.seconds(iso), seconds >= 60 else { return nil }
            let offset = Double(timeZone.secondsFromGMT(for: instant))
            let local = instant.timeIntervalSince1970 + offset
            var slot = Date(timeIntervalSince1970: (local / seconds).rounded(.down) * seconds - offset)
            if slot > instant { slot = slot.addingTimeInterval(-seconds) }
            return slot
        case .daily, .weekly:
            guard let time = schedule.time, let clock = Self.clock(time) else { return nil }
            let (hour, minute) = clock
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = timeZone
            let days = Set((schedule.freq == .weekly ? schedule.days ?? [] : RuleWeekday.allCases).map(Self.weekday))
            guard !days.isEmpty else { return nil }
            let today = calendar.startOfDay(for: instant)
            for back in 0...7 {
                guard let day = calendar.date(byAdding: .day, value: -back, to: today),
                      days.contains(calendar.component(.weekday, from: day)),
                      let at = calendar.date(bySettingHour: hour, minute: minute, second: 0, of: day), at <= instant
                else { continue }
                return at
            }
            return nil
        }
    }

    /// `HH:MM` as hour and minute.
    static func clock(_ text: String) -> (Int, Int)? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let h = Int(parts[0]), let m = Int(parts[1]), (0..<24).contains(h), (0..<60).contains(m) else { return nil }
        return (h, m)
    }

    /// Foundation's weekday number (Sunday = 1).
    static func weekday(_ day: RuleWeekday) -> Int {
        switch day {
        case .sunday: 1
        case .monday: 2
        case .tuesday: 3
        case .wednesday: 4
        case .thursday: 5
        case .friday: 6
        case .saturday: 7
        }
    }
}
