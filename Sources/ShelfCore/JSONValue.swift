/// A JSON document kept exactly as written on the wire: numbers stay as their literal text, so 64-bit ids and
/// decimal prices never pass through `Double`.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// A number literal exactly as it appears in the document (e.g. `271878346596884015`, `19.99`).
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// An integer number value.
    public static func int(_ value: Int64) -> JSONValue { .number(String(value)) }

    /// An integer number value.
    public static func int(_ value: Int) -> JSONValue { .number(String(value)) }

    /// The member `key` of an object, or `nil`.
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// The members of an object, or `nil`.
    public var objectValue: [String: JSONValue]? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// The elements of an array, or `nil`.
    public var arrayValue: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// A string value, or the literal text of a number (ids arrive as either on real channels).
    public var stringValue: String? {
        switch self {
        case .string(let text): return text
        case .number(let literal): return literal
        default: return nil
        }
    }

    /// A boolean value, or `nil`.
    public var boolValue: Bool? {
        if case .bool(let flag) = self { return flag }
        return nil
    }

    /// `true` when the value is JSON `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// An exact 64-bit integer from an integer literal or a string of digits; `nil` for fractions or overflow.
    public var int64Value: Int64? {
        switch self {
        case .number(let literal): return Int64(literal)
        case .string(let text): return Int64(text)
        default: return nil
        }
    }

    /// An exact `Int` from an integer literal or a string of digits.
    public var intValue: Int? {
        int64Value.flatMap { Int(exactly: $0) }
    }

    /// The decimal text of a number or numeric string (for prices written as `19.99` or `"19.99"`).
    public var decimalText: String? {
        switch self {
        case .number(let literal): return literal
        case .string(let text): return text
        default: return nil
        }
    }
}
