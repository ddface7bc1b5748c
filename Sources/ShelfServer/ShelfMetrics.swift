import Foundation
import Prometheus
import ShelfAutomation
import ShelfChannels
import ShelfCore
import ShelfLedger
import Synchronization

/// Shelf's Prometheus metrics: one registry per server (no global bootstrap), rendered at `GET /metrics`.
public final class ShelfMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    static let latencyBuckets: [Double] = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

    public init() {}

    func descriptor(_ name: String, _ unit: String? = nil, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "shelf", metricName: name, unitName: unit ?? "", helpText: help)
    }

    /// The request-duration histogram of each (route, method, status) seen: the registry's own lookup builds the metric's
    /// name and labels as strings on every call (about 3% of a read's CPU), this one hashes three short keys.
    private let requestHistograms = Mutex<[RequestKey: ValueHistogram]>([:])

    struct RequestKey: Hashable {
        var route: String
        var method: String
        var status: Int
    }

    /// Records one HTTP request.
    public func request(route: String, method: String, status: Int, seconds: Double) {
        let key = RequestKey(route: route, method: method, status: status)
        let histogram = requestHistograms.withLock { cache in
            if let found = cache[key] { return found }
            let made = registry.makeValueHistogram(
                descriptor: descriptor("http_request_duration", "seconds", "HTTP request duration by route"),
                labels: [("route", route), ("method", method), ("status", String(status))], buckets: Self.latencyBuckets
            )
            if cache.count < 4096 { cache[key] = made }  // methods are free text: a flood of odd ones is not kept
            return made
        }
        histogram.record(seconds)
    }

    /// Counts committed events by type and source kind.
    public func ingested(_ events: [LedgerEvent]) {
        for e in events {
            let source = e.source.split(separator: ":").first.map(String.init) ?? e.source
            registry.makeCounter(descriptor: descriptor("events_ingested", "total", "Events committed to the ledger by type and source"),
                                 labels: [("type", e.event.type.rawValue), ("source", source)]).increment()
        }
    }

    /// Records a delivered push: sync lag from the event's commit to the channel's acknowledgement.
    public func delivered(connection: String, lag: TimeInterval) {
        registry.makeValueHistogram(
            descriptor: descriptor("sync_lag", "seconds", "Time from an event's commit to the channel acknowledging the push, per connection"),
            labels: [("connection", connection)], buckets: Self.latencyBuckets
        ).record(lag)
        registry.makeCounter(descriptor: descriptor("pushes_delivered", "total", "Pushes a channel acknowledged"),
                             labels: [("connection", connection)]).increment()
    }

    /// Records a watch delivery a receiver acknowledged: the time from the change's commit to the acknowledgement.
    public func watchDelivered(lag: TimeInterval) {
        registry.makeValueHistogram(
            descriptor: descriptor("watch_delivery_lag", "seconds", "Time from a change's commit to the watch receiver acknowledging its delivery"),
            buckets: Self.latencyBuckets
        ).record(lag)
    }

    /// Samples the gauges (outbox and DLQ depth, reservations, spikes, snapshot size, variance) and renders the text format.
    public func render(env: ShelfEnvironment) async throws -> [UInt8] {
        let depths = try await env.ledger.pushQueue.depths()
        let (outbox, deliveries, dlq) = (depths.outbox, depths.retries, depths.deadLetters)
        registry.makeGauge(descriptor: descriptor("outbox_depth", nil, "SKUs waiting to be pushed")).set(Double(outbox))
        registry.makeGauge(descriptor: descriptor("retry_depth", nil, "Pushes waiting for a retry")).set(Double(deliveries))
        registry.makeGauge(descriptor: descriptor("dlq_depth", nil, "Dead-lettered pushes")).set(Double(dlq))
        registry.makeGauge(descriptor: descriptor("cluster_leader", nil, "1 when this node runs the push workers and the other singletons"))
            .set(Double(env.role.isLeader ? 1 : 0))
        for (state, count) in try await env.ruleEngine.notifications.outbox.counts() {
            registry.makeGauge(descriptor: descriptor("notifications", nil, "Rule notifications in the outbox, by state (pending, dead)"),
                               labels: [("state", state.rawValue)]).set(Double(count))
        }
        let notified = env.ruleEngine.notifications.stats
        for (outcome, count) in [("delivered", notified.delivered), ("retried", notified.retried), ("dead", notified.dead)] {
            registry.makeGauge(descriptor: descriptor("notification_attempts", nil, "Notification attempts since start, by outcome"),
                               labels: [("outcome", outcome)]).set(Double(count))
        }
        let now = env.clock.now()
        for g in env.propagator.gauges(now: now) {
            let labels = [("seller", g.seller), ("connection", g.connection)]
            registry.makeGauge(descriptor: descriptor("push_queue_depth", nil, "SKUs waiting for a push, per connection"), labels: labels)
                .set(Double(g.queueDepth))
            registry.makeGauge(descriptor: descriptor("push_in_flight", nil, "Push requests in flight, per connection"), labels: labels)
                .set(Double(g.inFlight))
            registry.makeGauge(descriptor: descriptor("push_lag", "seconds", "Age of the oldest change waiting for a push, per connection"),
                               labels: labels).set(g.lag)
        }
        for seller in env.snapshot.sellerIDs {
            guard let snapshot = env.snapshot.seller(seller) else { continue }
            // From the snapshot's incremental indexes: a scrape never scans the catalog.
            let holds = snapshot.activeHoldCount(now: now)
            let spikes = snapshot.spikingSKUs.count
            registry.makeGauge(descriptor: descriptor("snapshot_skus", nil, "SKUs in the snapshot"), labels: [("seller", seller)]).set(Double(snapshot.count))
            registry.makeGauge(descriptor: descriptor("reservations_active", nil, "Active holds"), labels: [("seller", seller)]).set(Double(holds))
            registry.makeGauge(descriptor: descriptor("spikes_active", nil, "SKUs in a demand spike"), labels: [("seller", seller)]).set(Double(spikes))
            registry.makeGauge(descriptor: descriptor("quarantined_skus", nil, "SKUs kept out of the snapshot because their stored rows could not be applied"),
                               labels: [("seller", seller)]).set(Double(snapshot.quarantined.count))
            if let report = env.reconciler.latest(seller: seller) {
                registry.makeGauge(descriptor: descriptor("reconciliation_variances", nil, "Variances found by the latest reconciliation"),
                                   labels: [("seller", seller)]).set(Double(report.variancesFound))
            }
        }
        return registry.emitToBuffer()
    }
}
