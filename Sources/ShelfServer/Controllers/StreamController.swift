import Foundation
import Hummingbird
import NIOCore
import ShelfCore
import ShelfLedger

/// `GET /v1/stream` (scope `read`): Server-Sent Events of the seller's changes, each with its ledger sequence as `id`.
/// `Last-Event-ID` resumes exactly after that event: missed events come from the ledger, then the stream goes live.
/// A consumer that falls behind the in-memory buffer is caught up from the ledger, so it never misses or repeats an event,
/// and it never slows ingest.
struct StreamController: Sendable {
    let env: ShelfEnvironment
    /// Seconds between heartbeat comments.
    static let heartbeat: Duration = .seconds(15)

    var routes: RouteCollection<ShelfRequestContext> {
        let routes = RouteCollection(context: ShelfRequestContext.self)
        routes.requiring(.read, env.tokens).get("stream", use: stream)
        return routes
    }

    /// What one SSE message carries.
    struct StreamEvent: Encodable {
        var sequence: Int64
        var type: String
        var sku: String?
        var channel: String?
        var location: String?
        var qty: Int?
        var price: Money?
        var source: String
        var recordedAt: Date
        var ruleId: String?
    }

    @Sendable func stream(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let token = try context.authenticated()
        let seller = token.seller
        var after: Int64 = 0
        if let header = request.headers[.init("Last-Event-ID")!] ?? request.uri.queryParameters.get("lastEventId") {
            guard let n = Int64(header.trimmingCharacters(in: .whitespaces)), n >= 0 else {
                throw Problem(.validation, detail: "Last-Event-ID must be a sequence number", field: "Last-Event-ID")
            }
            after = n
        }
        let sku = request.uri.queryParameters.get("sku")
        let types = request.uri.queryParameters.get("types").map { Set($0.split(separator: ",").map(String.init)) }
        if let types, let unknown = types.first(where: { EventType(rawValue: $0) == nil }) {
            throw Problem(.validation, detail: "unknown event type \(unknown)", field: "types")
        }
        let max = try request.intParameter("max", default: Int.max, range: 1...Int.max)
        let resumeAfter = after
        let ledger = env.ledger
        // Subscribe before reading history so nothing falls between the two. The change feed is the only buffer: this stream
        // reads it as fast as the client takes the bytes, and a client that falls behind the feed resumes from the ledger.
        let live = ledger.snapshot.feed.subscribe(maxBatch: 500)
        let encoder = ShelfJSON.encoder()
        let body = ResponseBody { writer in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    // Heartbeats: the subscription answers an empty batch when woken.
                    while !Task.isCancelled {
                        try await Task.sleep(for: Self.heartbeat)
                        live.wake()
                    }
                }
                defer { live.cancel() }
                var last = resumeAfter
                var sent = 0
                func send(_ events: [LedgerEvent], _ writer: inout any ResponseBodyWriter) async throws -> Bool {
                    var buffer = ByteBuffer()
                    for e in events where e.seller == seller && e.sequence > last {
                        last = e.sequence
                        if let sku, e.event.sku != sku { continue }
                        if let types, !types.contains(e.event.type.rawValue) { continue }
                        let payload = StreamEvent(
                            sequence: e.sequence, type: e.event.type.rawValue, sku: e.event.sku, channel: e.event.channel, location: e.event.location,
                            qty: e.event.qty, price: e.event.price, source: e.source, recordedAt: e.recordedAt, ruleId: e.event.ruleId
                        )
                        buffer.writeString("id: \(e.sequence)\nevent: \(e.event.type.rawValue)\ndata: ")
                        buffer.writeBytes(try encoder.encode(payload))
                        buffer.writeString("\n\n")
                        sent += 1
                        if sent >= max { break }
                    }
                    if buffer.readableBytes > 0 { try await writer.write(buffer) }
                    return sent >= max
                }
                /// Reads from the ledger everything after `last` up to `through` (or to the end).
                func catchUp(through: Int64?, _ writer: inout any ResponseBodyWriter) async throws -> Bool {
                    while true {
                        let page = try await ledger.events(seller: seller, after: last, limit: 500)
                        let relevant = through.map { t in page.filter { $0.sequence <= t } } ?? page
                        if try await send(relevant, &writer) { return true }
                        if page.count < 500 || (through.map { last >= $0 } ?? false) { return false }
                    }
                }
                var done = try await catchUp(through: nil, &writer)
                if !done {
                    try await writer.write(ByteBuffer(string: ": live\n\n"))
                }
                while !done, let batch = await live.next() {
                    guard !batch.isEmpty else {
                        try await writer.write(ByteBuffer(string: ": heartbeat\n\n"))
                        continue
                    }
                    let mine = batch.filter { $0.seller == seller }
                    guard let first = mine.first else { continue }
                    // Events before the subscription began (the history read above may have stopped short of them).
                    if first.sequence > last + 1 { done = try await catchUp(through: first.sequence - 1, &writer) }
                    if !done { done = try await send(mine, &writer) }
                }
                group.cancelAll()
                try await writer.finish(nil)
            }
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: body)
    }
}
