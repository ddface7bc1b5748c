/// What a connector needs to know about one connection.
public struct ConnectorSettings: Sendable {
    /// The channel API's base URL without a trailing slash (the simulator's is `http://HOST:PORT/c/{connectionId}`).
    public var baseURL: String
    /// Channel credentials by name; each connector documents the names it reads (e.g. `accessToken`).
    public var credentials: [String: String]
    /// The secret that signs this connection's webhooks.
    public var webhookSecret: String
    /// The channel's own id of the location/warehouse Shelf publishes to, where the channel has one.
    public var channelLocationId: String?

    public init(baseURL: String, credentials: [String: String] = [:], webhookSecret: String = "", channelLocationId: String? = nil) {
        var trimmed = baseURL
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.baseURL = trimmed
        self.credentials = credentials
        self.webhookSecret = webhookSecret
        self.channelLocationId = channelLocationId
    }

    /// The credential `name`, or `fallback` when it is absent or empty.
    public func credential(_ name: String, default fallback: String = "") -> String {
        guard let value = credentials[name], !value.isEmpty else { return fallback }
        return value
    }
}
