import Foundation

/// An order read back from a channel's order API (for channels whose webhooks carry only a reference).
public struct ChannelOrder: Sendable, Equatable {
    public var orderId: String
    public var cancelled: Bool
    public var lines: [ChannelWebhookEvent.Line]
    public var occurredAt: Date?

    public init(orderId: String, cancelled: Bool, lines: [ChannelWebhookEvent.Line], occurredAt: Date? = nil) {
        self.orderId = orderId
        self.cancelled = cancelled
        self.lines = lines
        self.occurredAt = occurredAt
    }
}
