import Foundation

/// What one node tells the others sharing its database that it changed, so they bring their in-memory state up to the store.
/// Carried as a short text (`payload`) on PostgreSQL's `shelf_changes` notification channel; a lost one is made good by the
/// periodic sweep of sequences (events) and by `.everything` after the listener reconnects (the rest).
public enum ClusterChange: Hashable, Sendable {
    /// The seller's ledger moved on: its new events are read by sequence.
    case events(seller: String)
    /// The seller's channel connections were created, changed or deleted.
    case connections(seller: String)
    /// One of the seller's tokens was created or revoked.
    case tokens(seller: String)
    /// The seller's rules were created, changed, paused or deleted.
    case rules(seller: String)
    /// The seller's watches were created, deleted, paused or replayed.
    case watches(seller: String)
    /// The seller's settings (spike policy and the like) changed.
    case settings(seller: String)
    /// Anything may have changed (the listener was not listening for a while): reload every kind.
    case everything

    /// The PostgreSQL notification channel the changes travel on.
    public static let channel = "shelf_changes"

    /// The text sent: a one-letter kind, a colon, the seller id.
    public var payload: String {
        switch self {
        case .events(let seller): "e:\(seller)"
        case .connections(let seller): "c:\(seller)"
        case .tokens(let seller): "t:\(seller)"
        case .rules(let seller): "r:\(seller)"
        case .watches(let seller): "w:\(seller)"
        case .settings(let seller): "s:\(seller)"
        case .everything: "*"
        }
    }

    /// Reads a payload back; nil for one this binary does not know (a newer node's), which is ignored.
    public init?(payload: String) {
        if payload == "*" {
            self = .everything
            return
        }
        guard let colon = payload.firstIndex(of: ":"), payload.index(after: payload.startIndex) == colon else { return nil }
        let seller = String(payload[payload.index(after: colon)...])
        guard !seller.isEmpty else { return nil }
        switch payload[payload.startIndex] {
        case "e": self = .events(seller: seller)
        case "c": self = .connections(seller: seller)
        case "t": self = .tokens(seller: seller)
        case "r": self = .rules(seller: seller)
        case "w": self = .watches(seller: seller)
        case "s": self = .settings(seller: seller)
        default: return nil
        }
    }
}
