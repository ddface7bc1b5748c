import Foundation
import ShelfConnectors
import ShelfCore

/// Builds channel-format webhooks, records what they imply in the simulated channel, signs and sends them.
struct WebhookDispatcher: Sendable {
    /// One delivery to make (duplicates share `draft.eventId` and `body`).
    struct Planned: Sendable {
        var connection: SimConnection
        var draft: WebhookDraft
        var body: [UInt8]
        var copy: Int
    }

    /// What happened to one delivery.
    struct Report: Sendable, Codable, Equatable {
        var connection: String
        var eventId: String
        var topic: WebhookTopic
        var orderId: String?
        /// 1 for the original, 2… for duplicate deliveries of the same event.
        var copy: Int
        var status: Int?
        var error: String?
        var durationMs: Double
    }

    let state: SimulatorState
    let transport: any WebhookTransport

    /// Renders the webhooks for one request and records their effect (orders, inventory levels).
    func plan(
        connection: SimConnection,
        topic: WebhookTopic,
        orderId: String?,
        lines: [ChannelWebhookEvent.Line],
        duplicates: Int,
        eventId: String?
    ) async throws(SimulatorError) -> [Planned] {
        guard connection.webhookURL != nil else { throw .invalid("connection '\(connection.id)' has no webhookURL") }
        guard duplicates >= 0, duplicates <= 100 else { throw .invalid("duplicates must be 0…100") }
        let connector = Connectors.connector(for: connection.kind)
        var baseId = eventId ?? ""
        if baseId.isEmpty { baseId = await state.nextEventId(prefix: connection.kind.rawValue) }
        let now = state.clock.now()
        // Inventory webhooks describe one item each: split multi-line requests.
        let groups: [[ChannelWebhookEvent.Line]] = topic == .inventory && lines.count > 1 ? lines.map { [$0] } : [lines]
        var planned: [Planned] = []
        for (index, group) in groups.enumerated() {
            var draft = WebhookDraft(
                topic: topic,
                eventId: groups.count > 1 ? "\(baseId)-\(index + 1)" : baseId,
                orderId: nil,
                lines: group,
                occurredAt: now,
                accountId: connection.accountId ?? connection.id,
                channelLocationId: connection.channelLocationId
            )
            if topic != .inventory {
                var requested = orderId ?? ""
                if requested.isEmpty { requested = await state.nextEventId(prefix: "order") }
                draft.orderId = connection.kind.wireOrderId(requested)
            }
            let body: [UInt8]
            do {
                body = try connector.webhookBody(draft)
            } catch let error as ConnectorError {
                throw .invalid(error.description)
            } catch {
                throw .invalid(String(describing: error))
            }
            await record(draft, connection: connection)
            for copy in 1...(duplicates + 1) {
                planned.append(Planned(connection: connection, draft: draft, body: body, copy: copy))
            }
        }
        return planned
    }

    private func record(_ draft: WebhookDraft, connection: SimConnection) async {
        switch draft.topic {
        case .order, .cancel:
            guard let orderId = draft.orderId else { return }
            let existing = await state.order(connection.id, orderId)
            await state.recordOrder(
                connection: connection.id,
                order: SimOrder(
                    orderId: orderId,
                    lines: draft.lines.isEmpty ? existing?.lines ?? [] : draft.lines,
                    cancelled: draft.topic == .cancel,
                    createdAt: existing?.createdAt ?? Timestamp.format(draft.occurredAt),
                    createdAtEpochSeconds: existing?.createdAtEpochSeconds ?? Timestamp.epochSeconds(draft.occurredAt)
                )
            )
        case .inventory:
            for line in draft.lines {
                guard let externalId = line.externalId ?? line.sku else { continue }
                await state.setQuantity(connection: connection.id, externalId: externalId, quantity: line.quantity)
            }
        }
    }

    /// Signs and sends the deliveries in order, one after another.
    func deliver(_ deliveries: [Planned]) async -> [Report] {
        var reports: [Report] = []
        for delivery in deliveries {
            reports.append(await send(delivery))
        }
        return reports
    }

    private func send(_ delivery: Planned) async -> Report {
        let connection = delivery.connection
        let url = connection.webhookURL ?? ""
        let target =
            URLComponents(string: url).map { components in
                (components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath)
                    + (components.percentEncodedQuery.map { "?" + $0 } ?? "")
            } ?? "/"
        var headers = Connectors.connector(for: connection.kind).signWebhook(
            body: delivery.body,
            secret: connection.webhookSecret,
            eventId: delivery.draft.eventId,
            topic: delivery.draft.topic,
            now: state.clock.now(),
            requestTarget: target
        )
        headers["User-Agent"] = "shelf-sim/1.0"
        if connection.kind == .shopify, let domain = connection.accountId, domain.hasSuffix(".myshopify.com") {
            headers["X-Shopify-Shop-Domain"] = domain
        }
        let attempt = await transport.post(url: url, headers: headers, body: delivery.body)
        await state.count(connection.id) { stats in
            if let status = attempt.status, (200..<300).contains(status) {
                stats.webhooksSent += 1
            } else {
                stats.webhooksFailed += 1
            }
        }
        return Report(
            connection: connection.id,
            eventId: delivery.draft.eventId,
            topic: delivery.draft.topic,
            orderId: delivery.draft.orderId,
            copy: delivery.copy,
            status: attempt.status,
            error: attempt.error,
            durationMs: attempt.durationMs
        )
    }
}
