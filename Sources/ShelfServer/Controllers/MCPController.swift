import Foundation
import HTTPTypes
import Hummingbird
import MCP
import NIOCore
import ServiceLifecycle
import ShelfLedger

/// `POST /mcp` (scope `read`): the Model Context Protocol over Streamable HTTP, answered as single JSON responses.
/// Each request gets its own MCP server and stateless transport, so concurrent clients that reuse JSON-RPC ids never see each
/// other's answers and every client may `initialize`. Host and Origin are checked against the configured allowed hosts
/// (Hummingbird moves `Host` into the request's authority; it is passed on for the check).
struct MCPController: Sendable {
    let env: ShelfEnvironment

    var routes: RouteCollection<ShelfRequestContext> {
        let routes = RouteCollection(context: ShelfRequestContext.self)
        routes.requiring(.read, env.tokens)
            .post("/mcp", use: handle)
            .get("/mcp", use: sessionRequest)
            .delete("/mcp", use: sessionRequest)
        return routes
    }

    /// GET (the session's stream of server messages) and DELETE (end the session) need an `Mcp-Session-Id`; without one they
    /// answer 405 with `Allow: POST`, as the transport spec permits for a request outside a session.
    @Sendable func sessionRequest(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let token = try context.authenticated()
        guard let id = request.headers[Self.sessionHeader] else {
            var problem = Problem(.methodNotAllowed, detail: "GET and DELETE /mcp need an Mcp-Session-Id; POST JSON-RPC messages to /mcp")
            problem.field = "method"
            var response = problem.response()
            response.headers[.allow] = "POST"
            return response
        }
        guard let session = env.mcpSessions.session(id, token: token) else { return Self.response(Self.unknownSession) }
        let answer = await session.transport.handleRequest(message(request, body: nil))
        if request.method == .delete { await env.mcpSessions.remove(id) }
        return Self.response(answer, session: session)
    }

    static let sessionHeader = HTTPField.Name("Mcp-Session-Id")!
    static let unknownSession = MCP.HTTPResponse.error(statusCode: 404, .invalidRequest("unknown or ended session: initialize again"))

    /// The SDK's view of a request: headers by lower-case name (repeated ones joined), `host` from the authority.
    func message(_ request: Request, body: ByteBuffer?) -> MCP.HTTPRequest {
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            headers[name] = headers[name].map { $0 + ", " + field.value } ?? field.value
        }
        if let authority = request.head.authority { headers["host"] = authority }
        return MCP.HTTPRequest(method: request.method.rawValue, headers: headers, body: body.map { Data($0.readableBytesView) }, path: request.uri.path)
    }

    var hostValidator: OriginValidator {
        let hosts = env.configuration.mcpAllowedHosts
        return OriginValidator(allowedHosts: hosts, allowedOrigins: hosts.flatMap { ["http://\($0)", "https://\($0)"] })
    }

    @Sendable func handle(_ request: Request, context: ShelfRequestContext) async throws -> Response {
        let token = try context.authenticated()
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: env.configuration.maxBodyBytes)
        } catch {
            throw Problem(.payloadTooLarge, detail: "the body exceeds \(env.configuration.maxBodyBytes) bytes")
        }
        if let refusal = Self.refusal(of: body) { return Self.response(refusal) }
        if let id = request.headers[Self.sessionHeader] {
            guard let session = env.mcpSessions.session(id, token: token) else { return Self.response(Self.unknownSession) }
            return Self.response(await session.transport.handleRequest(message(request, body: body)), session: session)
        }
        if Self.isInitialize(body), request.headers[.accept]?.contains("text/event-stream") == true {
            return try await openSession(request, body: body, token: token)
        }
        let headers = message(request, body: body).headers
        let hosts = env.configuration.mcpAllowedHosts
        let transport = StatelessHTTPServerTransport(validationPipeline: StandardValidationPipeline(validators: [
            OriginValidator(allowedHosts: hosts, allowedOrigins: hosts.flatMap { ["http://\($0)", "https://\($0)"] }),
            AcceptHeaderValidator(mode: .jsonOnly),
            ContentTypeValidator(),
            ProtocolVersionValidator(),
        ]))
        let server = await MCPToolbox(desk: AgentDesk(env: env), token: token).makeServer()
        try await server.start(transport: transport)
        let message = MCP.HTTPRequest(method: "POST", headers: headers, body: Data(body.readableBytesView), path: request.uri.path)
        let answer = await withTaskGroup(of: MCP.HTTPResponse?.self) { group in
            group.addTask { await transport.handleRequest(message) }
            group.addTask {
                try? await Task.sleep(for: Self.deadline)
                return nil
            }
            let first = await group.next()!
            // Stopping the server ends the transport, which answers any request still waiting.
            await server.stop()
            var answer = first
            if answer == nil { answer = await group.next()! }
            group.cancelAll()
            return answer!
        }
        // The transport answers 500 only when the server stopped before responding (the deadline): a request it could not serve.
        if answer.statusCode >= 500 {
            return Self.response(.error(statusCode: 400, .invalidRequest("the request was not answered within \(Self.deadline)")))
        }
        return Self.response(answer)
    }

    /// An `initialize` from a client that takes event streams: a new session (its id in `Mcp-Session-Id`), answered as SSE.
    func openSession(_ request: Request, body: ByteBuffer, token: TokenInfo) async throws -> Response {
        let id = "mcp_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let transport = StatefulHTTPServerTransport(
            sessionIDGenerator: PresetSessionID(id: id),
            validationPipeline: StandardValidationPipeline(validators: [
                hostValidator, AcceptHeaderValidator(mode: .sseRequired), ContentTypeValidator(), ProtocolVersionValidator(), SessionValidator(),
            ])
        )
        let session = MCPSession(id: id, token: token, transport: transport, feed: env.snapshot.feed)
        guard await env.mcpSessions.add(session) else {
            return Self.response(.error(statusCode: 503, .internalError("too many MCP sessions (\(env.mcpSessions.capacity)); use stateless requests")))
        }
        try await session.start(await MCPToolbox(desk: AgentDesk(env: env), token: token, session: session).makeServer())
        let answer = await transport.handleRequest(message(request, body: body))
        if answer.statusCode >= 400 { await env.mcpSessions.remove(id) }
        return Self.response(answer, session: session)
    }

    static func isInitialize(_ body: ByteBuffer) -> Bool {
        struct Method: Decodable { var method: String? }
        return (try? JSONDecoder().decode(Method.self, from: Data(body.readableBytesView)))?.method == "initialize"
    }

    /// Longest time one JSON-RPC request may take.
    static let deadline = Duration.seconds(10)

    /// A 400 JSON-RPC error for bodies the SDK would misroute: not a JSON object, `jsonrpc` other than "2.0", an `id` that is
    /// neither a string nor an integer, a non-string `method`, or `params` that is not an object or array.
    static func refusal(of body: ByteBuffer) -> MCP.HTTPResponse? {
        do {
            _ = try JSONDecoder().decode(JSONRPCEnvelope.self, from: Data(body.readableBytesView))
            return nil
        } catch {
            return .error(statusCode: 400, .invalidRequest("not a JSON-RPC 2.0 message: \(JSONRPCEnvelope.reason(error))"))
        }
    }

    /// The SDK's answer as a Hummingbird response. An event stream of a session ends when the server shuts down gracefully
    /// (`session` is closed then), so an open `GET /mcp` never holds the shutdown up.
    static func response(_ answer: MCP.HTTPResponse, session: MCPSession? = nil) -> Response {
        var fields = HTTPFields()
        for (name, value) in answer.headers {
            if let field = HTTPField.Name(name) { fields[field] = value }
        }
        let status = HTTPResponse.Status(code: answer.statusCode)
        if case .stream(let stream, _) = answer {
            fields[.cacheControl] = "no-cache, no-transform"
            fields[.connection] = nil
            let body = ResponseBody { writer in
                try await withGracefulShutdownHandler {
                    for try await chunk in stream { try await writer.write(ByteBuffer(bytes: chunk)) }
                } onGracefulShutdown: {
                    if let session { Task { await session.close() } }
                }
                try await writer.finish(nil)
            }
            return Response(status: status, headers: fields, body: body)
        }
        fields[.cacheControl] = "no-store"
        guard let data = answer.bodyData else { return Response(status: status, headers: fields) }
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// The checks `MCPController` makes before handing a body to the SDK.
struct JSONRPCEnvelope: Decodable {
    enum Key: String, CodingKey { case jsonrpc, id, method, params }

    struct Invalid: Error { let reason: String }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        guard try c.decode(String.self, forKey: .jsonrpc) == "2.0" else { throw Invalid(reason: "jsonrpc must be \"2.0\"") }
        if c.contains(.id) {
            if (try? c.decode(Int64.self, forKey: .id)) == nil && (try? c.decode(String.self, forKey: .id)) == nil {
                throw Invalid(reason: "id must be a string or an integer")
            }
        }
        if c.contains(.method), (try? c.decode(String.self, forKey: .method)) == nil { throw Invalid(reason: "method must be a string") }
        if c.contains(.params) {
            let params = try c.decode(Value.self, forKey: .params)
            switch params {
            case .object, .array: break
            default: throw Invalid(reason: "params must be an object or an array")
            }
        }
    }

    static func reason(_ error: any Error) -> String {
        switch error {
        case let invalid as Invalid: invalid.reason
        case DecodingError.keyNotFound(let key, _): "\(key.stringValue) is required"
        case DecodingError.typeMismatch, DecodingError.valueNotFound: "a member has the wrong type"
        default: "the body is not a JSON object"
        }
    }
}
