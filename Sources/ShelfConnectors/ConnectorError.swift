/// Errors raised by the pure wire-format code.
public enum ConnectorError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A credential the connector needs is missing from `ConnectorSettings.credentials`.
    case missingCredential(String)
    /// An update lacks a channel id the wire format needs (`ListingUpdate.references[field]`).
    case missingReference(field: String, sku: String)
    /// The channel cannot take a quantity without a price (Etsy offerings).
    case missingPrice(sku: String)
    /// `ConnectorSettings.channelLocationId` is required by this channel.
    case missingLocation
    /// A body or header is not what the channel's format says.
    case invalidPayload(String)
    /// A poll answered with an unexpected HTTP status.
    case unexpectedStatus(Int, String)
    /// A poll was refused for rate (HTTP 429 or a throttling error body).
    case rateLimited(retryAfterSeconds: Int?)
    /// The channel has no webhook for this topic.
    case unsupportedTopic(ChannelKind, WebhookTopic)

    public var description: String {
        switch self {
        case .missingCredential(let name): return "missing credential '\(name)'"
        case .missingReference(let field, let sku): return "update for \(sku) needs references[\"\(field)\"]"
        case .missingPrice(let sku): return "update for \(sku) needs a price on this channel"
        case .missingLocation: return "connection needs channelLocationId"
        case .invalidPayload(let reason): return "invalid payload: \(reason)"
        case .unexpectedStatus(let status, let snippet): return "unexpected HTTP \(status): \(snippet)"
        case .rateLimited(let seconds): return "rate limited (retry after \(seconds.map(String.init) ?? "?") s)"
        case .unsupportedTopic(let kind, let topic): return "\(kind.rawValue) has no '\(topic.rawValue)' webhook"
        }
    }
}
