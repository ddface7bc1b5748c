import Foundation
import Hummingbird
import ShelfLedger

/// Per-request context: Hummingbird's core storage plus the bearer token once authenticated.
public struct ShelfRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The bearer token, set by `RequireScope` on routes that declare a scope; nil on open routes.
    public var token: TokenInfo?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    /// Bodies above this are refused with 413 before they are read whole.
    public var maxUploadSize: Int { 4 << 20 }
}

extension ShelfRequestContext {
    /// The token `RequireScope` authenticated; a 401 problem when the route declared no scope (fails closed, never open).
    func authenticated() throws -> TokenInfo {
        guard let token else {
            throw Problem(.unauthorized, detail: "send Authorization: Bearer <token>", field: "Authorization")
        }
        return token
    }

    /// A path parameter, percent-decoded (`CAF%C3%89-1` → `CAFÉ-1`).
    func pathParameter(_ name: String) throws -> String {
        let raw = try parameters.require(name)
        guard let decoded = raw.removingPercentEncoding else {
            throw Problem(.validation, detail: "\(name) is not valid percent-encoding", field: name)
        }
        return decoded
    }
}
