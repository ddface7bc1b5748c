import Foundation
import Hummingbird
import ShelfLedger

/// Authenticates the bearer token of a route and checks its scope before the handler runs (so before the body is read), then
/// puts the token into `context.token`. Missing, unknown, expired or revoked → 401 problem (field `Authorization`;
/// `ProblemMiddleware` adds `WWW-Authenticate: Bearer realm="shelf"`); a token without `scope` → 403 problem naming it.
///
/// Routes declare their scope by being added through `router.requiring(scope, tokens)`:
/// ```
/// let read = router.requiring(.read, env.tokens)
/// read.get("/v1/offers/:sku", use: offer)
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
        context.token = try Self.authenticate(request, tokens: tokens, scope: scope)
        return try await next(request, context)
    }

    /// The bearer token of `request`, checked against `tokens` and `scope`; 401 or 403 problem otherwise.
    static func authenticate(_ request: Request, tokens: TokenStore, scope: Scope) throws -> TokenInfo {
        guard let header = request.headers[.authorization] else {
            throw Problem(.unauthorized, detail: "send Authorization: Bearer <token>", field: "Authorization")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer", let info = tokens.authenticate(String(parts[1]).trimmingCharacters(in: .whitespaces))
        else {
            throw Problem(.unauthorized, detail: "the bearer token is unknown, expired or revoked", field: "Authorization")
        }
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
