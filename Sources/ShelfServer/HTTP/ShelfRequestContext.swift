import Hummingbird
import ShelfLedger

/// Per-request context: Hummingbird's core storage plus the bearer token once authenticated.
public struct ShelfRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var token: TokenInfo?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    /// Bodies above this are refused with 413 before they are read whole.
    public var maxUploadSize: Int { 4 << 20 }
}
