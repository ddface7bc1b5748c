import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// JSON responses with sorted keys (stable bytes).
enum SimJSON {
    static func response(_ status: HTTPResponse.Status, _ value: some Encodable) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data(#"{"error":"encoding failed"}"#.utf8)
        return Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data))
        )
    }

    static func problem(_ status: HTTPResponse.Status, _ message: String) -> Response {
        response(status, ControlPayloads.Problem(error: message))
    }

    static func noContent() -> Response {
        Response(status: .noContent)
    }
}
