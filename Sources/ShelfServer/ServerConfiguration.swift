import Foundation
import ShelfAutomation
import ShelfChannels
import ShelfCore
import ShelfCurl
import ShelfLedger
import ServiceLifecycle
import ShelfPostgres

/// Everything `shelf serve` can be told, filled from flags with environment fallbacks; tests build it directly.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// The SQLite file, or a `postgres://user@host:port/database` URL.
    public var databasePath: String
    /// Loaded into an empty database only.
    public var fixturesDirectory: String?
    public var durability: LedgerDatabase.Durability
    /// Largest request body accepted.
    public var maxBodyBytes: Int
    /// Most SKUs in one `POST /v1/offers:batch`.
    public var maxBatchSKUs: Int
    /// Time constant τ of the exponentially decayed sales counts behind every rate (seconds).
    public var salesWindow: TimeInterval
    /// Retries and timeouts of channel pushes.
    public var pushPolicy: PushPolicy
    /// Where rule notifications are POSTed (JSON); none when nil.
    public var notifyURL: String?
    /// Demand-spike thresholds.
    public var spikePolicy: DemandSpikeMonitor.Policy
    /// `Host` values `/mcp` accepts (`name:*` allows any port), guarding against DNS rebinding; Origins are derived from them.
    public var mcpAllowedHosts: [String]
    /// Serve HTTPS with this certificate and key instead of plain HTTP.
    public var tls: TLSFiles?
    /// Bytes the read caches (encoded offers, delivery plans and answers) hold at most, together.
    public var readCacheBytes = ReadCaches.defaultBudget
    /// Serve each connection from its event loop, answering the hot reads there and moving every other route off it
    /// (`EventLoopExecution`); off: every request runs on the cooperative pool, as Hummingbird does by default.
    public var readsOnEventLoop = false
    /// Limits of agents' watches and retries of their deliveries.
    public var watchPolicy: WatchPolicy
    /// Where the snapshot checkpoint lives (beside the database by default), or off.
    public var snapshotCheckpoint = SnapshotCheckpointLocation.besideDatabase
    /// When the background writer takes a new checkpoint.
    public var checkpointPolicy = SnapshotCheckpointer.Policy()
    public var clock: any WallClock

    public init(
        host: String = "127.0.0.1", port: Int = 8080, databasePath: String = "./data/shelf.sqlite", fixturesDirectory: String? = nil,
        durability: LedgerDatabase.Durability = .full, maxBodyBytes: Int = 1 << 20, maxBatchSKUs: Int = 500, salesWindow: TimeInterval = 300,
        pushPolicy: PushPolicy = PushPolicy(), notifyURL: String? = nil, clock: any WallClock = SystemWallClock()
    ) {
        self.notifyURL = notifyURL
        spikePolicy = DemandSpikeMonitor.Policy()
        mcpAllowedHosts = ["127.0.0.1:*", "localhost:*", "[::1]:*"]
        watchPolicy = WatchPolicy()
        self.pushPolicy = pushPolicy
        self.host = host
        self.port = port
        self.databasePath = databasePath
        self.fixturesDirectory = fixturesDirectory
        self.durability = durability
        self.maxBodyBytes = maxBodyBytes
        self.maxBatchSKUs = maxBatchSKUs
        self.salesWindow = salesWindow
        self.clock = clock
    }
}

/// Where `shelf serve` keeps its snapshot checkpoint (`--snapshot-checkpoint PATH|off`, env `SHELF_SNAPSHOT_CHECKPOINT`).
public enum SnapshotCheckpointLocation: Sendable, Equatable {
    /// `<database>.snapshot`.
    case besideDatabase
    case path(String)
    case off

    /// `off`, a path, or nothing/empty for the default.
    public init(_ text: String?) {
        switch text?.trimmingCharacters(in: .whitespaces) {
        case nil, "": self = .besideDatabase
        case "off": self = .off
        case let path?: self = .path(path)
        }
    }

    /// The file for the database at `databasePath`, or nil when checkpoints are off.
    public func path(database databasePath: String) -> String? {
        switch self {
        // A node on PostgreSQL has no file of its own to sit beside: give it a path to use one.
        case .besideDatabase: PostgresURL.isPostgres(databasePath) ? nil : databasePath + ".snapshot"
        case .path(let path): path
        case .off: nil
        }
    }
}

/// The PEM files `shelf serve --tls-cert/--tls-key` serves HTTPS with.
public struct TLSFiles: Sendable, Equatable {
    /// The server certificate, followed by any intermediates (PEM).
    public var certificateChainPath: String
    /// The certificate's private key (PEM, unencrypted).
    public var privateKeyPath: String

    public init(certificateChainPath: String, privateKeyPath: String) {
        self.certificateChainPath = certificateChainPath
        self.privateKeyPath = privateKeyPath
    }
}

/// The shared parts every route uses, built once at start and passed by constructor.
public struct ShelfEnvironment: Sendable {
    public let configuration: ServerConfiguration
    public let ledger: Ledger
    /// The database every store is on (closed by `close()`).
    public let database: OpenDatabase
    public let tokens: TokenStore
    public let pulses: ChannelPulseBoard
    public let velocity: SalesVelocity
    public let startedAt: Date
    /// Outbound HTTP (pushes, order lookups) over libcurl.
    public let curl: CurlClient
    public let propagator: ConnectionRegistry
    public let webhooks: WebhookIngestor
    public let deadLetters: DeadLetterQueue
    public let reconciler: Reconciler
    public let rules: any RuleStore
    public let ruleEngine: RuleEngine
    public let spikes: DemandSpikeMonitor
    public let metrics: ShelfMetrics
    /// Answers computed once per change (offers, delivery), reused until the SKU, the catalog or the clock changes them.
    public let reads: ReadCaches
    /// Agents' watches, and the service that delivers them.
    public let watches: any WatchStore
    public let watchDelivery: WatchDeliveryService
    /// Stateful MCP sessions (resource subscriptions).
    let mcpSessions: MCPSessions
    /// Whether this node runs the singletons (always, on a SQLite file; on PostgreSQL while it holds the cluster's lock).
    public let role: NodeRole
    /// Loads the snapshot from a checkpoint file and keeps it fresh; nil when checkpoints are off.
    public let checkpoints: SnapshotCheckpointer?

    public var snapshot: Snapshot { ledger.snapshot }
    public var clock: any WallClock { configuration.clock }

    /// Opens the database and wires every part (velocity, pulses, services). With `load` (tests, one-shot tools) it also builds
    /// the snapshot and loads fixtures before returning; `shelf serve` passes false and runs `StartupLoader` as the first
    /// service instead, so the server answers `/livez` and `/readyz` while the snapshot is built.
    public static func open(_ configuration: ServerConfiguration, load: Bool = true) async throws -> ShelfEnvironment {
        let database = try await OpenDatabase.open(configuration.databasePath, durability: configuration.durability)
        let stores = database.stores
        let ledger = Ledger(stores: stores, clock: configuration.clock)
        let pulses = ChannelPulseBoard()
        let curl = CurlClient()
        let metrics = ShelfMetrics()
        let reads = ReadCaches(budget: configuration.readCacheBytes)
        let velocity = SalesVelocity(prior: DemandPrior(decay: configuration.salesWindow),
                                     retention: configuration.spikePolicy.baseline + configuration.spikePolicy.window,
                                     origin: configuration.clock.now())
        let env = ShelfEnvironment(
            configuration: configuration, ledger: ledger, database: database, tokens: TokenStore(records: stores.tokens, clock: configuration.clock),
            pulses: pulses, velocity: velocity, startedAt: configuration.clock.now(),
            curl: curl,
            propagator: ConnectionRegistry(ledger: ledger, curl: curl, pulses: pulses, velocity: velocity, policy: configuration.pushPolicy,
                                   onDelivered: { metrics.delivered(connection: $0, lag: $1) }),
            webhooks: WebhookIngestor(ledger: ledger, curl: curl, pulses: pulses), deadLetters: DeadLetterQueue(store: stores.pushQueue),
            reconciler: Reconciler(ledger: ledger, curl: curl, pulses: pulses), rules: stores.rules,
            ruleEngine: RuleEngine(ledger: ledger, store: stores.rules, outbox: stores.notifications, curl: curl, notifyURL: configuration.notifyURL),
            spikes: DemandSpikeMonitor(ledger: ledger, velocity: velocity, policy: configuration.spikePolicy), metrics: metrics,
            reads: reads,
            watches: stores.watches,
            watchDelivery: WatchDeliveryService(ledger: ledger, store: stores.watches, curl: curl, velocity: velocity, pulses: pulses,
                                                reads: reads, knownSince: configuration.clock.now(), policy: configuration.watchPolicy,
                                                onDelivered: { metrics.watchDelivered(lag: $0) }),
            mcpSessions: MCPSessions(),
            role: NodeRole(leading: database.postgres == nil),
            checkpoints: configuration.snapshotCheckpoint.path(database: configuration.databasePath).map {
                SnapshotCheckpointer(path: $0, ledger: ledger, policy: configuration.checkpointPolicy)
            }
        )
        env.ruleEngine.connect(propagator: env.propagator, reconciler: env.reconciler, spikes: env.spikes)
        ledger.snapshot.observe { events in
            let velocity = env.velocity
            metrics.ingested(events)
            for e in events {
                guard e.event.sku != nil else { continue }
                velocity.apply(e)
                if e.source == "direct", let channel = e.event.channel {
                    pulses.heard(seller: e.seller, channel: channel, source: "direct", at: e.recordedAt)
                }
            }
        }
        if load { try await env.loadSnapshot() }
        return env
    }

    /// Builds the snapshot from the ledger, loads the fixtures into an empty database, makes the pulse board know every
    /// connection, then marks the snapshot ready. Throws `RebuildStopped` when `snapshot.progress.stop()` is called meanwhile.
    public func loadSnapshot() async throws {
        // The stores' reads never block this task: SQLite's run on GRDB's own queues, PostgreSQL's are network reads.
        // From the checkpoint file when it is intact and current (else a rebuild, and a fresh checkpoint once ready).
        if let checkpoints { try await checkpoints.load() } else { try await ledger.rebuildSnapshot(markReady: false) }
        // Sales rates and channel delays from the ledger's recent orders (before the fixtures, which the observer counts).
        try await velocity.rebuild(from: ledger, now: clock.now())
        if let fixtures = configuration.fixturesDirectory {
            let loader = FixtureLoader(ledger: ledger)
            if try await loader.databaseIsEmpty() {
                try await loader.load(directory: URL(fileURLWithPath: fixtures))
            }
        }
        try await registerConnections()
        snapshot.markReady()
    }

    /// Closes the database (after the server and its services stopped).
    public func close() async {
        await database.close()
    }

    /// Makes the pulse board know every connection.
    public func registerConnections() async throws {
        for seller in try await ledger.sellerIDs() {
            for c in try await ledger.connections(seller: seller) { pulses.register(seller: seller, connection: c.id, channel: c.channel) }
        }
    }

    /// The long-running parts beside the HTTP server, in start order (shutdown runs in reverse).
    /// On a SQLite file every service runs here. On PostgreSQL the node tails what the other nodes write
    /// (`PostgresChangeTail`), and the singletons — push workers, reconciler, rule engine, spike monitor, watch deliveries,
    /// reservation sweeper — run only while it holds the cluster's lock (`PostgresLeadership`).
    public var services: [any Service] {
        let singletons: [any Service] = [propagator, reconciler, ruleEngine, spikes, watchDelivery, ReservationSweeper(ledger: ledger)]
        guard let postgres = database.postgres else { return checkpointService + [curl] + singletons }
        let env = self
        let tail = PostgresChangeTail(configuration: postgres.url.connectionConfiguration, client: postgres.client, ledger: ledger) { change in
            await env.apply(change)
        }
        let leadership = PostgresLeadership(configuration: postgres.url.connectionConfiguration, onLeading: { env.role.set($0) }) {
            singletons
        }
        return checkpointService + [curl, tail, leadership]
    }

    /// The checkpoint writer, first so that it stops last (its final checkpoint follows everything the others applied).
    var checkpointService: [any Service] { checkpoints.map { [SnapshotCheckpointService($0)] } ?? [] }

    /// The offer builder for a seller at the current instant.
    func offerBuilder(_ seller: SellerSnapshot) -> OfferBuilder {
        OfferBuilder(catalog: seller.catalog, pulses: pulses.pulses(seller: seller.id), knownSince: startedAt, now: clock.now())
    }
}
