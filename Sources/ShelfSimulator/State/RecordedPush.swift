import ShelfConnectors
import ShelfCore

/// One item update the simulator received on a channel push endpoint.
public struct RecordedPush: Sendable, Codable, Equatable {
    public var seq: Int
    public var connection: String
    public var kind: ChannelKind
    public var externalId: String
    public var sku: String
    /// The quantity set by this push (nil when the push only set a price).
    public var quantity: Int?
    /// The price set by this push (nil when it only set a quantity).
    public var price: Money?
    /// Wall clock, RFC 3339 with milliseconds.
    public var receivedAt: String
    /// Monotonic nanoseconds (CLOCK_MONOTONIC), comparable with other processes on this host.
    public var receivedAtNanos: UInt64

    private enum CodingKeys: String, CodingKey {
        case seq, connection, kind, externalId, sku, quantity, price, receivedAt, receivedAtNanos
    }

    /// Writes `quantity` and `price` as explicit nulls so every record has the same shape.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(seq, forKey: .seq)
        try container.encode(connection, forKey: .connection)
        try container.encode(kind, forKey: .kind)
        try container.encode(externalId, forKey: .externalId)
        try container.encode(sku, forKey: .sku)
        try container.encode(quantity, forKey: .quantity)
        try container.encode(price, forKey: .price)
        try container.encode(receivedAt, forKey: .receivedAt)
        try container.encode(receivedAtNanos, forKey: .receivedAtNanos)
    }
}
