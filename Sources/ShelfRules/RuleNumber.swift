/// A JSON number that is written as an integer when it is integral (`10`, not `10.0`), as §7.2 requires.
public struct RuleNumber: Sendable, Codable, Hashable, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral {
    public var value: Double

    public init(_ value: Double) { self.value = value }
    public init(integerLiteral value: Int) { self.value = Double(value) }
    public init(floatLiteral value: Double) { self.value = value }

    /// The value as an integer when it has no fractional part and fits.
    public var integerValue: Int? {
        guard value.rounded() == value, abs(value) < 9e15 else { return nil }
        return Int(value)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let int = try? container.decode(Int.self) {
            value = Double(int)
        } else {
            value = try container.decode(Double.self)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let int = integerValue {
            try container.encode(int)
        } else {
            try container.encode(value)
        }
    }
}
