/// `JSONValue` inside `Codable` types (problem extension members, stored rules, request fields that take any JSON). Numbers
/// decode to their literal as an integer when they are one, else as the shortest `Double` text; they encode back as the integer
/// or the number they spell. Byte-exact literals need the byte parser and `serializedBytes`, not `Codable`.
extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? c.decode(Int64.self) {
            self = .number(String(i))
        } else if let d = try? c.decode(Double.self) {
            self = .number(d.description)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let literal):
            if let i = Int64(literal) {
                try c.encode(i)
            } else if let d = Double(literal) {
                try c.encode(d)
            } else {
                throw EncodingError.invalidValue(literal, .init(codingPath: encoder.codingPath, debugDescription: "not a JSON number"))
            }
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}
