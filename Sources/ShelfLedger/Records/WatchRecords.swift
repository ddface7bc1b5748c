import Foundation
import GRDB

/// An agent's watch as stored (migration `v6-watches`): what it watches and when it fires (`spec`, JSON owned by the server),
/// where deliveries go, and why deliveries were paused.
struct WatchRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "watches"
    var seller: String
    var id: String
    var tokenId: String
    var spec: String
    var url: String
    var secret: String
    var createdAt: Double
    var pausedAt: Double?
    var pausedReason: String?

    enum Columns {
        static let seller = Column(CodingKeys.seller)
        static let id = Column(CodingKeys.id)
        static let tokenId = Column(CodingKeys.tokenId)
        static let createdAt = Column(CodingKeys.createdAt)
        static let pausedAt = Column(CodingKeys.pausedAt)
        static let pausedReason = Column(CodingKeys.pausedReason)
    }
}

/// A watch delivery that was retried to the limit (or held while the watch was paused), one per (watch, SKU).
struct WatchDeadLetterRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "watch_dead_letters"
    var seller: String
    var watchId: String
    var sku: String
    var eventType: String
    var sequence: Int64
    var attempts: Int
    var lastError: String
    var failedAt: Double

    enum Columns {
        static let seller = Column(CodingKeys.seller)
        static let watchId = Column(CodingKeys.watchId)
        static let sku = Column(CodingKeys.sku)
        static let failedAt = Column(CodingKeys.failedAt)
    }
}
