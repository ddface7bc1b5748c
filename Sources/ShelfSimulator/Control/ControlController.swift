import Foundation
import HTTPTypes
import Hummingbird
import ShelfConnectors
import ShelfCore

/// The `/_sim` control API used by tests and benchmarks.
struct ControlController: Sendable {
    let state: SimulatorState
    let dispatcher: WebhookDispatcher

    func addRoutes(to group: RouterGroup<SimRequestContext>) {
        group.get("healthz") { _, _ in SimJSON.response(.ok, ["status": "ok"]) }
        group.put("connections/:id", use: putConnection)
        group.get("connections", use: listConnections)
        group.put("connections/:id/items/:externalId", use: putItem)
        group.get("connections/:id/items/:externalId", use: getItem)
        group.get("connections/:id/items", use: listItems)
        group.get("pushes", use: listPushes)
        group.delete("pushes") { _, _ in
            await self.state.clearPushes()
            return SimJSON.noContent()
        }
        group.post("faults", use: addFault)
        group.get("faults") { _, _ in SimJSON.response(.ok, ControlPayloads.Faults(faults: await self.state.listFaults())) }
        group.delete("faults") { request, _ in
            await self.state.clearFaults(connection: request.uri.queryParameters.get("connection"))
            return SimJSON.noContent()
        }
        group.post("connections/:id/webhooks", use: sendWebhooks)
        group.post("webhooks:batch", use: sendBatch)
        group.post("connections/:id/sell", use: sell)
        group.get("stats") { _, _ in SimJSON.response(.ok, ControlPayloads.Stats(connections: await self.state.stats())) }
        group.post("reset") { _, _ in
            await self.state.reset()
            return SimJSON.noContent()
        }
    }

    private func decode<Body: Decodable>(_ type: Body.Type, _ request: Request, _ context: SimRequestContext) async throws -> Body {
        do {
            return try await request.decode(as: type, context: context)
        } catch let error as HTTPError {
            throw error
        } catch {
            throw HTTPError(.badRequest, message: "invalid body: \(error)")
        }
    }

    private static func status(for error: SimulatorError) -> HTTPResponse.Status {
        switch error {
        case .unknownConnection, .unknownItem: return .notFound
        case .invalid, .notLoopback: return .unprocessableContent
        }
    }

    @Sendable func putConnection(_ request: Request, context: SimRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let input = try await decode(ControlPayloads.ConnectionInput.self, request, context)
        let connection = await state.upsertConnection(
            SimConnection(
                id: id,
                kind: input.kind,
                webhookURL: input.webhookURL,
                webhookSecret: input.webhookSecret,
                rateLimitPerSecond: input.rateLimitPerSecond,
                burst: input.burst,
                accountId: input.accountId,
                channelLocationId: input.channelLocationId
            )
        )
        return SimJSON.response(.ok, connection)
    }

    @Sendable func listConnections(_ request: Request, context: SimRequestContext) async throws -> Response {
        SimJSON.response(.ok, ControlPayloads.Connections(connections: await state.connections()))
    }

    @Sendable func putItem(_ request: Request, context: SimRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let externalId = URLQuery.decode(Substring(try context.parameters.require("externalId")))
        let input = try await decode(ControlPayloads.ItemInput.self, request, context)
        do {
            let item = try await state.upsertItem(
                connection: id,
                externalId: externalId,
                sku: input.sku,
                quantity: input.quantity,
                price: input.price,
                references: input.references
            )
            return SimJSON.response(.ok, item)
        } catch {
            return SimJSON.problem(Self.status(for: error), error.description)
        }
    }

    @Sendable func getItem(_ request: Request, context: SimRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let externalId = URLQuery.decode(Substring(try context.parameters.require("externalId")))
        guard let item = await state.item(id, externalId) else {
            return SimJSON.problem(.notFound, SimulatorError.unknownItem(connection: id, externalId: externalId).description)
        }
        return SimJSON.response(.ok, item)
    }

    @Sendable func listItems(_ request: Request, context: SimRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        guard await state.connection(id) != nil else { return SimJSON.problem(.notFound, SimulatorError.unknownConnection(id).description) }
        return SimJSON.response(.ok, ControlPayloads.Items(items: await state.items(id)))
    }

    @Sendable func listPushes(_ request: Request, context: SimRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let pushes = await state.pushes(
            connection: query.get("connection"),
            sku: query.get("sku"),
            after: query.get("after").flatMap { Int($0) }
        )
        return SimJSON.response(.ok, ControlPayloads.Pushes(pushes: pushes))
    }

    @Sendable func addFault(_ request: Request, context: SimRequestContext) async throws -> Response {
        let input = try await decode(ControlPayloads.FaultInput.self, request, context)
        do {
            let rule = try await state.addFault(
                connection: input.connection,
                mode: input.mode,
                status: input.status,
                retryAfterSeconds: input.retryAfterSeconds,
                count: input.count,
                durationMs: input.durationMs,
                operation: input.operation
            )
            return SimJSON.response(.created, rule)
        } catch {
            return SimJSON.problem(Self.status(for: error), error.description)
        }
    }

    @Sendable func sendWebhooks(_ request: Request, context: SimRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let input = try await decode(ControlPayloads.WebhookInput.self, request, context)
        guard let connection = await state.connection(id) else { return SimJSON.problem(.notFound, SimulatorError.unknownConnection(id).description) }
        do {
            let planned = try await dispatcher.plan(
                connection: connection,
                topic: input.topic,
                orderId: input.orderId,
                lines: input.lines,
                duplicates: input.duplicates ?? 0,
                eventId: input.eventId
            )
            if let delay = input.delayMs, delay > 0 { try await Task.sleep(for: .milliseconds(delay)) }
            return SimJSON.response(.ok, ControlPayloads.Deliveries(deliveries: await dispatcher.deliver(planned)))
        } catch let error as SimulatorError {
            return SimJSON.problem(Self.status(for: error), error.description)
        }
    }

    @Sendable func sendBatch(_ request: Request, context: SimRequestContext) async throws -> Response {
        let input = try await decode(ControlPayloads.BatchInput.self, request, context)
        var planned: [WebhookDispatcher.Planned] = []
        do {
            for webhook in input.webhooks {
                guard let connection = await state.connection(webhook.connection) else { throw SimulatorError.unknownConnection(webhook.connection) }
                planned += try await dispatcher.plan(
                    connection: connection,
                    topic: webhook.topic,
                    orderId: webhook.orderId,
                    lines: webhook.lines,
                    duplicates: webhook.duplicates ?? 0,
                    eventId: webhook.eventId
                )
            }
        } catch let error as SimulatorError {
            return SimJSON.problem(Self.status(for: error), error.description)
        }
        if input.shuffle == true {
            var generator = SplitMix64(seed: input.seed ?? state.clock.monotonicNanos())
            planned.shuffle(using: &generator)
        }
        return SimJSON.response(.ok, ControlPayloads.Deliveries(deliveries: await dispatcher.deliver(planned)))
    }

    @Sendable func sell(_ request: Request, context: SimRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let input = try await decode(ControlPayloads.SellInput.self, request, context)
        guard let connection = await state.connection(id) else { return SimJSON.problem(.notFound, SimulatorError.unknownConnection(id).description) }
        guard input.quantity > 0 else { return SimJSON.problem(.unprocessableContent, "quantity must be positive") }
        var requestedOrderId = input.orderId ?? ""
        if requestedOrderId.isEmpty { requestedOrderId = await state.nextEventId(prefix: "order") }
        let wireOrderId = connection.kind.wireOrderId(requestedOrderId)
        switch await state.sell(connection: id, externalId: input.externalId, quantity: input.quantity, wireOrderId: wireOrderId) {
        case .unknownItem:
            return SimJSON.problem(.notFound, SimulatorError.unknownItem(connection: id, externalId: input.externalId).description)
        case .refused(let available):
            return SimJSON.response(
                .conflict,
                ControlPayloads.Refusal(
                    error: "insufficient_quantity",
                    connection: id,
                    externalId: input.externalId,
                    requested: input.quantity,
                    available: available
                )
            )
        case .sold(let item, let order):
            var deliveries: [WebhookDispatcher.Report] = []
            if connection.webhookURL != nil {
                let planned = try? await dispatcher.plan(
                    connection: connection,
                    topic: .order,
                    orderId: order.orderId,
                    lines: order.lines,
                    duplicates: 0,
                    eventId: nil
                )
                deliveries = await dispatcher.deliver(planned ?? [])
            }
            return SimJSON.response(
                .ok,
                ControlPayloads.Sale(
                    sold: true,
                    connection: id,
                    externalId: item.externalId,
                    orderId: order.orderId,
                    quantity: input.quantity,
                    remaining: item.quantity,
                    deliveries: deliveries
                )
            )
        }
    }
}
