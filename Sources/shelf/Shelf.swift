import ArgumentParser
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import ShelfCore
import ShelfChannels
import ShelfLedger
import ShelfPostgres
import ShelfRules
import ShelfServer

/// The `shelf` command line: serve, tokens, import, audit, fixtures.
@main
struct Shelf: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shelf",
        abstract: "One truthful, fresh source of stock, price and delivery for every sales channel.",
        subcommands: [Serve.self, SellerCommand.self, TokenCommand.self, Import.self, Audit.self, Fixtures.self, Rules.self, DLQ.self]
    )
}

/// Options shared by commands that open the database.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: "SQLite database file, or a PostgreSQL database as postgres://user[:password]@host[:port]/database (env SHELF_DATABASE).")
    var database: String = ProcessInfo.processInfo.environment["SHELF_DATABASE"] ?? "./data/shelf.sqlite"

    /// A `postgres://` URL must name a host, a user and a database (it is never taken for a file path).
    func validate() throws {
        guard PostgresURL.isPostgres(database) else { return }
        do {
            _ = try PostgresURL(database)
        } catch let error as PostgresURL.Invalid {
            throw ValidationError(error.description)
        }
    }

    /// Opens the database; a PostgreSQL server that cannot be used, or a schema newer than this binary, ends the command
    /// with that one sentence on stderr and exit status 1.
    func open() async throws -> OpenDatabase {
        do {
            return try await OpenDatabase.open(database)
        } catch let error as PostgresUnavailable {
            throw DatabaseFailure(description: error.description)
        } catch let error as PostgresSchema.TooNewError {
            throw DatabaseFailure(description: error.description)
        }
    }

    /// Opens the database and runs `body` with a ledger on it (its snapshot not built), closing the database afterwards.
    func withLedger<T>(_ body: (Ledger) async throws -> T) async throws -> T {
        let database = try await open()
        do {
            let value = try await body(Ledger(stores: database.stores))
            await database.close()
            return value
        } catch {
            await database.close()
            throw error
        }
    }
}

/// The database named by `--database` cannot be used: printed as its one sentence, exit status 1.
struct DatabaseFailure: Error, CustomStringConvertible {
    var description: String
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the Shelf server.")

    @Option(help: "Address to bind (env SHELF_HOST).")
    var host: String = ProcessInfo.processInfo.environment["SHELF_HOST"] ?? "127.0.0.1"
    @Option(help: "Port (env SHELF_PORT).")
    var port: Int = Int(ProcessInfo.processInfo.environment["SHELF_PORT"] ?? "") ?? 8080
    @OptionGroup var db: DatabaseOptions
    @Option(help: "Fixtures directory loaded into an empty database.")
    var fixtures: String?
    @Option(help: "URL that rule notifications are POSTed to (env SHELF_NOTIFY_URL).")
    var notifyURL: String? = ProcessInfo.processInfo.environment["SHELF_NOTIFY_URL"]
    @Option(help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = ProcessInfo.processInfo.environment["SHELF_LOG_LEVEL"] ?? "info"
    @Option(name: .customLong("mcp-allowed-host"),
            help: "A Host that /mcp accepts, e.g. shelf.example.com or shelf.internal:* (repeatable; env SHELF_MCP_ALLOWED_HOSTS, comma-separated). Loopback names are always allowed.")
    var mcpAllowedHosts: [String] = (ProcessInfo.processInfo.environment["SHELF_MCP_ALLOWED_HOSTS"] ?? "")
        .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    @Option(help: "Answer the hot reads (GET offers, stock, prices, delivery of one SKU) on the connection's event loop: on or off (env SHELF_READS_ON_EVENT_LOOP).")
    var readsOnEventLoop: String = ProcessInfo.processInfo.environment["SHELF_READS_ON_EVENT_LOOP"] ?? "off"

    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain: serve HTTPS instead of HTTP (with --tls-key; env SHELF_TLS_CERT).")
    var tlsCertificate: String? = ProcessInfo.processInfo.environment["SHELF_TLS_CERT"]
    @Option(name: .customLong("tls-key"), help: "PEM private key of --tls-cert (env SHELF_TLS_KEY).")
    var tlsKey: String? = ProcessInfo.processInfo.environment["SHELF_TLS_KEY"]

    @Option(help: "Snapshot checkpoint file that makes a restart fast: a path, or off (env SHELF_SNAPSHOT_CHECKPOINT; default: the SQLite path + .snapshot; none on PostgreSQL).")
    var snapshotCheckpoint: String = ProcessInfo.processInfo.environment["SHELF_SNAPSHOT_CHECKPOINT"] ?? ""

    @Option(help: "Push pacing: published (each channel's published rate limits) or unpaced (only the channel's 429s; env SHELF_PUSH_PACING).")
    var pushPacing: String = ProcessInfo.processInfo.environment["SHELF_PUSH_PACING"] ?? PushPolicy.Pacing.published.rawValue

    func validate() throws {
        if (tlsCertificate == nil) != (tlsKey == nil) {
            throw ValidationError("--tls-cert and --tls-key go together: give both to serve HTTPS, or neither for plain HTTP.")
        }
        guard ["on", "off"].contains(readsOnEventLoop) else { throw ValidationError("--reads-on-event-loop must be on or off") }
        guard PushPolicy.Pacing(rawValue: pushPacing) != nil else {
            throw ValidationError("--push-pacing must be one of: \(PushPolicy.Pacing.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() async throws {
        LoggingSystem.bootstrap { ShelfLogHandler(label: $0) }
        var logger = Logger(label: "shelf")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        var config = ServerConfiguration(host: host, port: port, databasePath: db.database, fixturesDirectory: fixtures,
                                         notifyURL: notifyURL)
        config.mcpAllowedHosts += mcpAllowedHosts
        // Watch deliveries go to loopback targets only from a server that listens on loopback itself.
        config.watchPolicy.allowLoopbackTargets = WatchPolicy.allowsLoopbackTargets(listeningOn: host)
        if let tlsCertificate, let tlsKey {
            let files = TLSFiles(certificateChainPath: tlsCertificate, privateKeyPath: tlsKey)
            do {
                try files.check()
            } catch let error as TLSFileError {
                throw ValidationError(error.description)  // exit 64 with the sentence, before the database is opened
            }
            config.tls = files
        }
        config.readsOnEventLoop = readsOnEventLoop == "on"
        config.snapshotCheckpoint = SnapshotCheckpointLocation(snapshotCheckpoint)
        config.pushPolicy.pacing = PushPolicy.Pacing(rawValue: pushPacing) ?? .published
        // The server listens at once; the snapshot is built by the first service (`/readyz` says 503 with progress until then).
        let env: ShelfEnvironment
        do {
            env = try await ShelfEnvironment.open(config, load: false)
        } catch let error as PostgresUnavailable {
            throw DatabaseFailure(description: error.description)
        } catch let error as PostgresSchema.TooNewError {
            throw DatabaseFailure(description: error.description)
        }
        let loader = StartupLoader(env: env, logger: logger, terminal: isatty(2) == 1)
        let (boundHost, boundPort) = (config.host, config.port)
        let scheme = config.tls == nil ? "http" : "https"
        let app = try ShelfApplication.buildApplication(env, services: [loader] + env.services, logger: logger) { _ in
            print("Shelf listening on \(scheme)://\(boundHost):\(boundPort)")
            fflush(nil)
        }
        try await app.runService()
        await env.close()
    }
}

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "token", abstract: "Manage bearer tokens.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token and print it alone on stdout.")
        @OptionGroup var db: DatabaseOptions
        @Option(help: "Seller id (the seller may be created later, e.g. by --fixtures on the first serve).") var seller: String?
        @Flag(help: "A platform-operator token (scope platform: create and list sellers) instead of a seller's.") var platform = false
        @Option(help: "Comma-separated scopes: read, ingest, admin (a platform token has the platform scope only).") var scopes: String = "read"
        @Option(help: "Lifetime, e.g. 30m, 1h, 7d (default: no expiry).") var ttl: String?
        @Option(help: "A label to recognise the token by.") var label: String?

        func run() async throws {
            var parsed: [Scope] = []
            let owner: String
            if platform {
                guard seller == nil else { throw ValidationError("a platform token belongs to no seller: give --platform or --seller, not both") }
                owner = TokenInfo.platformSeller
                parsed = [.platform]
            } else {
                guard let seller, SellerFixture.isSellerID(seller) else {
                    throw ValidationError("give --seller ID (a–z, 0–9, '-', '_') or --platform")
                }
                owner = seller
                for s in scopes.split(separator: ",") {
                    guard let scope = Scope(rawValue: s.trimmingCharacters(in: .whitespaces)), Scope.sellerScopes.contains(scope) else {
                        throw ValidationError("unknown scope \(s); use read, ingest, admin (or --platform for the operator's token)")
                    }
                    parsed.append(scope)
                }
            }
            var seconds: TimeInterval?
            if let ttl {
                guard let s = Duration.parse(ttl) else { throw ValidationError("ttl must look like 30m, 1h or 7d") }
                seconds = s
            }
            let (_, token) = try await db.withLedger { ledger in
                try await TokenStore(records: ledger.stores.tokens, clock: SystemWallClock()).create(
                    seller: owner, scopes: parsed, ttl: seconds, label: label
                )
            }
            print(token)
        }
    }
}

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import catalog and stock from JSON Lines, a JSON array or CSV into the database (server stopped).",
        discussion: "CSV columns: sku,productId,title,price,currency[,location,onHand,safetyStock,barcode,tags]. Price in minor units."
    )
    @OptionGroup var db: DatabaseOptions
    @Option(help: "Seller id.") var seller: String = "demo"
    @Argument(help: "File to import (.jsonl, .json or .csv).") var file: String

    func run() async throws {
        try await db.withLedger { ledger in try await run(ledger) }
    }

    func run(_ ledger: Ledger) async throws {
        try await ledger.rebuildSnapshot()
        guard ledger.snapshot.seller(seller) != nil else { throw ValidationError("unknown seller \(seller); load fixtures or create it first") }
        let lines = try CatalogFileReader.read(URL(fileURLWithPath: file), locations: ledger.snapshot.seller(seller)!.catalog.locations.map(\.id))
        let terminal = isatty(2) == 1
        let total = lines.count
        var done = 0
        var failures: [String] = []
        for chunk in stride(from: 0, to: lines.count, by: 1000).map({ Array(lines[$0..<min(lines.count, $0 + 1000)]) }) {
            let commands = chunk.map { Command(seller: seller, source: "import", draft: FixtureLoader.upsert($0, at: Date())) }
            for (line, result) in zip(chunk, await ledger.submit(commands)) {
                if case .failure(let error) = result { failures.append("\(line.item.sku): \(error)") }
            }
            done += chunk.count
            if terminal { TerminalProgress.draw("", done: done, total: total) }
        }
        if terminal { TerminalProgress.finish() }
        print("imported \(total - failures.count) of \(total) SKUs into seller \(seller); \(failures.count) failed")
        for f in failures.prefix(20) { print("  \(f)") }
        if !failures.isEmpty { throw ExitCode(1) }
    }
}

struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a SKU's history from the ledger.")
    @OptionGroup var db: DatabaseOptions
    @Option(help: "Seller id.") var seller: String = "demo"
    @Option(help: "SKU.") var sku: String?
    @Option(help: "Most events to print.") var limit: Int = 100

    func run() async throws {
        let events = try await db.withLedger { ledger in try await ledger.events(seller: seller, sku: sku, limit: limit) }
        for e in events {
            var parts = ["#\(e.sequence)", Timestamp.format(e.recordedAt), e.event.type.rawValue]
            if let s = e.event.sku { parts.append(s) }
            if let q = e.event.qty { parts.append("qty=\(q)") }
            if let l = e.event.location { parts.append("location=\(l)") }
            if let c = e.event.channel { parts.append("channel=\(c)") }
            if let p = e.event.price { parts.append("price=\(p.decimalString) \(p.currency)") }
            parts.append("source=\(e.source)")
            if let r = e.event.ruleId { parts.append("rule=\(r)") }
            print(parts.joined(separator: "  "))
        }
    }
}

struct Fixtures: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Fixtures.", subcommands: [Generate.self])

    struct Generate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a deterministic fixtures directory with N SKUs.")
        @Option(help: "Number of SKUs.") var skus: Int = 200
        @Option(help: "Output directory.") var out: String
        @Option(help: "Random seed.") var seed: UInt64 = 42
        @Option(help: "Base URL of shelf-sim for the demo connections.") var simulator: String = "http://127.0.0.1:9090"

        func run() async throws {
            guard skus > 0 else { throw ValidationError("skus must be positive") }
            try FixtureGenerator(skuCount: skus, seed: seed, simulatorURL: simulator).write(to: URL(fileURLWithPath: out))
            print("wrote \(skus) SKUs to \(out)")
        }
    }
}

extension Duration {
    /// Parses `90s`, `30m`, `1h`, `7d` into seconds.
    static func parse(_ text: String) -> TimeInterval? {
        guard let unit = text.last, let n = Double(text.dropLast()), n > 0 else { return nil }
        switch unit {
        case "s": return n
        case "m": return n * 60
        case "h": return n * 3600
        case "d": return n * 86_400
        default: return nil
        }
    }
}

struct Rules: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Plain-English rules.", subcommands: [Check.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Parse a sentence: print the canonical rule, or the error with a caret under the offending word.",
            discussion: "Uses the demo seller's vocabulary unless --database names a database with the seller."
        )
        @Option(help: "Database whose seller vocabulary to use (default: the demo catalog).") var database: String?
        @Option(help: "Seller id.") var seller: String = "demo"
        @Argument(help: "The sentence.") var text: String

        func run() async throws {
            var catalog = RuleCatalog.demo
            if let database {
                let options = try DatabaseOptions.parse(["--database", database])
                catalog = try await options.withLedger { ledger in
                    try await ledger.rebuildSnapshot()
                    guard let snapshot = ledger.snapshot.seller(seller) else { throw ValidationError("unknown seller \(seller)") }
                    return RulesCatalogBuilder.catalog(seller: snapshot, fixture: try await ledger.sellerFixture(seller),
                                                       currency: try await ledger.sellerSettings(seller)?.currency ?? "USD")
                }
            }
            let result = RuleParser.parse(text, catalog: catalog)
            if result.ok, let rule = result.rule {
                print(try RuleJSON.canonicalString(rule))
                if let explain = result.explain { print(explain) }
            } else if let error = result.error {
                print(error.caretDiagram(for: text))
                throw ExitCode(1)
            }
        }
    }
}

struct DLQ: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dlq", abstract: "Dead-lettered channel pushes.", subcommands: [List.self, Replay.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List dead letters.")
        @OptionGroup var db: DatabaseOptions
        @Option(help: "Seller id.") var seller: String = "demo"

        func run() async throws {
            let letters = try await db.withLedger { ledger in try await DeadLetterQueue(store: ledger.pushQueue).list(seller: seller) }
            for l in letters {
                print("#\(l.id)  \(Timestamp.format(l.failedAt))  \(l.connection)  \(l.sku)  attempts=\(l.attempts)  \(l.lastError)")
            }
            print("\(letters.count) dead letter(s)")
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put dead letters back in line (all, or one by id); a running server pushes them.")
        @OptionGroup var db: DatabaseOptions
        @Option(help: "Seller id.") var seller: String = "demo"
        @Argument(help: "Dead letter id (all when omitted).") var id: Int64?

        func run() async throws {
            try await db.withLedger { ledger in
                let queue = DeadLetterQueue(store: ledger.pushQueue)
                if let id {
                    guard try await queue.replay(id: id, seller: seller) else { throw ValidationError("no dead letter \(id)") }
                    print("replayed 1")
                } else {
                    print("replayed \(try await queue.replayAll(seller: seller))")
                }
            }
        }
    }
}
