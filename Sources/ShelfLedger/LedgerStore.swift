import Foundation
import ShelfCore

/// Where the ledger keeps its events, state rows, outbox and idempotency keys: the write path and event reads, with no
/// storage engine's types in sight. `SQLiteLedgerStore` is the embedded conformance; PostgreSQL is another (ShelfPostgres).
///
/// Promises every conformance keeps (the conformance suite checks each on every store):
/// - `read` answers from one consistent view of the store.
/// - `write` applies a whole `LedgerWriteSet` in one transaction or nothing of it. It fails with `LedgerStoreConflict` when
///   a seller's last sequence is no longer the one the set was decided on (another writer got there first), when a state
///   row no longer holds the old value the set expects (each row is updated in one conditional statement, never read and
///   rewritten), or when an idempotency key was taken meanwhile.
/// - Events are append-only (the store refuses UPDATE and DELETE on them) and each seller's sequences have no gaps that a
///   reader could see.
public protocol LedgerStore: Sendable {
    /// What deciding a batch needs: each seller's last sequence, the stored outcomes of the batch's idempotency keys and
    /// the recorded history of the orders it gives units back to, all read in one consistent view.
    func read(_ request: LedgerReadRequest) async throws -> LedgerReadResult
    /// Writes one batch in one transaction, conditionally (see the protocol's promises).
    func write(_ set: LedgerWriteSet) async throws
    /// The seller's events with a sequence above `after`, in sequence order, at most `limit`.
    func events(seller: String, after: Int64, limit: Int) async throws -> [LedgerEvent]
    /// Reads `request`, lets `decide` turn the answer into a write set (pure, in memory) and writes it: by default `read`
    /// then `write`. A store with a single local writer may run the three in one transaction to save a round trip.
    func commit<T: Sendable>(_ request: LedgerReadRequest, decide: @escaping @Sendable (LedgerReadResult) throws -> (LedgerWriteSet, T))
        async throws -> T
}

extension LedgerStore {
    public func commit<T: Sendable>(
        _ request: LedgerReadRequest, decide: @escaping @Sendable (LedgerReadResult) throws -> (LedgerWriteSet, T)
    ) async throws -> T {
        let (set, value) = try decide(try await read(request))
        try await write(set)
        return value
    }
}

/// One idempotency key: unique per (seller, source).
public struct IdempotencyKey: Hashable, Sendable {
    public var seller: String
    public var source: String
    public var key: String

    public init(seller: String, source: String, key: String) {
        self.seller = seller
        self.source = source
        self.key = key
    }
}

/// One order's movements on one SKU (the events a cancellation, fulfilment or return gives units back along).
public struct OrderKey: Hashable, Sendable {
    public var seller: String
    public var sku: String
    public var orderId: String

    public init(seller: String, sku: String, orderId: String) {
        self.seller = seller
        self.sku = sku
        self.orderId = orderId
    }

    /// Event types that make up an order's history on a SKU.
    public static let historyTypes: Set<EventType> = [.orderConfirmed, .orderCancelled, .orderFulfilled, .returnReceived]
}

/// What `LedgerStore.read` is asked for.
public struct LedgerReadRequest: Sendable {
    public var sellers: Set<String>
    public var keys: Set<IdempotencyKey>
    public var orders: Set<OrderKey>

    public init(sellers: Set<String> = [], keys: Set<IdempotencyKey> = [], orders: Set<OrderKey> = []) {
        self.sellers = sellers
        self.keys = keys
        self.orders = orders
    }
}

/// A command already recorded under an idempotency key: the request digest it came with and its outcome (JSON).
public struct StoredOutcome: Hashable, Sendable {
    public var requestHash: String?
    public var outcome: String

    public init(requestHash: String?, outcome: String) {
        self.requestHash = requestHash
        self.outcome = outcome
    }
}

/// What `LedgerStore.read` answers: every requested seller's last sequence (0 when it has none), the keys found, and the
/// history of every requested order (empty when it has none), in sequence order.
public struct LedgerReadResult: Sendable {
    public var lastSequence: [String: Int64]
    public var outcomes: [IdempotencyKey: StoredOutcome]
    public var orderHistory: [OrderKey: [ShelfEvent]]

    public init(lastSequence: [String: Int64] = [:], outcomes: [IdempotencyKey: StoredOutcome] = [:],
                orderHistory: [OrderKey: [ShelfEvent]] = [:]) {
        self.lastSequence = lastSequence
        self.outcomes = outcomes
        self.orderHistory = orderHistory
    }
}

/// An event ready to append: its indexed fields and its body already encoded (encoding happens before the writer).
public struct EncodedEvent: Sendable {
    public var seller: String
    public var sequence: Int64
    public var type: String
    public var sku: String?
    public var source: String
    public var externalId: String?
    public var recordedAt: Date
    /// The event as JSON (sorted keys).
    public var body: String
    /// The order the event belongs to, if any (for order histories).
    public var orderId: String?

    public init(seller: String, sequence: Int64, type: String, sku: String?, source: String, externalId: String?, recordedAt: Date,
                body: String, orderId: String?) {
        self.seller = seller
        self.sequence = sequence
        self.type = type
        self.sku = sku
        self.source = source
        self.externalId = externalId
        self.recordedAt = recordedAt
        self.body = body
        self.orderId = orderId
    }
}

/// One SKU's state rows going from `old` (nil: new SKU) to `new`; with `promise`, the stock update also checks that
/// availability stays at or above zero.
public struct SKUStateChange: Sendable {
    public var seller: String
    public var old: SKUState?
    public var new: SKUState
    public var promise: Bool

    public init(seller: String, old: SKUState?, new: SKUState, promise: Bool) {
        self.seller = seller
        self.old = old
        self.new = new
        self.promise = promise
    }
}

/// A seller's locations and channels going from `old` to `new`.
public struct CatalogChange: Sendable {
    public var seller: String
    public var old: SellerCatalog
    public var new: SellerCatalog

    public init(seller: String, old: SellerCatalog, new: SellerCatalog) {
        self.seller = seller
        self.old = old
        self.new = new
    }
}

/// A pending push: the (seller, SKU) changed up to `sequence`; one row per (seller, SKU), a later write replaces it.
public struct OutboxRow: Hashable, Sendable {
    public var seller: String
    public var sku: String
    public var sequence: Int64

    public init(seller: String, sku: String, sequence: Int64) {
        self.seller = seller
        self.sku = sku
        self.sequence = sequence
    }
}

/// The outcome recorded under an idempotency key.
public struct IdempotencyRow: Sendable {
    public var key: IdempotencyKey
    public var requestHash: String?
    public var sequence: Int64
    /// The outcome as JSON.
    public var outcome: String

    public init(key: IdempotencyKey, requestHash: String?, sequence: Int64, outcome: String) {
        self.key = key
        self.requestHash = requestHash
        self.sequence = sequence
        self.outcome = outcome
    }
}

/// A seller's sequence moving from `expected` (what the batch was decided on) to `last`.
public struct SequenceAdvance: Hashable, Sendable {
    public var seller: String
    public var expected: Int64
    public var last: Int64

    public init(seller: String, expected: Int64, last: Int64) {
        self.seller = seller
        self.expected = expected
        self.last = last
    }
}

/// Everything one batch writes, decided in memory: applied in one transaction, in this order within each list.
public struct LedgerWriteSet: Sendable {
    public var sequences: [SequenceAdvance] = []
    public var events: [EncodedEvent] = []
    public var states: [SKUStateChange] = []
    public var catalogs: [CatalogChange] = []
    public var outbox: [OutboxRow] = []
    public var idempotency: [IdempotencyRow] = []

    public init() {}

    /// True when the batch recorded nothing (every command was refused, a duplicate or a conflict).
    public var isEmpty: Bool { events.isEmpty && states.isEmpty && catalogs.isEmpty && idempotency.isEmpty }
}

/// A conditional write found the store changed under it; nothing of the write set was kept.
public enum LedgerStoreConflict: Error, Hashable, Sendable, CustomStringConvertible {
    /// The seller's last sequence is not the one the batch was decided on: another writer appended first.
    case sequence(seller: String, expected: Int64, found: Int64)
    /// A state row no longer holds the value the batch expected (or a promise would take availability below zero).
    case stateRow(String)
    /// An idempotency key was recorded by another writer meanwhile.
    case idempotencyKey(IdempotencyKey)

    public var description: String {
        switch self {
        case .sequence(let seller, let expected, let found):
            "seller \(seller) is at sequence \(found), the batch expected \(expected)"
        case .stateRow(let what): what
        case .idempotencyKey(let key): "idempotency key \(key.seller)/\(key.source)/\(key.key) was recorded meanwhile"
        }
    }
}
