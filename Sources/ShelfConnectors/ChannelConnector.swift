import Foundation

/// Wire format of one channel kind: one file per channel implements it.
public protocol ChannelConnector: Sendable {
    var kind: ChannelKind { get }

    /// Whether a price costs requests of its own beside the quantity's (Shopify's variant mutation, Walmart's price feed,
    /// TikTok's price update): the push workers then send a price only when it differs from the one the channel last
    /// acknowledged. Channels whose one request carries both (or needs the price every time, like Etsy) answer false.
    var pushesPriceSeparately: Bool { get }

    /// Whether one push request carries many SKUs (Shopify's 250 quantities per mutation, eBay's 25 per bulk update, TikTok's
    /// SKUs of one product, WooCommerce's batch, the generic batch): the push workers then keep one dispatch in flight and
    /// send what changed meanwhile together in the next. Per-SKU channels answer false and get concurrent requests.
    var batchesPushes: Bool { get }

    /// The requests that publish `updates`, batched where the channel's API allows (order preserved).
    func pushRequests(_ updates: [ListingUpdate], settings: ConnectorSettings) throws -> [ChannelHTTPRequest]

    /// Classifies the channel's answer to one push request (some channels answer 200 with per-item errors).
    func pushOutcome(status: Int, headers: [String: String], body: [UInt8]) -> PushOutcome

    /// The request for one poll page; `cursor` nil for the first page, `etag` from the previous poll of that page.
    func pollRequest(settings: ConnectorSettings, cursor: String?, etag: String?) -> ChannelHTTPRequest

    /// Parses one poll page. Throws `ConnectorError.rateLimited` on 429 and `.unexpectedStatus` on other errors.
    func parsePollResponse(status: Int, headers: [String: String], body: [UInt8]) throws -> PollPage

    /// Parses one poll page knowing the request that fetched it. Prefer this one: channels whose pages do not
    /// say where they are (Etsy's offset pages) need the request to compute the next cursor.
    func parsePollResponse(status: Int, headers: [String: String], body: [UInt8], request: ChannelHTTPRequest) throws -> PollPage

    /// Verifies a webhook's signature over the raw body, in constant time.
    /// `headers` have lower-cased names; schemes that sign the request line (Walmart) also read the
    /// pseudo-headers `:method` and `:path` (path + query exactly as received), which the caller adds.
    func verifyWebhook(headers: [String: String], body: [UInt8], secret: String) -> Bool

    /// Normalizes a verified webhook. Returns no events for topics Shelf ignores.
    func parseWebhook(headers: [String: String], body: [UInt8]) throws -> [ChannelWebhookEvent]

    /// Headers to send with `body` (used by the simulator). `requestTarget` is the path + query the webhook is
    /// POSTed to (only Walmart signs it).
    func signWebhook(body: [UInt8], secret: String, eventId: String, topic: WebhookTopic, now: Date) -> [String: String]
    func signWebhook(body: [UInt8], secret: String, eventId: String, topic: WebhookTopic, now: Date, requestTarget: String) -> [String: String]

    /// Renders a webhook body in the channel's format (simulator, fixtures, tests).
    func webhookBody(_ draft: WebhookDraft) throws -> [UInt8]

    /// For channels whose order webhooks carry only a reference: the request that reads the order; nil otherwise.
    func orderDetailRequest(orderId: String, settings: ConnectorSettings) -> ChannelHTTPRequest?

    /// Parses the answer to `orderDetailRequest`.
    func parseOrderDetail(status: Int, headers: [String: String], body: [UInt8]) throws -> ChannelOrder
}

extension ChannelConnector {
    public var pushesPriceSeparately: Bool { false }

    public var batchesPushes: Bool { false }

    public func signWebhook(body: [UInt8], secret: String, eventId: String, topic: WebhookTopic, now: Date, requestTarget: String) -> [String: String]
    {
        signWebhook(body: body, secret: secret, eventId: eventId, topic: topic, now: now)
    }

    public func parsePollResponse(status: Int, headers: [String: String], body: [UInt8], request: ChannelHTTPRequest) throws -> PollPage {
        try parsePollResponse(status: status, headers: headers, body: body)
    }

    public func orderDetailRequest(orderId: String, settings: ConnectorSettings) -> ChannelHTTPRequest? {
        nil
    }

    public func parseOrderDetail(status: Int, headers: [String: String], body: [UInt8]) throws -> ChannelOrder {
        throw ConnectorError.invalidPayload("\(kind.rawValue) webhooks carry full orders; no order detail request")
    }

    /// Default classification by HTTP status alone (for channels that answer errors with error statuses).
    public func pushOutcome(status: Int, headers: [String: String], body: [UInt8]) -> PushOutcome {
        HTTPStatusClassifier.outcome(status: status, headers: headers, body: body)
    }
}
