import Foundation

/// The one RFC 3339 writer and parser: UTC with milliseconds as the API contract writes them (whole seconds for channels that
/// want them), and every RFC 3339 form channels send (`Z`, `±hh:mm` or `±hhmm` offsets, any fraction). Pure arithmetic, no
/// Foundation formatter: safe and fast on any thread.
public enum Timestamp {
    /// Formats `date` as `2026-11-23T06:00:00.120Z`, to the nearest millisecond (binary doubles put a parsed `.120` at
    /// `.11999…`; rounding down would write `.119`).
    public static func format(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded())
        return format(millis: millis, fraction: true)
    }

    /// Formats `date` as `2026-11-23T06:00:00Z` (UTC, whole seconds, rounded down).
    public static func formatSeconds(_ date: Date) -> String {
        format(millis: epochSeconds(date) * 1000, fraction: false)
    }

    /// Unix epoch seconds, rounded down (TikTok, Etsy and Walmart use them).
    public static func epochSeconds(_ date: Date) -> Int64 {
        Int64(date.timeIntervalSince1970.rounded(.down))
    }

    static func format(millis: Int64, fraction: Bool) -> String {
        let days = floorDiv(millis, 86_400_000)
        let msOfDay = Int(millis - days * 86_400_000)
        let (y, mo, d) = CivilDate.fromDays(days)
        var out = [UInt8]()
        out.reserveCapacity(24)
        func digits(_ value: Int, _ count: Int) {
            var v = value
            var tmp = [UInt8](repeating: 48, count: count)
            for i in stride(from: count - 1, through: 0, by: -1) {
                tmp[i] = UInt8(48 + v % 10)
                v /= 10
            }
            out.append(contentsOf: tmp)
        }
        digits(y, 4); out.append(45); digits(mo, 2); out.append(45); digits(d, 2); out.append(84)
        digits(msOfDay / 3_600_000, 2); out.append(58); digits((msOfDay / 60_000) % 60, 2); out.append(58)
        digits((msOfDay / 1000) % 60, 2)
        if fraction {
            out.append(46)
            digits(msOfDay % 1000, 3)
        }
        out.append(90)
        return String(decoding: out, as: UTF8.self)
    }

    /// True for instants Shelf stores and formats: years 1970 through 8999.
    public static func isSupported(_ date: Date) -> Bool {
        date.timeIntervalSince1970 >= 0 && date.timeIntervalSince1970 < 221_845_392_000
    }

    /// Parses an RFC 3339 instant (`Z` or a numeric offset, optional fraction). Nil when malformed.
    public static func parse(_ text: String) -> Date? {
        let s = Array(text.utf8)
        guard s.count >= 20 else { return nil }
        func num(_ from: Int, _ len: Int) -> Int? {
            guard from + len <= s.count else { return nil }
            var v = 0
            for i in from..<(from + len) {
                let c = s[i]
                guard c >= 48 && c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            return v
        }
        guard let year = num(0, 4), s[4] == 45, let month = num(5, 2), s[7] == 45, let day = num(8, 2),
            s[10] == 84 || s[10] == 116 || s[10] == 32,
            let hour = num(11, 2), s[13] == 58, let minute = num(14, 2), s[16] == 58, let second = num(17, 2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= CivilDate.daysInMonth(year, month), hour < 24, minute < 60, second < 61
        else { return nil }
        var i = 19
        var fraction = 0.0
        if i < s.count, s[i] == 46 {
            i += 1
            var scale = 0.1
            let start = i
            while i < s.count, s[i] >= 48, s[i] <= 57 {
                fraction += Double(s[i] - 48) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        guard i < s.count else { return nil }
        var offset = 0
        if s[i] == 90 || s[i] == 122 {
            i += 1
        } else if s[i] == 43 || s[i] == 45 {
            // `±hh:mm` (RFC 3339) or `±hhmm` (ISO 8601 basic, which some channels send).
            let colon = i + 3 < s.count && s[i + 3] == 58
            guard let oh = num(i + 1, 2), let om = num(i + (colon ? 4 : 3), 2), oh < 24, om < 60 else { return nil }
            offset = (oh * 3600 + om * 60) * (s[i] == 45 ? -1 : 1)
            i += colon ? 6 : 5
        } else {
            return nil
        }
        guard i == s.count else { return nil }
        let days = CivilDate.toDays(year, month, day)
        let secs = days * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offset)
        let date = Date(timeIntervalSince1970: Double(secs) + fraction)
        return isSupported(date) ? date : nil
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}

/// A calendar date without time or zone (proleptic Gregorian), used for delivery dates and holidays.
public struct CivilDate: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int

    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses `YYYY-MM-DD`.
    public init?(_ text: String) {
        let parts = text.split(separator: "-")
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
            (1...12).contains(m), d >= 1, d <= CivilDate.daysInMonth(y, m)
        else { return nil }
        self.init(year: y, month: m, day: d)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let date = CivilDate(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "expected YYYY-MM-DD"))
        }
        self = date
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }

    public var description: String {
        func pad(_ n: Int, _ width: Int) -> String {
            let text = String(n)
            return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
        }
        return pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2)
    }

    /// Days since 1970-01-01.
    public var dayNumber: Int64 { CivilDate.toDays(year, month, day) }

    /// The date `dayNumber` days after 1970-01-01.
    public init(dayNumber: Int64) {
        let (y, m, d) = CivilDate.fromDays(dayNumber)
        self.init(year: y, month: m, day: d)
    }

    /// ISO weekday: 1 = Monday … 7 = Sunday.
    public var isoWeekday: Int {
        let w = Int((dayNumber % 7 + 7) % 7)  // 1970-01-01 was a Thursday (ISO 4)
        return (w + 3) % 7 + 1
    }

    public var isWeekend: Bool { isoWeekday >= 6 }

    public func adding(days: Int) -> CivilDate { CivilDate(dayNumber: dayNumber + Int64(days)) }

    public static func < (a: CivilDate, b: CivilDate) -> Bool { a.dayNumber < b.dayNumber }

    static func daysInMonth(_ y: Int, _ m: Int) -> Int {
        switch m {
        case 2: return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    // Howard Hinnant's days_from_civil / civil_from_days.
    static func toDays(_ y0: Int, _ m: Int, _ d: Int) -> Int64 {
        let y = Int64(m <= 2 ? y0 - 1 : y0)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = Int64((m + 9) % 12)
        let doy = (153 * mp + 2) / 5 + Int64(d) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func fromDays(_ z0: Int64) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (Int(m <= 2 ? y + 1 : y), Int(m), Int(d))
    }
}
