import Foundation
import HTTPTypes
import Hummingbird
import ShelfConnectors

/// One webhook POST as Shelf's ingest would see it.
struct ReceivedWebhook: Sendable {
    /// Lower-cased names plus the `:method` and `:path` pseudo-headers.
    var headers: [String: String]
    var body: [UInt8]
    var connection: String
}

/// Records webhooks; answers each with the next scripted status (then 200).
actor WebhookInbox {
    private(set) var received: [ReceivedWebhook] = []
    private var scripted: [Int]

    init(statuses: [Int] = []) {
        self.scripted = statuses
    }

    func record(_ webhook: ReceivedWebhook) -> Int {
        received.append(webhook)
        return scripted.isEmpty ? 200 : scripted.removeFirst()
    }
}

/// Runs a tiny Hummingbird app on 127.0.0.1 that accepts `POST /v1/webhooks/{connection}`.
func withWebhookReceiver<Value: Sendable>(
    inbox: WebhookInbox,
    _ body: @Sendable (String) async throws -> Value
) async throws -> Value {
    let router = Router()
    router.post("v1/webhooks/:connection") { request, context -> Response in
        var headers: [String: String] = [":method": request.method.rawValue, ":path": request.uri.string]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let buffer = try await request.body.collect(upTo: 1 << 20)
        let status = await inbox.record(
            ReceivedWebhook(headers: headers, body: Array(buffer: buffer), connection: try context.parameters.require("connection"))
        )
        return Response(status: HTTPResponse.Status(code: status))
    }
    let port = Once<Int>()
    let app = Application(
        router: router,
        configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { await port.set($0.localAddress?.port ?? 0) }
    )
    return try await whileRunning(app, port: port) { bound in
        try await body("http://127.0.0.1:\(bound)/v1/webhooks")
    }
}
