import MCP

/// A tool call's arguments, read strictly: unknown names, wrong types and out-of-range numbers are `Problem`s naming the field.
struct MCPToolArguments {
    let values: [String: Value]

    init(_ values: [String: Value]?, allowed: Set<String>) throws {
        self.values = values ?? [:]
        if let unknown = self.values.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw Problem(.validation, detail: "unknown argument \(unknown); allowed: \(allowed.sorted().joined(separator: ", "))", field: unknown)
        }
    }

    func string(_ name: String) throws -> String? {
        guard let value = values[name], value != .null else { return nil }
        guard case .string(let s) = value else { throw Problem(.validation, detail: "\(name) must be a string", field: name) }
        return s
    }

    func requiredString(_ name: String) throws -> String {
        guard let s = try string(name), !s.isEmpty else { throw Problem(.validation, detail: "\(name) is required", field: name) }
        return s
    }

    func int(_ name: String, default fallback: Int?, range: ClosedRange<Int>) throws -> Int? {
        guard let value = values[name], value != .null else { return fallback }
        let n: Int
        switch value {
        case .int(let i): n = i
        case .double(let d) where d.rounded() == d && abs(d) < 1e15: n = Int(d)
        default: throw Problem(.validation, detail: "\(name) must be an integer", field: name)
        }
        guard range.contains(n) else {
            throw Problem(.validation, detail: "\(name) must be from \(range.lowerBound) to \(range.upperBound)", field: name)
        }
        return n
    }

    func bool(_ name: String) throws -> Bool? {
        guard let value = values[name], value != .null else { return nil }
        guard case .bool(let b) = value else { throw Problem(.validation, detail: "\(name) must be true or false", field: name) }
        return b
    }

    func strings(_ name: String, max: Int) throws -> [String] {
        guard let value = values[name], value != .null else { return [] }
        guard case .array(let items) = value, items.count <= max else {
            throw Problem(.validation, detail: "\(name) must be an array of at most \(max) strings", field: name)
        }
        return try items.enumerated().map { i, item in
            guard case .string(let s) = item else { throw Problem(.validation, detail: "\(name)[\(i)] must be a string", field: "\(name)[\(i)]") }
            return s
        }
    }

    /// `items: [{sku, qty}]` lines.
    func lines(_ name: String, max: Int) throws -> [(sku: String, qty: Int)] {
        guard let value = values[name], case .array(let items) = value else {
            throw Problem(.validation, detail: "\(name) must be an array of {sku, qty}", field: name)
        }
        guard items.count <= max else {
            throw Problem(.payloadTooLarge, detail: "at most \(max) items, got \(items.count)", field: name)
        }
        return try items.enumerated().map { i, item in
            guard case .object(let fields) = item else {
                throw Problem(.validation, detail: "\(name)[\(i)] must be an object {sku, qty}", field: "\(name)[\(i)]")
            }
            let line = try MCPToolArguments(fields, allowed: ["sku", "qty"])
            guard let sku = try? line.requiredString("sku") else {
                throw Problem(.validation, detail: "\(name)[\(i)].sku is required", field: "\(name)[\(i)].sku")
            }
            do {
                return (sku, try line.int("qty", default: 1, range: AgentDesk.qtyRange)!)
            } catch {
                throw Problem(.validation, detail: "\(name)[\(i)].qty must be an integer from 1 to 1000000", field: "\(name)[\(i)].qty")
            }
        }
    }
}
