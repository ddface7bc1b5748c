/// The value side of a condition: a number, a money amount or an ISO-8601 duration (§7.1).
public enum RuleValue: Sendable, Codable, Hashable {
    case number(RuleNumber)
    case money(RuleMoney)
    case duration(String)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let money = try? container.decode(RuleMoney.self) {
            self = .money(money)
        } else if let text = try? container.decode(String.self) {
            self = .duration(text)
        } else {
            self = .number(try container.decode(RuleNumber.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .number(let number): try container.encode(number)
        case .money(let money): try container.encode(money)
        case .duration(let text): try container.encode(text)
        }
    }
}
