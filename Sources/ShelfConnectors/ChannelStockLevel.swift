import Foundation
import ShelfCore

/// One item level read back from a channel by polling.
public struct ChannelStockLevel: Sendable, Equatable {
    public var sku: String?
    public var externalId: String
    public var quantity: Int
    public var price: Money?
    public var updatedAt: Date?

    public init(sku: String?, externalId: String, quantity: Int, price: Money? = nil, updatedAt: Date? = nil) {
        self.sku = sku
        self.externalId = externalId
        self.quantity = quantity
        self.price = price
        self.updatedAt = updatedAt
    }
}
