import Foundation
import MCP
import ShelfCore
import ShelfLedger
import Synchronization

/// Stateful MCP sessions (Streamable HTTP with `Mcp-Session-Id`): what `resources/subscribe` needs. A client that accepts
/// `text/event-stream` and sends `initialize` gets a session; its `GET /mcp` stream carries `notifications/resources/updated`
/// for the offers it subscribed to, from the change feed. A session belongs to the token that created it, ends on `DELETE`,
/// and is dropped after `idleTimeout` without a request. At most `capacity` sessions live at once.
final class MCPSessions: Sendable {
    let capacity: Int
    let idleTimeout: Duration
    private let sessions = Mutex<[String: MCPSession]>([:])

    init(capacity: Int = 256, idleTimeout: Duration = .seconds(1800)) {
        self.capacity = capacity
        self.idleTimeout = idleTimeout
    }

    /// The live session with this id for this token (nil for another token's session: it is not revealed).
    func session(_ id: String, token: TokenInfo) -> MCPSession? {
        guard let session = sessions.withLock({ $0[id] }), session.token.id == token.id else { return nil }
        session.touch()
        return session
    }

    /// Registers a new session; false when `capacity` sessions are live after the idle ones were dropped.
    func add(_ session: MCPSession) async -> Bool {
        let now = ContinuousClock.now
        let (idle, added) = sessions.withLock { map -> ([MCPSession], Bool) in
            let idle = map.values.filter { now - $0.lastUsed > idleTimeout }
            for s in idle { map.removeValue(forKey: s.id) }
            guard map.count < capacity else { return (idle, false) }
            map[session.id] = session
            return (idle, true)
        }
        for s in idle { await s.close() }
        return added
    }

    /// Ends a session (its `DELETE`, or the end of the server).
    func remove(_ id: String) async {
        guard let session = sessions.withLock({ $0.removeValue(forKey: id) }) else { return }
        await session.close()
    }

    var count: Int { sessions.withLock { $0.count } }
}

/// Hands the transport the session id the registry already knows.
struct PresetSessionID: SessionIDGenerator {
    let id: String
    func generateSessionID() -> String { id }
}

/// One MCP session: its transport and server, the offers it subscribed to, and the task that tells it when they change.
final class MCPSession: Sendable {
    let id: String
    let token: TokenInfo
    let transport: StatefulHTTPServerTransport
    let feed: ChangeFeed
    /// Most resources one session may subscribe to.
    static let maxSubscriptions = 1000
    private let server = Mutex<Server?>(nil)
    private let subscribed = Mutex<Set<String>>([])
    private let watcher = Mutex<Task<Void, Never>?>(nil)
    private let used = Mutex(ContinuousClock.now)

    init(id: String, token: TokenInfo, transport: StatefulHTTPServerTransport, feed: ChangeFeed) {
        self.id = id
        self.token = token
        self.transport = transport
        self.feed = feed
    }

    var lastUsed: ContinuousClock.Instant { used.withLock { $0 } }
    func touch() { used.withLock { $0 = .now } }

    func start(_ server: Server) async throws {
        self.server.withLock { $0 = server }
        try await server.start(transport: transport)
    }

    /// Subscribes to a SKU's offer; the first subscription starts reading the change feed.
    func subscribe(sku: String) throws {
        let count = try subscribed.withLock { set -> Int in
            guard set.count < Self.maxSubscriptions || set.contains(sku) else {
                throw Problem(.validation, detail: "at most \(Self.maxSubscriptions) subscriptions per session", field: "uri")
            }
            set.insert(sku)
            return set.count
        }
        if count == 1 { startWatching() }
    }

    func unsubscribe(sku: String) { _ = subscribed.withLock { $0.remove(sku) } }

    var subscriptions: Set<String> { subscribed.withLock { $0 } }

    private func startWatching() {
        watcher.withLock { task in
            guard task == nil else { return }
            let events = feed.subscribe(maxBatch: 1024)
            let seller = token.seller
            task = Task { [weak self] in
                for await batch in events {
                    guard let self else { return }
                    let wanted = self.subscriptions
                    var changed: [String] = []
                    for e in batch where e.seller == seller {
                        if let sku = e.event.sku, wanted.contains(sku), !changed.contains(sku) { changed.append(sku) }
                    }
                    guard let server = self.server.withLock({ $0 }) else { continue }
                    for sku in changed {
                        try? await server.notify(ResourceUpdatedNotification.message(.init(uri: MCPToolbox.offerURI(sku))))
                    }
                }
            }
        }
    }

    /// Stops the feed reader and the server; the transport ends the session's streams.
    func close() async {
        watcher.withLock { $0 }?.cancel()
        if let server = server.withLock({ $0 }) { await server.stop() }
        await transport.disconnect()
    }
}
