import ShelfConnectors
import ShelfCore

/// Request and response bodies of the `/_sim` control API.
enum ControlPayloads {
    struct ConnectionInput: Decodable, Sendable {
        var kind: ChannelKind
        var webhookURL: String?
        var webhookSecret: String
        var rateLimitPerSecond: Double?
        var burst: Double?
        var accountId: String?
        var channelLocationId: String?
    }

    struct ItemInput: Decodable, Sendable {
        var sku: String
        var quantity: Int
        var price: Money?
        var references: [String: String]?
    }

    struct FaultInput: Decodable, Sendable {
        var connection: String
        var mode: FaultRule.Mode
        var status: Int?
        var retryAfterSeconds: Int?
        var count: Int?
        var durationMs: Int?
        var operation: String?
    }

    struct WebhookInput: Decodable, Sendable {
        var topic: WebhookTopic
        var orderId: String?
        var lines: [ChannelWebhookEvent.Line]
        var duplicates: Int?
        var delayMs: Int?
        var eventId: String?
    }

    struct BatchWebhookInput: Decodable, Sendable {
        var connection: String
        var topic: WebhookTopic
        var orderId: String?
        var lines: [ChannelWebhookEvent.Line]
        var duplicates: Int?
        var eventId: String?
    }

    struct BatchInput: Decodable, Sendable {
        var shuffle: Bool?
        var seed: UInt64?
        var webhooks: [BatchWebhookInput]
    }

    struct SellInput: Decodable, Sendable {
        var externalId: String
        var quantity: Int
        var orderId: String?
    }

    struct Connections: Encodable { var connections: [SimConnection] }
    struct Items: Encodable { var items: [SimItem] }
    struct Pushes: Encodable { var pushes: [RecordedPush] }
    struct Faults: Encodable { var faults: [FaultRule] }
    struct Stats: Encodable { var connections: [String: ConnectionStats] }
    struct Deliveries: Encodable { var deliveries: [WebhookDispatcher.Report] }

    struct Sale: Encodable {
        var sold: Bool
        var connection: String
        var externalId: String
        var orderId: String
        var quantity: Int
        var remaining: Int
        var deliveries: [WebhookDispatcher.Report]
    }

    struct Refusal: Encodable {
        var error: String
        var connection: String
        var externalId: String
        var requested: Int
        var available: Int
    }

    struct Problem: Encodable {
        var error: String
    }
}
