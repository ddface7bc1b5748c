/// How a `notify` action is delivered; `default` is the target's configured medium (§5.10).
public enum RuleNotifyMedium: String, Sendable, Codable, Hashable {
    case `default`, email, slack, webhook
}
