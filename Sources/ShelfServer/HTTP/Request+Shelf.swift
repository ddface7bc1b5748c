import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore
import ShelfCore
import ShelfLedger

extension Request {
    /// The whole body, at most `limit` bytes (413 problem beyond), after checking it is JSON.
    func jsonBody(limit: Int) async throws -> ByteBuffer {
        if let type = headers[.contentType] {
            let media = type.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            guard media == "application/json" || media.hasSuffix("+json") else {
                throw Problem(.unsupportedMediaType, detail: "send Content-Type: application/json, not \(type)", field: "Content-Type")
            }
        } else {
            throw Problem(.unsupportedMediaType, detail: "send Content-Type: application/json", field: "Content-Type")
        }
        do {
            return try await body.collect(upTo: limit)
        } catch {
            throw Problem(.payloadTooLarge, detail: "the body exceeds \(limit) bytes")
        }
    }

    /// A query parameter as an integer within bounds, or a 422 problem naming it.
    func intParameter(_ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        try uri.queryParameters.int(name, default: value, range: range)
    }

    /// A destination from `country` and `postalCode` query parameters.
    func destination() throws -> Destination {
        try uri.queryParameters.destination()
    }
}

extension FlatDictionary where Key == Substring, Value == Substring {
    /// A query parameter as an integer within bounds, or a 422 problem naming it (for handlers that parse the query once).
    func int(_ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = get(name) else { return value }
        guard let n = Int(text), range.contains(n) else {
            throw Problem(.validation, detail: "\(name) must be an integer from \(range.lowerBound) to \(range.upperBound)", field: name)
        }
        return n
    }

    /// A destination from the `country` and `postalCode` parameters.
    func destination() throws -> Destination {
        try AgentDesk.destination(country: get("country"), postalCode: get("postalCode"))
    }
}

/// Encodes answers as JSON with sorted keys and a strong ETag; answers 304 when `If-None-Match` matches.
enum JSONResponder {
    static func respond<T: Encodable>(_ value: T, to request: Request, status: HTTPResponse.Status = .ok, etag: Bool = true,
                                      headers extra: HTTPFields = [:]) throws -> Response {
        let data = try ShelfJSON.encode(value)
        return bytes(data, contentType: "application/json", to: request, status: status, etag: etag, headers: extra)
    }

    static func bytes<Bytes: DataProtocol>(_ data: Bytes, contentType: String, to request: Request, status: HTTPResponse.Status = .ok, etag: Bool = true,
                      headers extra: HTTPFields = [:]) -> Response {
        buffer(ByteBuffer(bytes: data), contentType: contentType, to: request, status: status, etag: etag && status == .ok ? Self.etag(data) : nil,
               headers: extra)
    }

    /// The strong ETag of a body: the first 12 bytes of its SHA-1, in hex, quoted.
    static func etag<Bytes: DataProtocol>(_ data: Bytes) -> String {
        "\"" + Array(Insecure.SHA1.hash(data: data)).prefix(12).hexString + "\""
    }

    /// The strong ETag of the readable bytes of `buffer`.
    static func etag(_ buffer: ByteBuffer) -> String {
        buffer.withUnsafeReadableBytes { etag($0) }
    }

    /// Answers `body` with the ETag `tag` (none when nil): 304 when `If-None-Match` names it.
    static func buffer(_ body: ByteBuffer, contentType: String, to request: Request, status: HTTPResponse.Status = .ok, etag tag: String?,
                       headers extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.contentType] = contentType
        if let tag, status == .ok {
            headers[.eTag] = tag
            headers[.cacheControl] = "no-cache"
            if let match = request.headers[.ifNoneMatch], match.split(separator: ",").contains(where: {
                let t = $0.trimmingCharacters(in: .whitespaces)
                return t == tag || t == "*" || t == "W/" + tag
            }) {
                return Response(status: .notModified, headers: headers)
            }
        }
        return Response(status: status, headers: headers, body: .init(byteBuffer: body))
    }
}

/// Strict JSON decoding for writes: malformed JSON → 400 problem; unknown or missing fields and wrong types → 422 naming the field.
enum StrictJSON {
    /// Allowed keys of an object and of its nested objects, by key.
    indirect enum Shape: Sendable {
        case any
        case object([String: Shape])
        case array(Shape)
    }

    static func decode<T: Decodable>(_ type: T.Type, from buffer: ByteBuffer, shape: Shape) throws -> T {
        let data = Data(buffer.readableBytesView)
        let raw: Any
        do {
            raw = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw Problem(.malformedJSON, detail: "the body is not valid JSON")
        }
        try check(raw, shape: shape, path: "")
        do {
            return try ShelfJSON.decoder().decode(type, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            let path = (context.codingPath + [key]).map(\.stringValue).joined(separator: ".")
            throw Problem(.validation, detail: "\(path) is required", field: path)
        } catch let DecodingError.typeMismatch(_, context) {
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw Problem(.validation, detail: "\(path.isEmpty ? "body" : path) has the wrong type", field: path.isEmpty ? nil : path)
        } catch let DecodingError.valueNotFound(_, context) {
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw Problem(.validation, detail: "\(path) must not be null", field: path)
        } catch let DecodingError.dataCorrupted(context) {
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            // Foundation's decoder reports a number that does not fit an integer field (1.5, 1e300, 2^70) as "not valid
            // JSON" with no path; name the number instead.
            if path.isEmpty, let number = misfitNumber(in: raw, path: "") {
                throw Problem(.validation, detail: "\(number) must be an integer from -2^63 to 2^63-1", field: number)
            }
            throw Problem(.validation, detail: "\(path.isEmpty ? "body" : path): \(context.debugDescription)", field: path.isEmpty ? nil : path)
        }
    }

    /// The path of the first number that no integer field can hold: out of the Int64 range first, else fractional.
    static func misfitNumber(in value: Any, path: String) -> String? {
        var fractional: String?
        func walk(_ value: Any, _ path: String) -> String? {
            if let dict = value as? [String: Any] {
                for key in dict.keys.sorted() {
                    if let found = walk(dict[key]!, path.isEmpty ? key : "\(path).\(key)") { return found }
                }
            } else if let list = value as? [Any] {
                for (i, item) in list.enumerated() {
                    if let found = walk(item, "\(path)[\(i)]") { return found }
                }
            } else if let number = value as? NSNumber, !(value is Bool) {
                let d = number.doubleValue
                if !d.isFinite || d >= 9.223_372_036_854_775_807e18 || d < -9.223_372_036_854_775_808e18 { return path }
                if d.rounded() != d, fractional == nil { fractional = path }
            }
            return nil
        }
        return walk(value, path) ?? fractional
    }

    static func check(_ value: Any, shape: Shape, path: String) throws {
        switch shape {
        case .any:
            return
        case .object(let fields):
            guard let dict = value as? [String: Any] else {
                throw Problem(.validation, detail: "\(path.isEmpty ? "the body" : path) must be a JSON object", field: path.isEmpty ? nil : path)
            }
            for (key, child) in dict {
                let childPath = path.isEmpty ? key : "\(path).\(key)"
                guard let childShape = fields[key] else {
                    throw Problem(.validation, detail: "unknown field \(childPath)", field: childPath)
                }
                if child is NSNull { continue }
                try check(child, shape: childShape, path: childPath)
            }
        case .array(let element):
            guard let list = value as? [Any] else {
                throw Problem(.validation, detail: "\(path.isEmpty ? "the body" : path) must be a JSON array", field: path.isEmpty ? nil : path)
            }
            for (i, item) in list.enumerated() { try check(item, shape: element, path: "\(path)[\(i)]") }
        }
    }

    static let money: Shape = .object(["amount": .any, "currency": .any])
}

extension Data {
    /// Hex SHA-256 of the bytes (request digests for idempotency).
    var sha256Hex: String { Array(SHA256.hash(data: self)).hexString }
}
