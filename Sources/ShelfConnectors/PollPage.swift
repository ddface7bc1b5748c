/// One page of a poll.
public struct PollPage: Sendable, Equatable {
    public var levels: [ChannelStockLevel]
    /// Pass back to `pollRequest(cursor:)` for the next page; `nil` on the last page.
    public var nextCursor: String?
    /// The page's validator; pass back as `etag` to ask "changed since?".
    public var etag: String?
    /// `true` when the channel answered 304 Not Modified (levels empty: keep what you had).
    public var notModified: Bool

    public init(levels: [ChannelStockLevel], nextCursor: String? = nil, etag: String? = nil, notModified: Bool = false) {
        self.levels = levels
        self.nextCursor = nextCursor
        self.etag = etag
        self.notModified = notModified
    }
}
