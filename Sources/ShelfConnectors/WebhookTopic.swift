/// The kinds of webhook the simulator can send and the connectors can sign.
public enum WebhookTopic: String, Sendable, Codable, CaseIterable {
    case order, cancel, inventory
}
