import Foundation
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import ShelfCore

/// Hummingbird's HTTP/1.1 child channel with Shelf's limits on request heads, and problem documents (with `X-Request-Id`) for
/// the requests that fail below the router: 414 for a request line that is too long, 431 for too many or too large header
/// fields, 400 for anything else the HTTP parser refuses. Hummingbird itself answers those with a bare 400.
struct ShelfHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    /// Largest request line or single header field, in bytes.
    static let maxFieldBytes = 16 << 10
    /// Largest header block, in bytes.
    static let maxHeaderBytes = 64 << 10
    /// Most header fields in one request.
    static let maxHeaderFields = 200

    let inner: HTTP1Channel
    /// Serve each connection from its event loop (`EventLoopTaskExecutor`) rather than from the cooperative pool.
    let onEventLoop: Bool

    init(responder: @escaping HTTPChannelHandler.Responder, idleTimeout: TimeAmount? = nil, onEventLoop: Bool = false) {
        self.onEventLoop = onEventLoop
        inner = HTTP1Channel(
            responder: responder,
            configuration: .init(
                additionalChannelHandlers: [],
                idleTimeout: idleTimeout,
                httpDecoderConfiguration: .init(
                    maxHeaderFieldSize: Self.maxFieldBytes, maxHeaderListSize: Self.maxHeaderBytes, maxHeaderFieldCount: Self.maxHeaderFields
                )
            )
        )
    }

    func setup(channel: any NIOCore.Channel, logger: Logger) -> EventLoopFuture<Value> {
        inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let sniffer = RequestLineSniffer()
            let pipeline = channel.pipeline.syncOperations
            let decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            // Right before the decoder: behind TLS (when serving HTTPS) it sees the plain bytes.
            try pipeline.addHandler(sniffer, position: .before(decoder))
            let errors = ParseErrorResponder(sniffer: sniffer)
            try pipeline.addHandler(errors, position: .after(decoder))
            try pipeline.addHandler(EarlyResponseDrainer(), position: .after(errors))
            return value
        }
    }

    /// Serves the connection, from its event loop when `onEventLoop` (see `EventLoopTaskExecutor`; routes that may block then
    /// move off it themselves).
    func handle(value: Value, logger: Logger) async {
        guard onEventLoop else { return await inner.handle(value: value, logger: logger) }
        await withTaskExecutorPreference(EventLoopTaskExecutor(value.channel.eventLoop)) {
            await inner.handle(value: value, logger: logger)
        }
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 with Shelf's head limits and problem documents for parse errors; `onEventLoop`: serve each connection from
    /// its event loop.
    static func shelfHTTP1(onEventLoop: Bool = false) -> HTTPServerBuilder {
        .init { responder in ShelfHTTP1Channel(responder: responder, onEventLoop: onEventLoop) }
    }
}

/// Watches the raw bytes before the HTTP decoder just enough to tell, when the decoder refuses an oversized head, whether the
/// open line is the request line (414) or a header field (431): it keeps the first bytes of the last unterminated line.
final class RequestLineSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// Up to 16 leading bytes of the line the last chunk ended in.
    private(set) var openLine: [UInt8] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        buffer.withUnsafeReadableBytes { bytes in
            if let newline = bytes.lastIndex(of: UInt8(ascii: "\n")) {
                openLine = Array(bytes[(newline + 1)..<min(bytes.count, newline + 17)])
            } else if openLine.count < 16 {
                openLine += bytes.prefix(16 - openLine.count)
            }
        }
        context.fireChannelRead(data)
    }

    /// True when the open line starts like a request line (`METHOD ` — a header name cannot contain a space).
    var openLineIsRequestLine: Bool {
        guard let space = openLine.firstIndex(of: UInt8(ascii: " ")), space > 0 else { return false }
        return openLine[..<space].allSatisfy { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }
    }
}

/// Between the HTTP/1 decoder and Hummingbird: remembers the parser error it saw pass, and turns the bare `400` Hummingbird then
/// writes into the matching problem document, closing the connection afterwards as Hummingbird does.
final class ParseErrorResponder: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    let sniffer: RequestLineSniffer
    private var problem: Problem?

    init(sniffer: RequestLineSniffer) {
        self.sniffer = sniffer
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let parse = error as? HTTPParserError { problem = Self.problem(for: parse, requestLine: sniffer.openLineIsRequestLine) }
        context.fireErrorCaught(error)
    }

    static func problem(for error: HTTPParserError, requestLine: Bool) -> Problem {
        switch error {
        case .headerOverflow where requestLine:
            return Problem(.uriTooLong, detail: "the request line exceeds \(ShelfHTTP1Channel.maxFieldBytes) bytes")
        case .headerOverflow:
            return Problem(
                .headersTooLarge,
                detail: "the request headers exceed \(ShelfHTTP1Channel.maxHeaderFields) fields, \(ShelfHTTP1Channel.maxFieldBytes) bytes "
                    + "in one field or \(ShelfHTTP1Channel.maxHeaderBytes) bytes in all"
            )
        case .invalidHeaderToken, .invalidCharactersUsed:
            return Problem(.badRequest, detail: "the request head holds a character HTTP does not allow (for example NUL or a bare CR)")
        default:
            return Problem(.badRequest, detail: "the request is not valid HTTP/1.1 (\(error))")
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard let problem else {
            context.write(data, promise: promise)
            return
        }
        switch unwrapOutboundIn(data) {
        case .head:
            let body = (try? ShelfJSON.encode(problem)) ?? Data()
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/problem+json")
            headers.add(name: "Content-Length", value: String(body.count))
            headers.add(name: "Connection", value: "close")
            headers.add(name: "X-Request-Id", value: UUID().uuidString.lowercased())
            let head = HTTPResponseHead(version: .http1_1, status: .init(statusCode: problem.statusCode), headers: headers)
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: promise)
        case .body:
            promise?.succeed()
        case .end:
            self.problem = nil
            context.write(wrapOutboundOut(.end(nil)), promise: promise)
        }
    }
}

/// Answers sent before their request's body has arrived (413, 401, 403: refused from the head alone) would leave a client
/// that writes its whole body before reading (Python's urllib) stalled: Hummingbird has stopped reading. After such an answer
/// the rest of the body is read here and discarded — at most `maxDrainBytes`, for at most `maxDrainTime`, as nginx's
/// lingering close does — and the connection then carries on with the next request; past either bound it is closed.
final class EarlyResponseDrainer: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    static let maxDrainBytes = 64 << 20
    static let maxDrainTime = TimeAmount.seconds(5)

    private var requestHeads = 0
    private var responseHeads = 0
    private var requestOpen = false
    private var early = false
    private var draining = false
    private var drained = 0
    private var deadline: Scheduled<Void>?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            requestHeads += 1
            requestOpen = true
        case .body(let buffer) where draining:
            drained += buffer.readableBytes
            if drained > Self.maxDrainBytes { context.close(promise: nil) }
            return
        case .body:
            break
        case .end:
            requestOpen = false
            if draining { stopDraining() }
        }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // Hummingbird stopped asking for data once it answered; keep reading until the body is discarded.
        if draining { context.read() }
        context.fireChannelReadComplete()
    }

    private func stopDraining() {
        draining = false
        drained = 0
        deadline?.cancel()
        deadline = nil
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head:
            responseHeads += 1
            early = requestOpen && responseHeads == requestHeads
        case .end where early:
            early = false
            let written = promise ?? context.eventLoop.makePromise()
            // Handlers and their context live on the channel's event loop, where these callbacks run (hence assumeIsolated).
            written.futureResult.assumeIsolated().whenSuccess {
                guard self.requestOpen else { return }
                self.draining = true
                context.read()
                self.deadline = context.eventLoop.assumeIsolated().scheduleTask(in: Self.maxDrainTime) {
                    if self.draining { context.close(promise: nil) }
                }
            }
            context.write(data, promise: written)
            return
        case .body, .end:
            break
        }
        context.write(data, promise: promise)
    }
}
