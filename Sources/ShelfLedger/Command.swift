import Foundation
import ShelfCore

/// A request to change a seller's state, as it reaches the ledger: a draft event plus where it came from and its idempotency key.
public struct Command: Sendable {
    public var seller: String
    /// `direct`, `webhook:<connection>`, `poll:<connection>`, `reservation`, `rule:<id>`, `system`, `import`.
    public var source: String
    /// Unique per (seller, source): a second command with the same key changes nothing and gets the first outcome.
    public var key: String?
    /// A digest of the request body; the same key with a different digest is a conflict.
    public var requestHash: String?
    public var draft: ShelfEvent
    /// False when the channels already show this state (loading fixtures the simulated channels were seeded from):
    /// no outbox row is written.
    public var propagate: Bool

    public init(seller: String, source: String, key: String? = nil, requestHash: String? = nil, draft: ShelfEvent, propagate: Bool = true) {
        self.seller = seller
        self.source = source
        self.key = key
        self.requestHash = requestHash
        self.draft = draft
        self.propagate = propagate
    }
}

/// Whether a command was recorded now or had been recorded before under the same key.
public enum CommandStatus: String, Codable, Sendable {
    case accepted
    case duplicate
}

/// What the caller of a command is told once it is durable.
public struct CommandOutcome: Codable, Hashable, Sendable {
    public var status: CommandStatus
    /// Sequence of the (first) event recorded for the command.
    public var sequence: Int64
    /// Units sold beyond availability by this command (channel facts only).
    public var oversold: Int
    /// The SKU's available units right after the command.
    public var available: Int?
    /// The hold, for reservation commands.
    public var reservation: Reservation?

    public init(status: CommandStatus, sequence: Int64, oversold: Int = 0, available: Int? = nil, reservation: Reservation? = nil) {
        self.status = status
        self.sequence = sequence
        self.oversold = oversold
        self.available = available
        self.reservation = reservation
    }
}

/// Why the ledger did not accept a command. Nothing was recorded.
public enum LedgerError: Error, Hashable, Sendable {
    case refused(InventoryRefusal)
    /// The idempotency key was used before for a different request.
    case idempotencyConflict(key: String)
    case unknownSeller(String)
    case storage(String)
    /// Other nodes kept writing to the seller while the command was decided again and again: nothing was recorded; retry.
    case busy(String)
}
