import Foundation

/// A hold of units for a buyer (cart or agent) that stops counting when it expires.
public struct Reservation: Codable, Hashable, Sendable {
    public var id: String
    public var sku: String
    public var location: String
    public var qty: Int
    public var expiresAt: Date

    public init(id: String, sku: String, location: String, qty: Int, expiresAt: Date) {
        self.id = id
        self.sku = sku
        self.location = location
        self.qty = qty
        self.expiresAt = expiresAt
    }

    /// True while the hold still counts.
    public func isActive(at instant: Date) -> Bool { expiresAt > instant }
}
