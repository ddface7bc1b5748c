import Foundation
import ShelfConnectors
import ShelfCore

/// One request to a simulated channel endpoint, with the `/c/{connectionId}` prefix removed.
struct ChannelCall: Sendable {
    var connection: SimConnection
    var method: String
    /// Path segments after the connection prefix, percent-decoded.
    var segments: [String]
    var query: [String: String]
    /// Lower-cased header names.
    var headers: [String: String]
    var body: [UInt8]
    /// `http://host:port/c/{id}` as the client addressed it (for absolute links such as `Link:` and `next`).
    var baseURL: String
    var receivedAt: Date
    var receivedAtNanos: UInt64

    var path: String { "/" + segments.joined(separator: "/") }

    /// The body as JSON, or a channel-style 400.
    func json() throws(ChannelReply) -> JSONValue {
        do {
            return try JSONValue.parse(body)
        } catch {
            throw ChannelReply.json(400, .object(["error": .string("invalid JSON body: \(error)")]))
        }
    }
}

/// Which budget and fault class an endpoint belongs to.
enum ChannelOperation: String, Sendable {
    case push, poll, order
}

/// A simulated channel's answer.
struct ChannelReply: Error, Sendable {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]

    static func json(_ status: Int, _ value: JSONValue, headers: [String: String] = [:]) -> ChannelReply {
        var allHeaders = headers
        allHeaders["Content-Type"] = "application/json"
        return ChannelReply(status: status, headers: allHeaders, body: value.serializedBytes)
    }

    static func notFound(_ message: String) -> ChannelReply {
        .json(404, .object(["error": .string(message)]))
    }
}
