import Foundation
import GRDB

// One table per kind of seller-level document (they were rows of one catch-all `catalog_entities` table before migration
// `v5-tables-per-kind`). Typed GRDB records: columns by name, never by position.

/// A seller's location (warehouse, store, 3PL) as stored: its JSON document, keyed by (seller, id).
struct LocationRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "locations"
    var seller: String
    var id: String
    var body: String

    enum Columns {
        static let seller = Column(CodingKeys.seller)
    }
}

/// A seller's sales channel as stored: its JSON document, keyed by (seller, id).
struct ChannelRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "channels"
    var seller: String
    var id: String
    var body: String

    enum Columns {
        static let seller = Column(CodingKeys.seller)
    }
}

/// A seller's profile (rule vocabulary and business calendar, `SellerFixture` as JSON), one per seller.
struct SellerProfileRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "seller_profiles"
    var seller: String
    var body: String
}

/// One settings document of a seller (e.g. `spike-policy`), keyed by (seller, kind).
struct SellerSettingRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "seller_settings"
    var seller: String
    var kind: String
    var body: String

    enum Columns {
        static let seller = Column(CodingKeys.seller)
        static let kind = Column(CodingKeys.kind)
    }
}

/// The last schedule occurrence a rule claimed (epoch seconds), so an occurrence fires once across restarts and processes.
struct RuleScheduleRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "rule_schedules"
    var seller: String
    var ruleId: String
    var lastOccurrence: Double

    enum Columns {
        static let seller = Column(CodingKeys.seller)
        static let ruleId = Column(CodingKeys.ruleId)
    }
}

/// A changed SKU waiting in the transactional outbox (one row per SKU, at the sequence of its latest change).
struct OutboxRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "outbox"
    var seller: String
    var sku: String
    var sequence: Int64

    enum Columns {
        static let seller = Column(CodingKeys.seller)
    }
}

/// A push waiting for its next attempt on one connection.
struct DeliveryRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "deliveries"
    var seller: String
    var connection: String
    var sku: String
    var sequence: Int64
    var attempts: Int
    var nextAttemptAt: Double
    var lastError: String?

    enum Columns {
        static let seller = Column(CodingKeys.seller)
        static let connection = Column(CodingKeys.connection)
    }
}

/// A dead-lettered push.
struct DeadLetterRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "dlq"
    var id: Int64?
    var seller: String
    var connection: String
    var sku: String
    var sequence: Int64
    var attempts: Int
    var lastError: String
    var failedAt: Double

    enum Columns {
        static let seller = Column(CodingKeys.seller)
        static let id = Column(CodingKeys.id)
    }
}

/// A seller (tenant): identity and settings.
struct SellerRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "sellers"
    var id: String
    var name: String
    var currency: String
    var timeZone: String
    var createdAt: Double
}
