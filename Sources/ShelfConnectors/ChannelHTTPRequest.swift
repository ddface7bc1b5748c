import ShelfCore
/// One outbound request a connector wants sent (the lead sends it with libcurl).
public struct ChannelHTTPRequest: Sendable, Equatable {
    /// Upper-case HTTP method.
    public var method: String
    /// Absolute URL including the query string.
    public var url: String
    /// Header names as the channel documents them.
    public var headers: [String: String]
    /// Raw body bytes (empty for GET).
    public var body: [UInt8]
    /// The updates this request carries, so the caller can attribute the outcome (empty for polls).
    public var skus: [String]

    public init(method: String, url: String, headers: [String: String] = [:], body: [UInt8] = [], skus: [String] = []) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.skus = skus
    }

    /// The body parsed as JSON (tests and the simulator use this).
    public func jsonBody() throws(ConnectorError) -> JSONValue {
        try JSONValue.parse(body)
    }
}
