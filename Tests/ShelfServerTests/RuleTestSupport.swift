import Foundation
import HTTPTypes
import HummingbirdTesting
import ShelfAutomation
import ShelfCore
import ShelfLedger
import ShelfServer
import Testing

/// Helpers for rule tests: create rules over HTTP, feed the engine what its service loop would, read a rule's audit trail.
extension TestServer {
    /// Creates a rule from a sentence (`POST /v1/rules`) and returns its id.
    func createRule(_ client: any TestClientProtocol, _ text: String) async throws -> String {
        let json = String(decoding: try JSONSerialization.data(withJSONObject: ["text": text]), as: UTF8.self)
        let response = try await client.send(.post, "/v1/rules", token: admin, json: json)
        #expect(response.status == .created, "\(text): \(response.text)")
        return try #require(try response.object()["id"] as? String)
    }

    /// Creates a SKU over HTTP with stock at Reno and the given listings and tags.
    func createSKU(_ client: any TestClientProtocol, _ sku: String, onHand: Int, price: Int = 2000, channels: [String] = ["amazon", "ebay"],
                   tags: [String] = []) async throws {
        let listings = channels.map { #"{"channel":"\#($0)"}"# }.joined(separator: ",")
        let tagList = tags.map { "\"\($0)\"" }.joined(separator: ",")
        let body = #"{"productId":"P-\#(sku)","title":"\#(sku)","price":{"amount":\#(price),"currency":"USD"},"tags":[\#(tagList)],"#
            + #""levels":[{"location":"reno","onHand":\#(onHand)}],"listings":[\#(listings)]}"#
        let response = try await client.send(.put, "/v1/skus/\(sku)", token: admin, json: body)
        #expect(response.status == .ok, "\(response.text)")
    }

    /// Posts a normalized event (`POST /v1/events`) with a fresh idempotency key.
    @discardableResult
    func post(_ client: any TestClientProtocol, _ json: String) async throws -> [String: Any] {
        let response = try await client.send(.post, "/v1/events", token: ingest, json: json, headers: ["Idempotency-Key": UUID().uuidString])
        #expect(response.status == .accepted, "\(response.text)")
        return try response.object()
    }

    /// Feeds the engine every demo event committed after `after`, including the ones its own actions record, as its loop would.
    func evaluateRules(after: inout Int64) async throws -> Int {
        var fired = 0
        while true {
            let batch = try await env.ledger.events(seller: "demo", after: after, limit: 10_000)
            guard let last = batch.last else { return fired }
            after = last.sequence
            fired += await env.ruleEngine.evaluate(batch)
        }
    }

    /// The demo seller's latest sequence.
    var lastSequence: Int64 { env.snapshot.seller("demo")?.lastSequence ?? 0 }

    /// Every demo event a rule caused, oldest first.
    func events(of rule: String) async throws -> [LedgerEvent] {
        try await env.ledger.events(seller: "demo", limit: 1_000_000).filter { $0.event.ruleId == rule }
    }
}
