import Foundation
import Logging
import PostgresNIO
import ShelfCore
import ShelfLedger

/// A query assembled from optional parts: the SQL text is written here, every value goes in as a bound parameter (`$n`).
struct PostgresStatement {
    private(set) var sql = ""
    private(set) var binds = PostgresBindings()

    init(_ sql: String) { self.sql = sql }

    /// Appends SQL text (never a value).
    mutating func append(_ text: String) { sql += text }

    /// Binds `value` and answers its placeholder.
    mutating func bind(_ value: some PostgresDynamicTypeEncodable) -> String {
        binds.append(value)
        return "$\(binds.count)"
    }

    var query: PostgresQuery { PostgresQuery(unsafeSQL: sql, binds: binds) }
}

/// The PostgreSQL conformance of `SellerStore`: the `sellers`, `seller_profiles` and `seller_settings` tables (migration 6).
public struct PostgresSellerStore: SellerStore {
    public let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger = Logger(label: "shelf.postgres")) {
        self.client = client
        self.logger = logger
    }

    public func insert(_ seller: SellerRow, profile: String?) async throws -> Bool {
        try await client.withTransaction(logger: logger) { connection in
            // ON CONFLICT DO NOTHING: a taken id inserts nothing and returns no row, whoever took it and when.
            let inserted = try await PostgresLedgerStore.count(connection.query(
                """
                INSERT INTO sellers (id, name, currency, timeZone, createdAt)
                VALUES (\(seller.id), \(seller.name), \(seller.currency), \(seller.timeZone), \(seller.createdAt.timeIntervalSince1970))
                ON CONFLICT (id) DO NOTHING RETURNING 1
                """,
                logger: logger
            )) == 1
            if inserted, let profile {
                try await connection.query(
                    """
                    INSERT INTO seller_profiles (seller, body) VALUES (\(seller.id), \(profile))
                    ON CONFLICT (seller) DO UPDATE SET body = excluded.body
                    """,
                    logger: logger
                )
            }
            if inserted { try await ClusterChange.settings(seller: seller.id).announce(on: connection, logger: logger) }
            return inserted
        }
    }

    public func sellers() async throws -> [SellerRow] {
        try await decode(client.query("SELECT id, name, currency, timeZone, createdAt FROM sellers ORDER BY id COLLATE \"C\"", logger: logger))
    }

    public func seller(id: String) async throws -> SellerRow? {
        try await decode(client.query("SELECT id, name, currency, timeZone, createdAt FROM sellers WHERE id = \(id)", logger: logger)).first
    }

    public func saveProfile(_ body: String, seller: String) async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query(
                "INSERT INTO seller_profiles (seller, body) VALUES (\(seller), \(body)) ON CONFLICT (seller) DO UPDATE SET body = excluded.body",
                logger: logger
            )
            try await ClusterChange.settings(seller: seller).announce(on: connection, logger: logger)
        }
    }

    public func profile(seller: String) async throws -> String? {
        var body: String?
        for try await text in try await client.query("SELECT body FROM seller_profiles WHERE seller = \(seller)", logger: logger)
            .decode(String.self) { body = text }
        return body
    }

    public func setting(_ kind: String, seller: String) async throws -> String? {
        var body: String?
        for try await text in try await client.query(
            "SELECT body FROM seller_settings WHERE seller = \(seller) AND kind = \(kind)", logger: logger
        ).decode(String.self) { body = text }
        return body
    }

    public func saveSetting(_ kind: String, seller: String, body: String) async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query(
                """
                INSERT INTO seller_settings (seller, kind, body) VALUES (\(seller), \(kind), \(body))
                ON CONFLICT (seller, kind) DO UPDATE SET body = excluded.body
                """,
                logger: logger
            )
            try await ClusterChange.settings(seller: seller).announce(on: connection, logger: logger)
        }
    }

    private func decode(_ rows: PostgresRowSequence) async throws -> [SellerRow] {
        var out: [SellerRow] = []
        for try await (id, name, currency, timeZone, createdAt) in rows.decode((String, String, String, String, Double).self) {
            out.append(SellerRow(id: id, name: name, currency: currency, timeZone: timeZone, createdAt: Date(timeIntervalSince1970: createdAt)))
        }
        return out
    }
}

/// The PostgreSQL conformance of `ConnectionStore`: the `connections` table (migration 6).
public struct PostgresConnectionStore: ConnectionStore {
    public let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger = Logger(label: "shelf.postgres")) {
        self.client = client
        self.logger = logger
    }

    public func upsert(_ c: ConnectionFixture, seller: String, at instant: Date) async throws {
        let credentials = try ShelfJSON.string(c.credentials)
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query(
                """
                INSERT INTO connections (seller, id, channel, kind, baseURL, credentials, webhookSecret, pollIntervalSeconds, pushEnabled,
                    channelLocationId, createdAt)
                VALUES (\(seller), \(c.id), \(c.channel), \(c.kind), \(c.baseURL), \(credentials), \(c.webhookSecret), \(c.pollIntervalSeconds),
                    \(c.pushEnabled), \(c.channelLocationId), \(instant.timeIntervalSince1970))
                ON CONFLICT (seller, id) DO UPDATE SET channel = excluded.channel, kind = excluded.kind, baseURL = excluded.baseURL,
                    credentials = excluded.credentials, webhookSecret = excluded.webhookSecret, pollIntervalSeconds = excluded.pollIntervalSeconds,
                    pushEnabled = excluded.pushEnabled, channelLocationId = excluded.channelLocationId
                """,
                logger: logger
            )
            try await ClusterChange.connections(seller: seller).announce(on: connection, logger: logger)
        }
    }

    public func delete(id: String, seller: String) async throws -> Bool {
        try await client.withTransaction(logger: logger) { connection in
            let deleted = try await PostgresLedgerStore.count(connection.query(
                "DELETE FROM connections WHERE seller = \(seller) AND id = \(id) RETURNING 1", logger: logger
            )) > 0
            if deleted { try await ClusterChange.connections(seller: seller).announce(on: connection, logger: logger) }
            return deleted
        }
    }

    public func connections(seller: String) async throws -> [ConnectionFixture] {
        try await decode(client.query(
            """
            SELECT seller, id, channel, kind, baseURL, credentials, webhookSecret, pollIntervalSeconds, pushEnabled, channelLocationId
            FROM connections WHERE seller = \(seller) ORDER BY id COLLATE "C"
            """,
            logger: logger
        )).map(\.connection)
    }

    public func sellers(connection id: String) async throws -> [String] {
        var out: [String] = []
        for try await seller in try await client.query(
            "SELECT seller FROM connections WHERE id = \(id) ORDER BY seller COLLATE \"C\"", logger: logger
        ).decode(String.self) { out.append(seller) }
        return out
    }

    public func pushEnabled() async throws -> [(seller: String, connection: ConnectionFixture)] {
        try await decode(client.query(
            """
            SELECT seller, id, channel, kind, baseURL, credentials, webhookSecret, pollIntervalSeconds, pushEnabled, channelLocationId
            FROM connections WHERE pushEnabled ORDER BY seller COLLATE "C", id COLLATE "C"
            """,
            logger: logger
        ))
    }

    private func decode(_ rows: PostgresRowSequence) async throws -> [(seller: String, connection: ConnectionFixture)] {
        var out: [(seller: String, connection: ConnectionFixture)] = []
        for try await (seller, id, channel, kind, baseURL, credentials, secret, poll, push, location)
            in rows.decode((String, String, String, String, String, String, String, Int, Bool, String?).self)
        {
            let decoded = (try? ShelfJSON.decode([String: String].self, from: Data(credentials.utf8))) ?? [:]
            out.append((seller, ConnectionFixture(id: id, channel: channel, kind: kind, baseURL: baseURL, credentials: decoded, webhookSecret: secret,
                                                  pollIntervalSeconds: poll, pushEnabled: push, channelLocationId: location)))
        }
        return out
    }
}

/// The PostgreSQL conformance of `LedgerHistoryStore`: reads of the `events` and `holds` tables.
public struct PostgresHistoryStore: LedgerHistoryStore {
    public let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger = Logger(label: "shelf.postgres")) {
        self.client = client
        self.logger = logger
    }

    public func events(seller: String, sku: String?, after: Int64, until: Date?, limit: Int) async throws -> [LedgerEvent] {
        var s = PostgresStatement("SELECT sequence, source, externalId, recordedAt, body FROM events WHERE ")
        s.append("seller = \(s.bind(seller)) AND sequence > \(s.bind(after))")
        if let sku { s.append(" AND sku = \(s.bind(sku))") }
        if let until { s.append(" AND recordedAt <= \(s.bind(until.timeIntervalSince1970))") }
        s.append(" ORDER BY sequence LIMIT \(s.bind(limit))")
        return try await PostgresLedgerStore.decodeEvents(client.query(s.query, logger: logger), seller: seller)
    }

    public func newest(_ q: NewestEventsQuery) async throws -> [LedgerEvent] {
        guard !q.types.isEmpty else { return [] }
        var s = PostgresStatement("SELECT sequence, source, externalId, recordedAt, body FROM events WHERE ")
        s.append("seller = \(s.bind(q.seller)) AND type = ANY(\(s.bind(q.types.map(\.rawValue).sorted())))")
        if let sku = q.sku { s.append(" AND sku = \(s.bind(sku))") }
        if let after = q.afterSequence { s.append(" AND sequence > \(s.bind(after))") }
        if let before = q.beforeSequence { s.append(" AND sequence < \(s.bind(before))") }
        if let from = q.recordedAfter { s.append(" AND recordedAt > \(s.bind(from.timeIntervalSince1970))") }
        if let to = q.recordedThrough { s.append(" AND recordedAt <= \(s.bind(to.timeIntervalSince1970))") }
        s.append(" ORDER BY sequence DESC LIMIT \(s.bind(q.limit))")
        return try await PostgresLedgerStore.decodeEvents(client.query(s.query, logger: logger), seller: q.seller)
    }

    /// Sequences are contiguous and recorded in time order, so a binary search over primary-key lookups (on one connection)
    /// finds it without a time index and without scanning the events after `instant`.
    public func sequence(seller: String, before instant: Date) async throws -> Int64 {
        let target = instant.timeIntervalSince1970
        return try await client.withConnection { connection in
            var lo: Int64 = 0
            var hi: Int64 = 0
            for try await last in try await connection.query(
                "SELECT COALESCE(MAX(sequence), 0)::int8 FROM events WHERE seller = \(seller)", logger: logger
            ).decode(Int64.self) { hi = last }
            while lo < hi {
                let mid = (lo + hi + 1) / 2
                var at = Double.infinity
                for try await recordedAt in try await connection.query(
                    "SELECT recordedAt FROM events WHERE seller = \(seller) AND sequence = \(mid)", logger: logger
                ).decode(Double.self) { at = recordedAt }
                if at < target { lo = mid } else { hi = mid - 1 }
            }
            return lo
        }
    }

    public func salesEvents(seller: String, afterSequence start: Int64, recordedAfter from: Date, through to: Date, limit: Int,
                            _ body: @escaping @Sendable (LedgerEvent) throws -> Void) async throws {
        let types = [EventType.orderConfirmed.rawValue, EventType.skuUpserted.rawValue]
        let (fromSeconds, toSeconds) = (from.timeIntervalSince1970, to.timeIntervalSince1970)
        let rows = try await client.query(
            """
            SELECT sequence, source, externalId, recordedAt, sku, CASE WHEN type = 'order.confirmed' THEN body END FROM (
                SELECT * FROM events WHERE seller = \(seller) AND type = ANY(\(types)) AND sequence > \(start)
                    AND recordedAt > \(fromSeconds) AND recordedAt <= \(toSeconds) ORDER BY sequence DESC LIMIT \(limit)
            ) newest ORDER BY sequence
            """,
            logger: logger
        )
        let decoder = ShelfJSON.decoder()
        for try await (sequence, source, externalId, recordedAt, sku, text)
            in rows.decode((Int64, String, String?, Double, String?, String?).self)
        {
            let at = Date(timeIntervalSince1970: recordedAt)
            let event = try text.map { try decoder.decode(ShelfEvent.self, from: Data($0.utf8)) }
                ?? ShelfEvent(type: .skuUpserted, sku: sku, occurredAt: at)
            try body(LedgerEvent(seller: seller, sequence: sequence, source: source, externalId: externalId, recordedAt: at, event: event))
        }
    }

    public func dueHolds(at instant: Date, limit: Int) async throws -> [DueHold] {
        var out: [DueHold] = []
        for try await (seller, id, sku) in try await client.query(
            "SELECT seller, id, sku FROM holds WHERE expiresAt <= \(instant.timeIntervalSince1970) ORDER BY expiresAt LIMIT \(limit)",
            logger: logger
        ).decode((String, String, String).self) { out.append(DueHold(seller: seller, id: id, sku: sku)) }
        return out
    }

    public func isEmpty() async throws -> Bool {
        try await PostgresLedgerStore.count(client.query("SELECT 1 FROM events LIMIT 1", logger: logger)) == 0
    }
}

/// The PostgreSQL conformance of `SnapshotStateStore`: the state tables read in one REPEATABLE READ transaction, so a
/// rebuild sees one instant even while other nodes write. Rows stream (postgres-nio reads ahead a bounded number); each is
/// checked as the SQLite store checks its rows, and a bad one quarantines its SKU.
public struct PostgresSnapshotStateStore: SnapshotStateStore {
    public let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger = Logger(label: "shelf.postgres")) {
        self.client = client
        self.logger = logger
    }

    public func skuCounts() async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for try await (seller, n) in try await client.query("SELECT seller, COUNT(*) FROM skus GROUP BY seller", logger: logger)
            .decode((String, Int).self) { counts[seller] = n }
        return counts
    }

    public func loadState(progress: RebuildProgress, sellers only: Set<String>?) async throws -> [LoadedSellerState] {
        do {
            return try await client.withTransaction(logger: logger) { connection in
                try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
                var total = 0
                for try await (seller, n) in try await connection.query("SELECT seller, COUNT(*) FROM skus GROUP BY seller", logger: logger)
                    .decode((String, Int).self) where only?.contains(seller) ?? true { total += n }
                progress.begin(total: total)
                var sellers: [String] = []
                for try await id in try await connection.query("SELECT id FROM sellers ORDER BY id COLLATE \"C\"", logger: logger)
                    .decode(String.self) where only?.contains(id) ?? true { sellers.append(id) }
                var out: [LoadedSellerState] = []
                for seller in sellers { out.append(try await load(seller, connection, progress: progress)) }
                return out
            }
        } catch let error as PostgresTransactionError {
            if let stopped = error.closureError as? RebuildStopped { throw stopped }
            throw error.closureError ?? error.beginError ?? error.commitError ?? error
        }
    }

    private func load(_ seller: String, _ connection: PostgresConnection, progress: RebuildProgress) async throws -> LoadedSellerState {
        let decoder = ShelfJSON.decoder()
        var count = 0
        for try await n in try await connection.query("SELECT COUNT(*) FROM skus WHERE seller = \(seller)", logger: logger).decode(Int.self) {
            count = n
        }
        var loaded = LoadedSellerState(seller: seller, capacity: count)
        var read = 0
        let skus = try await connection.query(
            "SELECT sku, item, spikeMultiplier, lastSequence, updatedAt FROM skus WHERE seller = \(seller) ORDER BY sku COLLATE \"C\"",
            logger: logger
        )
        for try await (sku, item, spikeMultiplier, lastSequence, updatedAt) in skus.decode((String, String, Int, Int64, Double).self) {
            read += 1
            if read & 4095 == 0 {
                progress.advance(by: 4096)
                if progress.isStopped { throw RebuildStopped() }
            }
            guard let decoded = try? decoder.decode(CatalogItem.self, from: Data(item.utf8)) else {
                loaded.quarantine(sku, reason: "the stored SKU row cannot be read")
                continue
            }
            let prices = [decoded.price.amount, decoded.compareAtPrice?.amount ?? 0, decoded.sale?.price.amount ?? 0]
            guard prices.allSatisfy(Limits.price.contains) else {
                loaded.quarantine(sku, reason: "a stored price lies outside 0…\(Limits.maxPriceMinorUnits) minor units")
                continue
            }
            guard (1...Limits.maxSpikeMultiplier).contains(spikeMultiplier) else {
                loaded.quarantine(sku, reason: "the stored spike multiplier \(spikeMultiplier) lies outside 1…\(Limits.maxSpikeMultiplier)")
                continue
            }
            loaded[sku] = SKUState(item: decoded, spikeMultiplier: spikeMultiplier, lastSequence: lastSequence,
                                   updatedAt: Date(timeIntervalSince1970: updatedAt))
        }
        progress.advance(by: read & 4095)
        let stock = try await connection.query(
            """
            SELECT sku, location, onHand, committed, reserved, unavailable, safetyStock, incoming, oversold FROM stock
            WHERE seller = \(seller) ORDER BY sku COLLATE "C", location COLLATE "C"
            """,
            logger: logger
        )
        for try await (sku, location, onHand, committed, reserved, unavailable, safetyStock, incoming, oversold)
            in stock.decode((String, String, Int, Int, Int, Int, Int, Int, Int).self)
        {
            let level = StockLevel(onHand: onHand, committed: committed, reserved: reserved, unavailable: unavailable,
                                   safetyStock: safetyStock, incoming: incoming, oversold: oversold)
            guard level.isWithinLimits else {
                loaded.quarantine(sku, reason: "stored stock at \(location) lies outside 0…\(Limits.maxStockFigure) units")
                continue
            }
            if loaded.quarantined[sku] == nil { loaded[sku]?.stock.append(LocationStock(location: location, level: level)) }
        }
        let listings = try await connection.query(
            "SELECT sku, channel, body FROM listings WHERE seller = \(seller) ORDER BY sku COLLATE \"C\", channel COLLATE \"C\"",
            logger: logger
        )
        for try await (sku, channel, body) in listings.decode((String, String, String).self) {
            guard let listing = try? decoder.decode(Listing.self, from: Data(body.utf8)) else {
                loaded.quarantine(sku, reason: "a stored listing row on \(channel) cannot be read")
                continue
            }
            guard (0...Limits.maxBuffer).contains(listing.buffer), Limits.price.contains(listing.price?.amount ?? 0) else {
                loaded.quarantine(sku, reason: "the stored listing on \(channel) lies outside Limits (buffer \(listing.buffer), price \(listing.price?.amount ?? 0))")
                continue
            }
            if loaded.quarantined[sku] == nil { loaded[sku]?.listings.append(listing) }
        }
        let holds = try await connection.query(
            "SELECT sku, id, location, qty, expiresAt, allocation FROM holds WHERE seller = \(seller) ORDER BY sku COLLATE \"C\", id COLLATE \"C\"",
            logger: logger
        )
        for try await (sku, id, location, qty, expiresAt, allocation) in holds.decode((String, String, String, Int, Double, String?).self) {
            if progress.isStopped { throw RebuildStopped() }
            guard loaded.quarantined[sku] == nil else { continue }
            var parts: [Allocation]?
            if let allocation {
                guard let decoded = try? decoder.decode([Allocation].self, from: Data(allocation.utf8)) else {
                    loaded.quarantine(sku, reason: "the stored allocation of hold \(id) cannot be read")
                    continue
                }
                parts = decoded
            }
            let hold = Reservation(id: id, sku: sku, location: location, qty: qty, expiresAt: Date(timeIntervalSince1970: expiresAt),
                                   allocation: parts)
            guard Limits.count.contains(hold.qty), hold.parts.allSatisfy({ Limits.count.contains($0.qty) }),
                  hold.parts.reduce(0, { $0 + $1.qty }) == hold.qty
            else {
                loaded.quarantine(sku, reason: "the stored hold \(id) of \(qty) units lies outside 0…\(Limits.maxQuantity) or its parts do not add up")
                continue
            }
            loaded[sku]?.holds.append(hold)
        }
        for try await body in try await connection.query(
            "SELECT body FROM locations WHERE seller = \(seller) ORDER BY id COLLATE \"C\"", logger: logger
        ).decode(String.self) {
            let location = try decoder.decode(Location.self, from: Data(body.utf8))
            loaded.catalog.apply(ShelfEvent(type: .locationUpserted, locationInfo: location, occurredAt: .now))
        }
        for try await body in try await connection.query(
            "SELECT body FROM channels WHERE seller = \(seller) ORDER BY id COLLATE \"C\"", logger: logger
        ).decode(String.self) {
            let channel = try decoder.decode(Channel.self, from: Data(body.utf8))
            loaded.catalog.apply(ShelfEvent(type: .channelUpserted, channelInfo: channel, occurredAt: .now))
        }
        for try await (sequence, recordedAt) in try await connection.query(
            "SELECT sequence, recordedAt FROM events WHERE seller = \(seller) ORDER BY sequence DESC LIMIT 1", logger: logger
        ).decode((Int64, Double).self) {
            loaded.lastSequence = sequence
            loaded.lastRecordedAt = Date(timeIntervalSince1970: recordedAt)
        }
        return loaded
    }
}
