import Foundation
import Logging
import ServiceLifecycle
import ShelfConnectors
import ShelfCore
import ShelfCurl
import ShelfLedger
import Synchronization

/// One channel count that differs from what Shelf publishes.
public struct Variance: Codable, Hashable, Sendable {
    public var sku: String
    public var connection: String
    public var channel: String
    public var expected: Int
    public var reported: Int
}

/// The outcome of one reconciliation pass over a seller's connections.
public struct ReconciliationReport: Codable, Hashable, Sendable {
    public var startedAt: Date
    public var finishedAt: Date
    public var connections: [String]
    public var pages: Int
    public var skusChecked: Int
    public var variancesFound: Int
    public var healed: Int
    public var variances: [Variance]
    /// Connections that could not be read (rate limited, down), with the reason.
    public var errors: [String: String]
}

/// Polls each connection (paging with cursors and ETags, within the channel's rate budget), compares every count with what
/// Shelf should show there, records `inventory.variance_detected` for drift and heals it with a push. Runs per connection at
/// its poll interval (halved while one of its SKUs is in a demand spike), and on demand.
public final class Reconciler: Service, Sendable {
    let ledger: Ledger
    let curl: CurlClient
    let pulses: ChannelPulseBoard
    let logger: Logger
    private let etags = Mutex<[String: String]>([:])
    private let nextPoll = Mutex<[String: Date]>([:])
    private let reports = Mutex<[String: ReconciliationReport]>([:])
    /// Most pages one pass reads from one connection.
    public let maxPages = 200

    public init(ledger: Ledger, curl: CurlClient, pulses: ChannelPulseBoard, logger: Logger = Logger(label: "shelf.reconciler")) {
        self.ledger = ledger
        self.curl = curl
        self.pulses = pulses
        self.logger = logger
    }

    /// The latest report of a seller.
    public func latest(seller: String) -> ReconciliationReport? { reports.withLock { $0[seller] } }

    public func run() async throws {
        // Nothing to do until start-up has built the snapshot; a shutdown during start-up ends the service at once.
        guard await ledger.snapshot.readyOrShutdown() else { return }
        try await cancelWhenGracefulShutdown { try await self.loop() }
    }

    func loop() async throws {
        while !Task.isCancelled {
            let now = ledger.clock.now()
            for seller in (try? await ledger.sellerIDs()) ?? [] {
                let due = ((try? await ledger.connections(seller: seller)) ?? []).filter { c in nextPoll.withLock { ($0["\(seller)\u{0}\(c.id)"] ?? .distantPast) <= now } }
                guard !due.isEmpty else { continue }
                _ = await reconcile(seller: seller, connections: due)
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// Reads every given connection now (all of the seller's when nil) and heals what drifted.
    public func reconcile(seller: String, connections only: [ConnectionFixture]? = nil) async -> ReconciliationReport {
        let started = ledger.clock.now()
        var connections = only ?? []
        if only == nil { connections = (try? await ledger.connections(seller: seller)) ?? [] }
        var report = ReconciliationReport(startedAt: started, finishedAt: started, connections: connections.map(\.id), pages: 0, skusChecked: 0,
                                          variancesFound: 0, healed: 0, variances: [], errors: [:])
        let spiking = ledger.snapshot.seller(seller)?.hasSpike ?? false
        for connection in connections {
            guard let link = ChannelLink(seller: seller, connection: connection) else { continue }
            let interval = TimeInterval(max(5, connection.pollIntervalSeconds)) / (spiking ? 2 : 1)
            var next = started.addingTimeInterval(interval)
            var cursor: String?
            var pages = 0
            var waits = 0
            while pages < maxPages {
                let tagKey = "\(seller)\u{0}\(connection.id)\u{0}\(cursor ?? "")"
                let request = link.connector.pollRequest(settings: link.settings, cursor: cursor, etag: etags.withLock { $0[tagKey] })
                do {
                    let response = try await curl.execute(request.curlRequest(timeout: .seconds(10)))
                    let page = try link.connector.parsePollResponse(status: response.status, headers: response.lowercasedHeaders,
                                                                    body: response.body, request: request)
                    pages += 1
                    if let etag = page.etag { etags.withLock { $0[tagKey] = etag } }
                    pulses.heard(seller: seller, connection: connection.id, source: "poll", at: ledger.clock.now())
                    for level in page.levels {
                        guard let sku = ledger.snapshot.seller(seller)?.resolve(sku: level.sku, externalId: level.externalId, channel: connection.channel),
                              let state = ledger.snapshot.seller(seller)?.sku(sku), let expected = link.update(for: state, now: ledger.clock.now())
                        else { continue }
                        report.skusChecked += 1
                        if level.quantity != expected.publishedQuantity {
                            report.variances.append(Variance(sku: sku, connection: connection.id, channel: connection.channel,
                                                             expected: expected.publishedQuantity, reported: level.quantity))
                        }
                    }
                    cursor = page.nextCursor
                    if cursor == nil { break }
                } catch ConnectorError.rateLimited(let seconds) {
                    // Within the channel's budget: wait as told (bounded) and read the same page again.
                    waits += 1
                    if waits > 20 {
                        report.errors[connection.id] = "rate limited"
                        next = ledger.clock.now().addingTimeInterval(TimeInterval(seconds ?? 1))
                        break
                    }
                    try? await Task.sleep(for: .milliseconds(min(5_000, max(100, (seconds ?? 1) * 1000))))
                    continue
                } catch {
                    report.errors[connection.id] = "\(error)"
                    break
                }
            }
            report.pages += pages
            nextPoll.withLock { $0["\(seller)\u{0}\(connection.id)"] = next }
        }
        report.variancesFound = report.variances.count
        if !report.variances.isEmpty {
            let now = ledger.clock.now()
            let commands = report.variances.map { v in
                // A count outside Limits (negative, or beyond 10⁹) is still drift to heal, but it is kept as rejected input.
                Command(seller: seller, source: "poll:\(v.connection)", draft: Limits.count.contains(v.reported)
                    ? ShelfEvent(type: .inventoryVarianceDetected, sku: v.sku, channel: v.channel, qty: v.reported, occurredAt: now)
                    : ShelfEvent(type: .inputRejected, sku: v.sku, channel: v.channel,
                                 note: "polled count \(v.reported) is outside 0…\(Limits.maxQuantity) (expected \(v.expected))", occurredAt: now))
            }
            _ = await ledger.submit(commands)
            do {
                try await ledger.requestPush(seller: seller, skus: Array(Set(report.variances.map(\.sku))))
                report.healed = report.variances.count
            } catch {
                logger.error("could not queue healing pushes", metadata: ["error": "\(error)"])
            }
        }
        report.finishedAt = ledger.clock.now()
        let final = report
        reports.withLock { $0[seller] = final }
        return final
    }
}
