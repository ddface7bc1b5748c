import Foundation
import Logging
import ShelfConnectors
import ShelfCore
import ShelfCurl
import ShelfLedger
import Synchronization

/// Takes a channel's webhook delivery: verifies the channel's own signature over the raw body with the connection's secret,
/// maps it to normalized commands (deduped by the channel's ids), and answers only after the ledger committed them.
public final class WebhookIngestor: Sendable {
    let ledger: Ledger
    let curl: CurlClient
    let pulses: ChannelPulseBoard
    let logger: Logger
    private let lastLevelAt = Mutex<[String: Date]>([:])

    public init(ledger: Ledger, curl: CurlClient, pulses: ChannelPulseBoard, logger: Logger = Logger(label: "shelf.webhooks")) {
        self.ledger = ledger
        self.curl = curl
        self.pulses = pulses
        self.logger = logger
    }

    /// What became of a delivery.
    public enum Outcome: Sendable, Equatable {
        /// Recorded: commands accepted now, duplicates of earlier deliveries, lines ignored (unknown items, stale levels), and
        /// lines rejected (outside `Limits` or refused by the ledger; each kept in the audit trail as `input.rejected`).
        case accepted(accepted: Int, duplicates: Int, ignored: Int, rejected: Int)
        /// No connection with this id, or the signature does not verify with its secret. Nothing recorded.
        case unauthorized
        /// The payload could not be read.
        case invalid(String)
        /// The ledger could not record it; the channel should retry.
        case unavailable(String)
    }

    /// Handles one delivery. `headers` have lower-cased names; `path` is the request target as received.
    public func ingest(connectionId: String, method: String, path: String, headers: [String: String], body: [UInt8]) async -> Outcome {
        var signed = headers
        signed[":method"] = method
        signed[":path"] = path
        let candidates = (try? await ledger.connections(id: connectionId)) ?? []
        guard let (seller, connection) = candidates.first(where: { seller, c in
            guard let link = ChannelLink(seller: seller, connection: c) else { return false }
            return link.connector.verifyWebhook(headers: signed, body: body, secret: c.webhookSecret)
        }), let link = ChannelLink(seller: seller, connection: connection) else { return .unauthorized }
        let now = ledger.clock.now()
        pulses.heard(seller: seller, connection: connection.id, source: "webhook", at: now)
        let events: [ChannelWebhookEvent]
        do {
            events = try link.connector.parseWebhook(headers: signed, body: body)
        } catch {
            return .invalid("\(error)")
        }
        let source = "webhook:\(connection.id)"
        var commands: [Command] = []
        var ignored = 0
        var heal: [String] = []
        for event in events {
            var lines = event.lines
            var orderId = event.orderId
            var cancelled = event.kind == .orderCancelled
            if event.needsOrderDetail, let id = event.orderId, let request = link.connector.orderDetailRequest(orderId: id, settings: link.settings) {
                do {
                    let response = try await curl.execute(request.curlRequest(timeout: .seconds(5)))
                    let order = try link.connector.parseOrderDetail(status: response.status, headers: response.lowercasedHeaders, body: response.body)
                    lines = order.lines
                    orderId = order.orderId
                    cancelled = cancelled || order.cancelled
                } catch {
                    return .unavailable("could not read order \(id) from \(connection.id): \(error)")
                }
            }
            switch event.kind {
            case .orderPlaced, .orderCancelled:
                let type: EventType = cancelled ? .orderCancelled : .orderPlacedType
                for (i, line) in lines.enumerated() {
                    guard let sku = resolve(line, seller: seller, channel: connection.channel) else {
                        ignored += 1
                        continue
                    }
                    // One order can arrive as several events (status changes): dedupe on the order, not only the delivery.
                    let key = orderId.map { "\(type.rawValue):\($0):\(i)" } ?? "\(event.eventId):\(i)"
                    guard Limits.quantity.contains(line.quantity) else {
                        // Never applied, never silently dropped: the line is kept in the audit trail with the reason.
                        commands.append(Command(seller: seller, source: source, key: key, draft: Self.rejection(
                            sku: sku, channel: connection.channel, orderId: orderId, at: event.occurredAt ?? now,
                            reason: "\(type.rawValue) line \(i) quantity \(line.quantity) is outside \(Limits.quantity.lowerBound)…\(Limits.maxQuantity)")))
                        continue
                    }
                    commands.append(Command(seller: seller, source: source, key: key, draft: ShelfEvent(
                        type: type, sku: sku, channel: connection.channel, qty: line.quantity, orderId: orderId, occurredAt: event.occurredAt ?? now)))
                }
            case .inventoryLevel:
                for line in lines {
                    guard let sku = resolve(line, seller: seller, channel: connection.channel),
                          let state = ledger.snapshot.seller(seller)?.sku(sku), let expected = link.update(for: state, now: now)
                    else {
                        ignored += 1
                        continue
                    }
                    let stamp = "\(seller)\u{0}\(connection.id)\u{0}\(sku)"
                    if let at = event.occurredAt {
                        let stale = lastLevelAt.withLock { map -> Bool in
                            if let last = map[stamp], last >= at { return true }
                            map[stamp] = at
                            return false
                        }
                        if stale {
                            ignored += 1
                            continue
                        }
                    }
                    // A channel count that differs from what Shelf publishes is drift: heal it with a push.
                    if line.quantity != expected.publishedQuantity { heal.append(sku) }
                }
            }
        }
        var accepted = 0
        var duplicates = 0
        var rejected = 0
        var refusals: [Command] = []
        for (command, result) in zip(commands, await ledger.submit(commands)) {
            switch result {
            case .success(let outcome):
                if command.draft.type == .inputRejected { rejected += 1 } else if outcome.status == .accepted { accepted += 1 } else { duplicates += 1 }
            case .failure(.refused(let refusal)):
                rejected += 1
                refusals.append(Command(seller: seller, source: source, key: command.key.map { "rejected:\($0)" }, draft: Self.rejection(
                    sku: command.draft.sku, channel: command.draft.channel, orderId: command.draft.orderId, at: now,
                    reason: "\(command.draft.type.rawValue) of \(command.draft.qty ?? 0) refused: \(refusal)")))
            case .failure(let error): return .unavailable("\(error)")
            }
        }
        if !refusals.isEmpty {
            for result in await ledger.submit(refusals) {
                if case .failure(let error) = result, case .storage = error { return .unavailable("\(error)") }
            }
        }
        if !heal.isEmpty {
            do {
                try await ledger.requestPush(seller: seller, skus: heal)
            } catch {
                return .unavailable("\(error)")
            }
        }
        return .accepted(accepted: accepted, duplicates: duplicates, ignored: ignored, rejected: rejected)
    }

    /// An `input.rejected` fact for a line Shelf cannot apply, with the reason in its note.
    static func rejection(sku: String?, channel: String?, orderId: String?, at: Date, reason: String) -> ShelfEvent {
        ShelfEvent(type: .inputRejected, sku: sku, channel: channel, orderId: orderId, note: reason, occurredAt: at)
    }

    func resolve(_ line: ChannelWebhookEvent.Line, seller: String, channel: String) -> String? {
        ledger.snapshot.seller(seller)?.resolve(sku: line.sku, externalId: line.externalId, channel: channel)
    }
}

extension EventType {
    static var orderPlacedType: EventType { .orderConfirmed }
}
