/// One action of a rule (§4.4); only the keys its `type` allows are set, the rest are omitted.
public struct RuleAction: Sendable, Codable, Hashable {
    public var type: RuleActionType
    public var via: RuleNotifyMedium?
    public var to: String?
    public var message: String?
    public var channels: [String]?
    public var excludeChannels: [String]?
    public var scope: RuleScope?
    public var units: Int?
    public var locations: [String]?
    public var factor: RuleNumber?
    public var price: RuleMoney?
    public var percent: RuleNumber?
    public var delta: RuleMoney?
    public var supplier: String?
    public var location: String?
    public var tag: String?

    public init(type: RuleActionType) {
        self.type = type
    }

    enum CodingKeys: String, CodingKey {
        case type, via, to, message, channels
        case excludeChannels = "exclude_channels"
        case scope, units, locations, factor, price, percent, delta, supplier, location, tag
    }
}
