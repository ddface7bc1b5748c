import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ShelfConnectors
import ShelfCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Serves every connection's channel endpoints under `/c/{connectionId}/…`, applying faults, rate budgets and ETags.
struct ChannelController: Sendable {
    let state: SimulatorState

    func addRoutes(to router: Router<SimRequestContext>) {
        for method in [HTTPRequest.Method.get, .post, .put, .patch, .delete] {
            router.on("c/:connection/**", method: method) { request, context in
                try await self.serve(request, context: context)
            }
        }
    }

    private func serve(_ request: Request, context: SimRequestContext) async throws -> Response {
        let receivedAtNanos = state.clock.monotonicNanos()
        let receivedAt = state.clock.now()
        let connectionId = try context.parameters.require("connection")
        guard let connection = await state.connection(connectionId) else {
            return Self.response(.notFound("unknown connection '\(connectionId)'"))
        }
        let rawSegments = request.uri.path.split(separator: "/", omittingEmptySubsequences: true)
        let segments = rawSegments.dropFirst(2).map { URLQuery.decode($0) }
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            headers[name] = headers[name].map { $0 + ", " + field.value } ?? field.value
        }
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        let call = ChannelCall(
            connection: connection,
            method: request.method.rawValue,
            segments: segments,
            query: URLQuery.items(of: "?" + (request.uri.query ?? "")),
            headers: headers,
            body: Array(buffer: buffer),
            baseURL: "http://\(request.head.authority ?? "127.0.0.1")/c/\(URLQuery.encode(connection.id))",
            receivedAt: receivedAt,
            receivedAtNanos: receivedAtNanos
        )
        let endpoints = ChannelEndpointsDirectory.endpoints(for: connection.kind)
        guard let operation = endpoints.operation(for: call) else {
            return Self.response(.notFound("\(connection.kind.rawValue) has no endpoint \(call.method) \(call.path)"))
        }
        let fault = await state.takeFault(connection: connection.id, operation: operation.rawValue)
        if let fault {
            switch fault.mode {
            case .status:
                var extra: [String: String] = [:]
                if let seconds = fault.retryAfterSeconds { extra["Retry-After"] = String(seconds) }
                let status = fault.status ?? 503
                return Self.response(.json(status, .object(["error": .string("shelf-sim injected HTTP \(status)")]), headers: extra))
            case .rateLimit:
                let budget = RateBudget.defaults(for: connection.kind, operation: operation.rawValue).budget
                return Self.response(endpoints.throttled(retryAfter: fault.retryAfterSeconds ?? 1, budget: budget))
            case .reset:
                await Self.reset(context.channel)
                throw CancellationError()
            case .timeout:
                try? await Task.sleep(for: .milliseconds(fault.durationMs ?? 30_000))
                await Self.reset(context.channel)
                throw CancellationError()
            case .slowBody:
                break
            }
        }
        let (retryAfter, budget) = await state.takeToken(connection: connection, operation: operation.rawValue)
        if let retryAfter {
            return Self.response(endpoints.throttled(retryAfter: retryAfter, budget: budget))
        }
        await state.count(connection.id) { stats in
            switch operation {
            case .poll: stats.polls += 1
            case .order: stats.orderReads += 1
            case .push: break
            }
        }
        var reply: ChannelReply
        do {
            reply = try await endpoints.handle(call, state: state)
        } catch let error {
            reply = error
        }
        if operation == .poll, endpoints.etagPolls, reply.status == 200 {
            let etag = "\"" + String(WebhookCrypto.hex(WebhookCrypto.sha256(reply.body)).prefix(32)) + "\""
            reply.headers["ETag"] = etag
            let presented = headers["if-none-match"]?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } ?? []
            if presented.contains(etag) || presented.contains("*") {
                reply = ChannelReply(status: 304, headers: ["ETag": etag], body: [])
            }
        }
        if let fault, fault.mode == .slowBody {
            return Self.slowResponse(reply, over: fault.durationMs ?? 2000)
        }
        return Self.response(reply)
    }

    static func fields(_ headers: [String: String]) -> HTTPFields {
        var fields = HTTPFields()
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
            guard let fieldName = HTTPField.Name(name) else { continue }
            fields[fieldName] = value
        }
        return fields
    }

    static func response(_ reply: ChannelReply) -> Response {
        Response(
            status: HTTPResponse.Status(code: reply.status),
            headers: fields(reply.headers),
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: reply.body))
        )
    }

    /// Sends the head at once, then the body in small pieces spread over `milliseconds`.
    static func slowResponse(_ reply: ChannelReply, over milliseconds: Int) -> Response {
        let body = reply.body
        let pieces = max(1, min(body.count, 20))
        let pieceSize = max(1, (body.count + pieces - 1) / pieces)
        let pause = Duration.milliseconds(max(milliseconds, 0)) / pieces
        return Response(
            status: HTTPResponse.Status(code: reply.status),
            headers: fields(reply.headers),
            body: ResponseBody(contentLength: body.count) { writer in
                var offset = 0
                while offset < body.count {
                    try await Task.sleep(for: pause)
                    let end = min(offset + pieceSize, body.count)
                    try await writer.write(ByteBuffer(bytes: body[offset..<end]))
                    offset = end
                }
                try await writer.finish(nil)
            }
        )
    }

    /// Closes the TCP connection with RST (SO_LINGER 0) instead of a graceful FIN.
    static func reset(_ channel: any NIOCore.Channel) async {
        if let provider = channel as? any SocketOptionProvider {
            try? await provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
        }
        try? await channel.close()
    }
}
