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

/// A watch delivery waiting to be made (migration `v7-watch-outbox`), one per (watch, SKU).
struct WatchOutboxRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "watch_outbox"
    var seller: String
    var watchId: String
    var sku: String
    var deliveryId: String
    var eventType: String
    var sequence: Int64
    var changedAt: Double
}

/// What a watch last observed of one SKU (migration `v7-watch-outbox`).
struct WatchObservationRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "watch_observations"
    var seller: String
    var watchId: String
    var sku: String
    var available: Int
    var priceAmount: Int64
    var currency: String
    var deliveryWindow: String?
}

/// The last ledger sequence of a seller the watch delivery service has judged (migration `v7-watch-outbox`).
struct WatchCursorRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "watch_cursors"
    var seller: String
    var sequence: Int64
}
