/// A money amount in integer minor units plus an ISO 4217 currency; negative amounts are cuts.
public struct RuleMoney: Sendable, Codable, Hashable {
    public var amount: Int
    public var currency: String

    public init(amount: Int, currency: String) {
        self.amount = amount
        self.currency = currency
    }
}
