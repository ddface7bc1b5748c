import Foundation
import Hummingbird
import ShelfLedger

/// Authenticates the bearer token of a route and checks its scope before the handler runs (so before the body is read), then
/// puts the token into `context.token`. Missing, unknown, expired or revoked → 401 problem (field `Authorization`;
/// `ProblemMiddleware` adds `WWW-Authenticate: Bearer realm="shelf"`); a token without `scope` → 403 problem naming it.
///
/// Routes declare their scope by being added through `requiring(scope, tokens)` on their resource's route collection:
/// ```
/// let read = routes.requiring(.read, env.tokens)
/// read.get("offers/:sku", use: offer)
/// ```
struct RequireScope: RouterMiddleware {
    typealias Context = ShelfRequestContext
    let scope: Scope
    let tokens: TokenStore

    init(_ scope: Scope, tokens: TokenStore) {
        self.scope = scope
        self.tokens = tokens
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let secret = try Self.bearer(request)
        let info: TokenInfo?
        switch tokens.authenticateFromMemory(secret) {
        case .valid(let known): info = known
        case .refused: info = nil
        case .unknown:
            // Only the database can tell: an async read on the store's own threads, never a blocking call here.
            info = await tokens.authenticate(secret)
        }
        context.token = try Self.check(info, scope: scope)
        return try await next(request, context)
    }

    /// The secret of the `Authorization: Bearer` header; 401 problem when there is none.
    static func bearer(_ request: Request) throws -> String {
        guard let header = request.headers[.authorization] else {
            throw Problem(.unauthorized, detail: "send Authorization: Bearer <token>", field: "Authorization")
        }
        // "Bearer" (any case), spaces, the secret, optional trailing spaces or tabs; read as bytes, no Foundation.
        var utf8 = Substring(header).utf8
        guard utf8.count > 7, utf8.prefix(6).elementsEqual("bearer".utf8, by: { $0 | 0x20 == $1 }), utf8.dropFirst(6).first == 0x20 else {
            throw unknownToken
        }
        utf8 = utf8.dropFirst(7)
        while let first = utf8.first, first == 0x20 || first == 0x09 { utf8.removeFirst() }
        while let last = utf8.last, last == 0x20 || last == 0x09 { utf8.removeLast() }
        return String(Substring(utf8))
    }

    static var unknownToken: Problem {
        Problem(.unauthorized, detail: "the bearer token is unknown, expired or revoked", field: "Authorization")
    }

    /// The token record if it carries `scope`: 401 problem when there is none, 403 when the scope is missing.
    static func check(_ info: TokenInfo?, scope: Scope) throws -> TokenInfo {
        guard let info else { throw unknownToken }
        guard info.allows(scope) else {
            throw Problem(.forbidden, detail: "this endpoint needs the \(scope.rawValue) scope", field: "Authorization")
        }
        return info
    }
}

extension RouterMethods where Context == ShelfRequestContext {
    /// A group of routes (no path prefix) that need a bearer token carrying `scope`; their handlers read `context.token`.
    func requiring(_ scope: Scope, _ tokens: TokenStore) -> RouterGroup<ShelfRequestContext> {
        group().add(middleware: RequireScope(scope, tokens: tokens))
    }
}
