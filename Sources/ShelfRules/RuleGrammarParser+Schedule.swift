/// Schedules (§3.6): daily and weekly times, intervals, day-part words and bare-hour ambiguity.
extension RuleGrammarParser {
    enum DayPart {
        case morning, afternoon, evening, night
    }

    private struct Period {
        var days: [RuleWeekday]?
        var dayPart: DayPart?
    }

    private enum TimeOfDay {
        case exact(hour: Int, minute: Int)
        case bare(hour: Int, minute: Int, span: RuleSpan, text: String)
    }

    private static let weekdays: [String: RuleWeekday] = [
        "monday": .monday, "mondays": .monday, "mon": .monday, "tuesday": .tuesday, "tuesdays": .tuesday, "tue": .tuesday,
        "tues": .tuesday, "wednesday": .wednesday, "wednesdays": .wednesday, "wed": .wednesday, "thursday": .thursday,
        "thursdays": .thursday, "thu": .thursday, "thurs": .thursday, "friday": .friday, "fridays": .friday, "fri": .friday,
        "saturday": .saturday, "saturdays": .saturday, "sat": .saturday, "sunday": .sunday, "sundays": .sunday, "sun": .sunday,
    ]
    private static let dayParts: [String: DayPart] = [
        "morning": .morning, "mornings": .morning, "afternoon": .afternoon, "afternoons": .afternoon, "evening": .evening,
        "evenings": .evening, "night": .night, "nights": .night,
    ]

    func schedule() -> RuleSyntax.Schedule? {
        let start = pos
        return inSlot(.schedule(start: start)) {
            var match = RuleLongestMatch<RuleSyntax.Schedule>(start: start)
            match.consider(self, everyPeriodSchedule())
            match.consider(self, atTimeSchedule())
            match.consider(self, dailySchedule())
            match.consider(self, intervalSchedule())
            match.consider(self, onDaysSchedule())
            return match.finish(self)
        }
    }

    /// `every weekday at 9AM`, `each Friday at 5 pm`, `every morning at 7`.
    private func everyPeriodSchedule() -> RuleSyntax.Schedule? {
        let start = pos
        guard word("every") || word("each") else { return nil }
        guard let period = period() else { return nil }
        let time = attempt { () -> (TimeOfDay, DayPart?)? in
            optionalComma()
            return timePhrase()
        }
        return makeSchedule(period, time, start: start)
    }

    /// `at 9am every weekday`, `at 7 every morning`.
    private func atTimeSchedule() -> RuleSyntax.Schedule? {
        let start = pos
        guard let time = timePhrase() else { return nil }
        guard word("every") || word("each") || word("on"), let period = period() else { return nil }
        return makeSchedule(period, time, start: start)
    }

    /// `daily at 18:00`, `nightly at 11`.
    private func dailySchedule() -> RuleSyntax.Schedule? {
        let start = pos
        let period: Period
        if word("daily") {
            period = Period()
        } else if word("nightly") {
            period = Period(dayPart: .night)
        } else {
            return nil
        }
        let time = attempt { () -> (TimeOfDay, DayPart?)? in
            optionalComma()
            return timePhrase()
        }
        return makeSchedule(period, time, start: start)
    }

    /// `on weekdays at 9am`, `on Mondays and Thursdays at 8:00`.
    private func onDaysSchedule() -> RuleSyntax.Schedule? {
        let start = pos
        guard word("on"), let period = period(), period.days != nil else { return nil }
        let time = attempt { () -> (TimeOfDay, DayPart?)? in
            optionalComma()
            return timePhrase()
        }
        return makeSchedule(period, time, start: start)
    }

    /// `hourly`, `every 15 minutes`, `every hour`, `every 10 seconds` (rejected: below 5 minutes).
    private func intervalSchedule() -> RuleSyntax.Schedule? {
        let start = pos
        var seconds: Double
        if word("hourly") {
            seconds = 3600
        } else {
            guard word("every") || word("each") else { return nil }
            if case .duration(let value) = token.kind {
                seconds = value
                pos += 1
            } else if token.isWordLike, let unit = Self.unitNouns[token.lower] {
                seconds = unit
                pos += 1
            } else {
                expect(.literal("duration"))
                return nil
            }
        }
        var schedule = RuleSyntax.Schedule(span: span(from: start))
        if seconds < 300 || RuleDurationFormat.iso(seconds: seconds) == nil {
            schedule.issues.append(
                RuleIssue(
                    .range,
                    RuleParseError(
                        code: .outOfRange,
                        message: "Interval schedules must be at least 5 minutes, in whole minutes.",
                        span: schedule.span,
                        found: text(schedule.span),
                        expected: ["interval of 5 minutes or more"],
                        hint: "Use e.g. 'every 5 minutes' or 'every 15 minutes'."
                    )
                )
            )
        } else if let iso = RuleDurationFormat.iso(seconds: seconds) {
            schedule.schedule = RuleSchedule(freq: .interval, interval: iso)
        }
        return schedule
    }

    private func period() -> Period? {
        if word("day") { return Period(dayPart: dayPartWord()) }
        if word("weekday") || word("weekdays") {
            return Period(days: [.monday, .tuesday, .wednesday, .thursday, .friday], dayPart: dayPartWord())
        }
        if word("weekend") || word("weekends") { return Period(days: [.saturday, .sunday], dayPart: dayPartWord()) }
        if let part = dayPartWord() { return Period(dayPart: part) }
        guard let first = weekday() else { return nil }
        var days = [first]
        while true {
            let save = pos
            optionalComma()
            word("and")
            guard pos != save, let next = weekday() else {
                pos = save
                break
            }
            days.append(next)
        }
        return Period(days: days, dayPart: dayPartWord())
    }

    private func weekday() -> RuleWeekday? {
        if token.isWordLike, let day = Self.weekdays[token.lower] {
            pos += 1
            return day
        }
        expect(.literal("day of the week"))
        return nil
    }

    private func dayPartWord() -> DayPart? {
        if token.isWordLike, let part = Self.dayParts[token.lower] {
            pos += 1
            return part
        }
        return nil
    }

    /// `at 9am`, `at 18:00`, `at noon`, `at 7` (bare), optionally followed by `in the morning` / `at night`.
    private func timePhrase() -> (TimeOfDay, DayPart?)? {
        let start = pos
        guard word("at") || word("@") else { return nil }
        let current = token
        var time: TimeOfDay
        switch current.kind {
        case .clock(let hour, let minute, let meridiem):
            pos += 1
            time = meridiem == .none ? .bare(hour: hour, minute: minute, span: current.span, text: current.lower) : .exact(hour: hour, minute: minute)
        case .number(let value) where value.rounded() == value && value >= 0 && value <= 23:
            pos += 1
            let hour = Int(value)
            time = (1...12).contains(hour) ? .bare(hour: hour, minute: 0, span: current.span, text: current.lower) : .exact(hour: hour, minute: 0)
        case .word where current.lower == "noon" || current.lower == "midday":
            pos += 1
            time = .exact(hour: 12, minute: 0)
        case .word where current.lower == "midnight":
            pos += 1
            time = .exact(hour: 0, minute: 0)
        default:
            expect(.literal("time of day"))
            pos = start
            return nil
        }
        var part: DayPart?
        let save = pos
        if words("in", "the"), let found = dayPartWord() {
            part = found
        } else {
            pos = save
            if words("at", "night") { part = .night }
        }
        return (time, part)
    }

    private func makeSchedule(_ period: Period, _ time: (TimeOfDay, DayPart?)?, start: Int) -> RuleSyntax.Schedule {
        var schedule = RuleSyntax.Schedule(span: span(from: start))
        guard let (timeOfDay, suffixPart) = time else {
            // A missing part is reported where it could be added: an empty span at the end of the input (§7.4, §10.8).
            let end = tokens[tokens.count - 1].start
            schedule.issues.append(
                RuleIssue(
                    .missing,
                    RuleParseError(
                        code: .missingArgument,
                        message: "Daily and weekly schedules need a time of day.",
                        span: RuleSpan(start: end, end: end),
                        expected: ["at <time>"],
                        hint: "Add a time, e.g. 'every day at 9am'."
                    )
                )
            )
            return schedule
        }
        var clock: (Int, Int)?
        switch timeOfDay {
        case .exact(let hour, let minute):
            clock = (hour, minute)
        case .bare(let hour, let minute, let span, let text):
            switch suffixPart ?? period.dayPart {
            case .morning: clock = (hour == 12 ? 0 : hour, minute)
            case .afternoon, .evening, .night: clock = (hour == 12 ? 12 : hour + 12, minute)
            case nil:
                schedule.issues.append(
                    RuleIssue(
                        .structure,
                        RuleParseError(
                            code: .ambiguousTime,
                            message: "'\(text)' could be morning or evening.",
                            span: span,
                            found: text,
                            expected: ["am", "pm"],
                            suggestions: ["\(text)am", "\(text)pm"],
                            hint: "Add am or pm, use 24-hour time (e.g. 20:00), or say 'every morning' / 'every evening'."
                        )
                    )
                )
            }
        }
        guard let (hour, minute) = clock else { return schedule }
        let time = (hour < 10 ? "0" : "") + "\(hour):" + (minute < 10 ? "0" : "") + "\(minute)"
        if let days = period.days {
            schedule.schedule = RuleSchedule(freq: .weekly, days: Array(Set(days)).sorted(), time: time)
        } else {
            schedule.schedule = RuleSchedule(freq: .daily, time: time)
        }
        return schedule
    }

    /// The original text a span covers.
    func text(_ span: RuleSpan) -> String {
        let scalars = source.unicodeScalars
        guard span.start < span.end else { return "" }
        let start = scalars.index(scalars.startIndex, offsetBy: span.start)
        let end = scalars.index(start, offsetBy: span.end - span.start)
        return String(scalars[start..<end])
    }
}
