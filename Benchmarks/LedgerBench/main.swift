// Ledger benchmark: durable events/s (single and concurrent producers) and snapshot rebuild time and memory for N SKUs.
// Usage:
//   shelf-bench-ledger ingest [--events N] [--producers P] [--durability full|normal]
//   shelf-bench-ledger ingest --database postgres://user@host:port/db [--events N] [--producers P]
//                                                           (an empty PostgreSQL database; durability is the server's own)
//   shelf-bench-ledger load --database PATH --skus N        (writes N SKUs through the ledger)
//   shelf-bench-ledger rebuild --database PATH              (rebuilds the snapshot in this fresh process; prints time and peak RSS)
import Foundation
import GRDB
import Logging
import PostgresNIO
import ShelfCore
import ShelfLedger
import ShelfPostgres

func option(_ name: String, _ fallback: String) -> String {
    let args = CommandLine.arguments
    if let i = args.firstIndex(of: "--\(name)"), i + 1 < args.count { return args[i + 1] }
    return fallback
}

/// Peak resident memory (VmHWM), or the current one (VmRSS) with `current`.
func peakRSSMiB(current: Bool = false) -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix(current ? "VmRSS:" : "VmHWM:") {
        let kb = Double(line.split(separator: " ").dropFirst().first.map(String.init) ?? "0") ?? 0
        return kb / 1024
    }
    return 0
}

/// CPU time (user + system, every thread) this process has used so far.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

func seconds(since start: ContinuousClock.Instant) -> Double {
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

func setupLedger(path: String, durability: LedgerDatabase.Durability, skus: Int) async throws -> Ledger {
    try await setupLedger(stores: .sqlite(try LedgerDatabase(path: path, durability: durability)), skus: skus)
}

/// A ledger on `stores` with the demo seller, the fixture generator's locations, channels and connections, and `skus` SKUs.
func setupLedger(stores: ShelfStore, skus: Int) async throws -> Ledger {
    let ledger = Ledger(stores: stores)
    try await ledger.ensureSeller(id: "demo", name: "Bench", currency: "USD", timeZone: "UTC")
    try await ledger.rebuildSnapshot()
    for c in FixtureGenerator(skuCount: 1).connections() { try await ledger.upsertConnection(c, seller: "demo") }
    let now = Date()
    var commands = FixtureGenerator.locations.map {
        Command(seller: "demo", source: "bench", draft: ShelfEvent(type: .locationUpserted, locationInfo: $0, occurredAt: now))
    }
    commands += FixtureGenerator.channels.map {
        Command(seller: "demo", source: "bench", draft: ShelfEvent(type: .channelUpserted, channelInfo: $0, occurredAt: now))
    }
    _ = await ledger.submit(commands)
    var batch: [Command] = []
    for line in FixtureGenerator(skuCount: skus).lines() {
        batch.append(Command(seller: "demo", source: "bench", draft: FixtureLoader.upsert(line, at: now)))
        if batch.count == 500 {
            _ = await ledger.submit(batch)
            batch.removeAll(keepingCapacity: true)
        }
    }
    _ = await ledger.submit(batch)
    return ledger
}

/// The reference: raw SQLite appends of event-shaped rows (same table shape and durability as the ledger's `events`) in
/// transactions of `batch` rows, through GRDB's prepared statements — the floor of what any ledger on this disk can do.
func rawAppendsPerSecond(rows: Int, batch: Int, durability: String) throws -> Double {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("shelf-raw-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    var config = Configuration()
    config.prepareDatabase { db in
        try db.execute(sql: "PRAGMA journal_mode = WAL")
        try db.execute(sql: "PRAGMA synchronous = \(durability == "full" ? "FULL" : "NORMAL")")
    }
    let queue = try DatabaseQueue(path: dir.appendingPathComponent("raw.sqlite").path, configuration: config)
    try queue.write { db in
        try db.execute(sql: """
            CREATE TABLE events (seller TEXT NOT NULL, sequence INTEGER NOT NULL, type TEXT NOT NULL, sku TEXT, source TEXT NOT NULL,
                externalId TEXT, recordedAt REAL NOT NULL, body TEXT NOT NULL, PRIMARY KEY (seller, sequence)) WITHOUT ROWID
            """)
    }
    let body = #"{"channel":"amazon","occurredAt":"2026-11-23T06:00:00.000Z","qty":1,"sku":"SKU-000001","type":"order.confirmed"}"#
    let start = ContinuousClock.now
    var sequence: Int64 = 0
    while sequence < Int64(rows) {
        try queue.write { db in
            let statement = try db.cachedStatement(
                sql: "INSERT INTO events (seller, sequence, type, sku, source, externalId, recordedAt, body) VALUES (?,?,?,?,?,?,?,?)")
            for _ in 0..<batch where sequence < Int64(rows) {
                sequence += 1
                try statement.execute(arguments: ["demo", sequence, "order.confirmed", "SKU-000001", "direct", "bench-\(sequence)",
                                                  1_795_400_000.0, body])
            }
        }
    }
    return Double(rows) / seconds(since: start)
}

func orderCommand(_ i: Int, skus: [String], run: String) -> Command {
    Command(
        seller: "demo", source: "direct", key: "bench-\(run)-\(i)",
        draft: ShelfEvent(type: .orderConfirmed, sku: skus[i % skus.count], channel: "amazon", qty: 1, occurredAt: Date())
    )
}

/// What one ingest run measured: a lone producer (each event waits for its own commit), then `producers` concurrent ones
/// (group commit batches them), with the average commands per commit and how many commands were refused.
struct IngestFigures {
    var single: Double
    var concurrent: Double
    var batch: Double
    /// Process CPU (every thread) per event of the concurrent phase, µs.
    var cpuPerEvent: Double
    var failed: Int
}

func measureIngest(_ ledger: Ledger, events: Int, producers: Int) async -> IngestFigures {
    let skus = ledger.snapshot.seller("demo")!.allSKUIDs()
    let run = UUID().uuidString.prefix(8).lowercased()
    var failed = 0
    let single = min(events / 10, 2000)
    var start = ContinuousClock.now
    for i in 0..<single {
        if case .failure = await ledger.submit(orderCommand(i, skus: skus, run: String(run))) { failed += 1 }
    }
    let singleRate = Double(single) / seconds(since: start)
    let before = ledger.stats
    let cpuBefore = cpuSeconds()
    start = ContinuousClock.now
    let perProducer = events / producers
    failed += await withTaskGroup(of: Int.self) { group in
        for p in 0..<producers {
            group.addTask {
                var refused = 0
                for j in 0..<perProducer {
                    let command = orderCommand(1_000_000 + p * perProducer + j, skus: skus, run: String(run))
                    if case .failure = await ledger.submit(command) { refused += 1 }
                }
                return refused
            }
        }
        return await group.reduce(0, +)
    }
    let concurrentRate = Double(perProducer * producers) / seconds(since: start)
    // Process CPU (every thread) per event of the concurrent phase.
    let cpuPerEvent = (cpuSeconds() - cpuBefore) * 1e6 / Double(perProducer * producers)
    let stats = ledger.stats
    let batch = Double(stats.commands - before.commands) / Double(max(1, stats.commits - before.commits))
    return IngestFigures(single: singleRate, concurrent: concurrentRate, batch: batch, cpuPerEvent: cpuPerEvent, failed: failed)
}

/// The PostgreSQL reference: raw appends of event-shaped rows (the ledger's `events` columns) into a table of their own, in
/// transactions of `batch` rows, each batch one multi-row INSERT (UNNEST of arrays) on one connection — the floor of what a
/// ledger on this server and disk can do with that batch.
func rawPostgresAppendsPerSecond(_ client: PostgresClient, rows: Int, batch: Int) async throws -> Double {
    let logger = Logger(label: "bench.raw")
    let table = "bench_raw_\(UUID().uuidString.prefix(8).lowercased())"
    try await client.query(PostgresQuery(unsafeSQL: """
        CREATE TABLE \(table) (seller text NOT NULL, sequence bigint NOT NULL, type text NOT NULL, sku text, source text NOT NULL,
            externalId text, recordedAt double precision NOT NULL, orderId text, body text NOT NULL, PRIMARY KEY (seller, sequence))
        """), logger: logger)
    let body = #"{"channel":"amazon","occurredAt":"2026-11-23T06:00:00.000Z","qty":1,"sku":"SKU-000001","type":"order.confirmed"}"#
    let start = ContinuousClock.now
    var sequence: Int64 = 0
    while sequence < Int64(rows) {
        let n = min(batch, rows - Int(sequence))
        let sequences = (1...n).map { sequence + Int64($0) }
        sequence += Int64(n)
        try await client.withTransaction(logger: logger) { connection in
            var query = PostgresQuery(unsafeSQL: """
                INSERT INTO \(table) (seller, sequence, type, sku, source, externalId, recordedAt, orderId, body)
                SELECT 'demo', s, 'order.confirmed', 'SKU-000001', 'direct', 'bench-' || s, 1795400000.0, 'order-' || s, $2
                FROM UNNEST($1::int8[]) AS s
                """)
            query.binds.append(sequences)
            query.binds.append(body)
            try await connection.query(query, logger: logger)
        }
    }
    let rate = Double(rows) / seconds(since: start)
    try await client.query(PostgresQuery(unsafeSQL: "DROP TABLE \(table)"), logger: logger)
    return rate
}

let mode = CommandLine.arguments.dropFirst().first ?? "ingest"
switch mode {
case "ingest" where PostgresURL.isPostgres(option("database", "")):
    let events = Int(option("events", "20000"))!
    let producers = Int(option("producers", "64"))!
    let url = try PostgresURL(option("database", ""))
    var logger = Logger(label: "bench.postgres")
    logger.logLevel = .warning
    let database = try await PostgresDatabase.open(url, logger: logger)
    let ledger = try await setupLedger(stores: database.stores, skus: 2000)
    let figures = await measureIngest(ledger, events: events, producers: producers)
    print(String(format: "ingest postgres single-producer=%.0f events/s concurrent(%d producers)=%.0f events/s avg-batch=%.1f failed=%d",
                 figures.single, producers, figures.concurrent, figures.batch, figures.failed))
    let single = min(events / 10, 2000)
    let rawOne = try await rawPostgresAppendsPerSecond(database.client, rows: single, batch: 1)
    let rawSame = try await rawPostgresAppendsPerSecond(database.client, rows: events, batch: max(1, Int(figures.batch.rounded())))
    let rawHundred = try await rawPostgresAppendsPerSecond(database.client, rows: events * 2, batch: 100)
    print(String(format: "raw postgres batch=1 %.0f rows/s (ledger %.2fx); batch=%.0f %.0f rows/s (ledger %.2fx); batch=100 %.0f rows/s",
                 rawOne, figures.single / rawOne, figures.batch.rounded(), rawSame, figures.concurrent / rawSame, rawHundred))
    await database.close()
case "ingest":
    let events = Int(option("events", "20000"))!
    let producers = Int(option("producers", "64"))!
    for durability in option("durability", "full,normal").split(separator: ",") {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("shelf-bench-\(UUID().uuidString)")
        let ledger = try await setupLedger(path: dir.appendingPathComponent("s.sqlite").path,
                                           durability: durability == "full" ? .full : .normal, skus: 2000)
        let figures = await measureIngest(ledger, events: events, producers: producers)
        let (singleRate, concurrentRate, batch) = (figures.single, figures.concurrent, figures.batch)
        print(String(format: "ingest durability=%@ single-producer=%.0f events/s concurrent(%d producers)=%.0f events/s avg-batch=%.1f cpu=%.0fus/event failed=%d",
                     String(durability), singleRate, producers, concurrentRate, batch, figures.cpuPerEvent, figures.failed))
        // The same run's reference: raw appends in transactions of one row (as a lone producer gets) and of the batch the
        // ledger reached, then of 100.
        let single = min(events / 10, 2000)
        let rawOne = try rawAppendsPerSecond(rows: single, batch: 1, durability: String(durability))
        let rawSame = try rawAppendsPerSecond(rows: events, batch: max(1, Int(batch.rounded())), durability: String(durability))
        let rawHundred = try rawAppendsPerSecond(rows: events * 5, batch: 100, durability: String(durability))
        print(String(format: "raw sqlite durability=%@ batch=1 %.0f rows/s (ledger %.2fx); batch=%.0f %.0f rows/s (ledger %.2fx); batch=100 %.0f rows/s",
                     String(durability), rawOne, singleRate / rawOne, batch.rounded(), rawSame, concurrentRate / rawSame, rawHundred))
        try? FileManager.default.removeItem(at: dir)
    }
case "load":
    let path = option("database", "/tmp/shelf-bench-1m.sqlite")
    let skus = Int(option("skus", "1000000"))!
    let start = ContinuousClock.now
    _ = try await setupLedger(path: path, durability: .normal, skus: skus)
    let elapsed = seconds(since: start)
    print(String(format: "load skus=%d seconds=%.1f skus/s=%.0f", skus, elapsed, Double(skus) / elapsed))
case "rebuild":
    let path = option("database", "/tmp/shelf-bench-1m.sqlite")
    let start = ContinuousClock.now
    let ledger = Ledger(stores: .sqlite(try LedgerDatabase(path: path)))
    try await ledger.rebuildSnapshot()
    let elapsed = seconds(since: start)
    let count = ledger.snapshot.seller("demo")?.count ?? 0
    print(String(format: "rebuild skus=%d seconds=%.2f peakRSS=%.0fMiB RSS=%.0fMiB", count, elapsed, peakRSSMiB(), peakRSSMiB(current: true)))
case "apply":
    // The writer's cost per event on a store of any size: orders on random SKUs, submitted in batches of 50 by one producer
    // (synchronous=NORMAL, so the figure is the writer's CPU, not the disk's fsync), after the snapshot is rebuilt.
    let path = option("database", "/tmp/shelf-bench-1m.sqlite")
    let events = Int(option("events", "20000"))!
    let ledger = Ledger(stores: .sqlite(try LedgerDatabase(path: path, durability: .normal)))
    try await ledger.rebuildSnapshot()
    let skus = ledger.snapshot.seller("demo")!.allSKUIDs()
    var generator = SystemRandomNumberGenerator()
    let runID = UUID().uuidString.prefix(8)
    let start = ContinuousClock.now
    var submitted = 0
    while submitted < events {
        let batch = (0..<min(50, events - submitted)).map { j in
            Command(seller: "demo", source: "direct", key: "apply-\(runID)-\(submitted + j)",
                    draft: ShelfEvent(type: .orderConfirmed, sku: skus[Int.random(in: 0..<skus.count, using: &generator)], channel: "amazon",
                                      qty: 1, occurredAt: Date()))
        }
        _ = await ledger.submit(batch)
        submitted += batch.count
    }
    let elapsed = seconds(since: start)
    print(String(format: "apply skus=%d events=%d us/event=%.1f events/s=%.0f", skus.count, events, elapsed * 1e6 / Double(events),
                 Double(events) / elapsed))
default:
    print("usage: shelf-bench-ledger ingest|load|rebuild|apply [options]")
}
