/// ISO-8601 durations with D/H/M parts only, filled greedily with D = 24 h (§2): 90 min → PT1H30M, 24 h → P1D.
public enum RuleDurationFormat {
    /// The ISO form of a whole number of minutes, or nil when `seconds` is not a positive whole number of minutes.
    static func iso(seconds: Double) -> String? {
        guard seconds > 0, seconds < 1e12, seconds.rounded() == seconds, Int(seconds) % 60 == 0 else { return nil }
        var minutes = Int(seconds) / 60
        let days = minutes / 1440
        minutes -= days * 1440
        let hours = minutes / 60
        minutes -= hours * 60
        var text = "P"
        if days > 0 { text += "\(days)D" }
        if hours > 0 || minutes > 0 {
            text += "T"
            if hours > 0 { text += "\(hours)H" }
            if minutes > 0 { text += "\(minutes)M" }
        }
        return text
    }

    /// Seconds of an ISO duration produced by `iso(seconds:)`.
    public static func seconds(_ iso: String) -> Double? {
        var total = 0.0
        var number = ""
        var inTime = false
        for character in iso.dropFirst() {
            switch character {
            case "T": inTime = true
            case "D":
                total += (Double(number) ?? 0) * 86400
                number = ""
            case "H":
                total += (Double(number) ?? 0) * 3600
                number = ""
            case "M":
                total += (Double(number) ?? 0) * (inTime ? 60 : 2_592_000)
                number = ""
            default: number.append(character)
            }
        }
        return total
    }
}
