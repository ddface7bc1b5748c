import Foundation

/// A hold of units for a buyer (cart or agent) that stops counting when it expires.
public struct Reservation: Codable, Hashable, Sendable {
    public var id: String
    public var sku: String
    public var location: String
    public var qty: Int
    public var expiresAt: Date
    /// Units per location when the hold is split across locations (`location` is then the first part's, `qty` the total);
    /// nil when the whole hold sits at `location`.
    public var allocation: [Allocation]?

    public init(id: String, sku: String, location: String, qty: Int, expiresAt: Date, allocation: [Allocation]? = nil) {
        self.id = id
        self.sku = sku
        self.location = location
        self.qty = qty
        self.expiresAt = expiresAt
        self.allocation = allocation
    }

    /// The locations the hold takes units from, with their units.
    public var parts: [Allocation] { allocation ?? [Allocation(location: location, qty: qty)] }

    /// True while the hold still counts.
    public func isActive(at instant: Date) -> Bool { expiresAt > instant }
}

/// Units of one order, hold or cancellation taken at (or given back to) one location.
public struct Allocation: Codable, Hashable, Sendable {
    public var location: String
    public var qty: Int

    public init(location: String, qty: Int) {
        self.location = location
        self.qty = qty
    }
}
