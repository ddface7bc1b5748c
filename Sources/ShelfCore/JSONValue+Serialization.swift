extension JSONValue {
    /// Compact UTF-8 JSON with object keys sorted (stable bytes across processes: safe for ETags and signatures).
    public var serializedBytes: [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(256)
        write(into: &output)
        return output
    }

    /// Compact JSON text with object keys sorted.
    public var serializedText: String {
        String(decoding: serializedBytes, as: UTF8.self)
    }

    /// Indented JSON (two spaces, sorted keys) for fixture files; literals are kept exactly.
    public var prettyText: String {
        var output: [UInt8] = []
        writePretty(into: &output, indent: 0)
        output.append(0x0A)
        return String(decoding: output, as: UTF8.self)
    }

    private func writePretty(into output: inout [UInt8], indent: Int) {
        let pad = { (level: Int) in Array(String(repeating: "  ", count: level).utf8) }
        switch self {
        case .array(let elements) where !elements.isEmpty:
            output.append(contentsOf: Array("[\n".utf8))
            for (position, element) in elements.enumerated() {
                output.append(contentsOf: pad(indent + 1))
                element.writePretty(into: &output, indent: indent + 1)
                output.append(contentsOf: Array((position < elements.count - 1 ? ",\n" : "\n").utf8))
            }
            output.append(contentsOf: pad(indent))
            output.append(UInt8(ascii: "]"))
        case .object(let members) where !members.isEmpty:
            output.append(contentsOf: Array("{\n".utf8))
            let keys = members.keys.sorted()
            for (position, key) in keys.enumerated() {
                output.append(contentsOf: pad(indent + 1))
                Self.writeString(key, into: &output)
                output.append(contentsOf: Array(": ".utf8))
                members[key]!.writePretty(into: &output, indent: indent + 1)
                output.append(contentsOf: Array((position < keys.count - 1 ? ",\n" : "\n").utf8))
            }
            output.append(contentsOf: pad(indent))
            output.append(UInt8(ascii: "}"))
        default:
            write(into: &output)
        }
    }

    private func write(into output: inout [UInt8]) {
        switch self {
        case .null:
            output.append(contentsOf: Array("null".utf8))
        case .bool(let flag):
            output.append(contentsOf: Array((flag ? "true" : "false").utf8))
        case .number(let literal):
            output.append(contentsOf: Array(literal.utf8))
        case .string(let text):
            Self.writeString(text, into: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                element.write(into: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            for (position, key) in members.keys.sorted().enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                Self.writeString(key, into: &output)
                output.append(UInt8(ascii: ":"))
                members[key]!.write(into: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    private static func writeString(_ text: String, into output: inout [UInt8]) { JSONText.appendQuoted(text, to: &output) }
}
