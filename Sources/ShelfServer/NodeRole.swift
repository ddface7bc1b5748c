import Foundation
import Logging
import ShelfAutomation
import ShelfLedger
import Synchronization

/// Whether this node runs the singletons: always on a SQLite file, on PostgreSQL while it holds the cluster's lock
/// (`shelf_cluster_leader` in `/metrics`).
public final class NodeRole: Sendable {
    private let leading: Atomic<Bool>

    public init(leading: Bool) {
        self.leading = Atomic(leading)
    }

    public var isLeader: Bool { leading.load(ordering: .acquiring) }

    func set(_ value: Bool) { leading.store(value, ordering: .releasing) }
}

extension ShelfEnvironment {
    /// Brings this node's caches up to a change another node sharing the database made (`ClusterChange`; events are the
    /// change tail's own business). What only the singletons keep (rules, watches) is reloaded where they run.
    func apply(_ change: ClusterChange) async {
        do {
            switch change {
            case .events:
                return
            case .connections:
                try await ledger.connectionsChanged()
                try await registerConnections()
            case .tokens(let seller):
                tokens.forget(seller: seller)
            case .rules:
                if role.isLeader { await ruleEngine.reload() }
            case .watches(let seller):
                await watchDelivery.sync(seller: seller)
            case .settings(let seller):
                spikes.policyChanged(seller: seller)
                try await ledger.sellerChanged(seller)
            case .everything:
                tokens.forget(seller: nil)
                try await ledger.connectionsChanged()
                try await registerConnections()
                if role.isLeader { await ruleEngine.reload() }
                for seller in try await ledger.sellerIDs() {
                    spikes.policyChanged(seller: seller)
                    try await ledger.sellerChanged(seller)
                    await watchDelivery.sync(seller: seller)
                }
            }
        } catch {
            Logger(label: "shelf.cluster").error("a change made on another node could not be applied here",
                                                 metadata: ["change": "\(change.payload)", "error": "\(error)"])
        }
    }
}
