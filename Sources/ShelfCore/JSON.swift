import Foundation

/// The one way Shelf encodes and decodes JSON: sorted, stable keys; dates as RFC 3339 with milliseconds.
public enum ShelfJSON {
    /// A new encoder with sorted keys and Shelf's date format.
    public static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(Timestamp.format(date))
        }
        return e
    }

    /// A new decoder that reads RFC 3339 instants.
    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .custom { decoder in
            let c = try decoder.singleValueContainer()
            let text = try c.decode(String.self)
            guard let date = Timestamp.parse(text) else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "expected an RFC 3339 instant, got \(text)")
            }
            return date
        }
        return d
    }

    /// Encodes `value` to bytes with sorted keys.
    public static func encode<T: Encodable>(_ value: T) throws -> Data { try encoder().encode(value) }

    /// Encodes `value` to a UTF-8 string with sorted keys.
    public static func string<T: Encodable>(_ value: T) throws -> String { String(decoding: try encode(value), as: UTF8.self) }

    /// Decodes `type` from bytes.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T { try decoder().decode(type, from: data) }
}
