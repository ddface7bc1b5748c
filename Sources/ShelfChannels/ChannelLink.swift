import Foundation
import ShelfConnectors
import ShelfCore
import ShelfCurl
import ShelfLedger

/// A connection as the channel side sees it: its settings and the connector for its wire format.
public struct ChannelLink: Sendable {
    public let seller: String
    public let connection: ConnectionFixture
    public let connector: any ChannelConnector
    public let settings: ConnectorSettings

    public init?(seller: String, connection: ConnectionFixture) {
        guard let kind = ChannelKind(rawValue: connection.kind) else { return nil }
        self.seller = seller
        self.connection = connection
        connector = Connectors.connector(for: kind)
        settings = ConnectorSettings(
            baseURL: connection.baseURL, credentials: connection.credentials, webhookSecret: connection.webhookSecret,
            channelLocationId: connection.channelLocationId
        )
    }

    /// What this channel should display for `state` now.
    public func update(for state: SKUState, now: Date) -> ListingUpdate? {
        guard let listing = state.listing(on: connection.channel) else { return nil }
        let available = state.item.active ? state.available(now: now) : 0
        let price = listing.price ?? state.item.effectivePrice(at: now)
        return ListingUpdate(
            sku: state.sku, externalId: listing.externalId, quantity: listing.publishedQuantity(available: available),
            price: Money(amount: price.amount, currency: price.currency), listed: listing.listed && state.item.active,
            references: listing.references
        )
    }
}

extension ChannelHTTPRequest {
    /// The libcurl request for this channel request.
    func curlRequest(timeout: Duration) -> CurlRequest {
        CurlRequest(
            method: method, url: url, headers: headers.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) }, body: body,
            timeout: timeout, connectTimeout: .seconds(2)
        )
    }
}

extension CurlResponse {
    /// Headers as a dictionary with lower-cased names (what connectors read).
    var lowercasedHeaders: [String: String] {
        var out: [String: String] = [:]
        for h in headers { out[h.name.lowercased()] = h.value }
        return out
    }
}
