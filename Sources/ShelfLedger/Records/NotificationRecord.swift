import GRDB

/// A rule notification in the durable outbox.
struct NotificationRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "notifications"
    var id: Int64?
    var seller: String
    var ruleId: String
    var trigger: String
    var url: String
    var body: String
    var state: String
    var attempts: Int
    var nextAttemptAt: Double
    var lastError: String?
    var createdAt: Double

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let seller = Column(CodingKeys.seller)
        static let state = Column(CodingKeys.state)
        static let nextAttemptAt = Column(CodingKeys.nextAttemptAt)
    }

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}
